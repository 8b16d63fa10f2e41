"""The fuzzer's triaged findings, per engine, as data: the deviations already looked into, what they are and how to
reproduce them without this suite.

An engine's findings file (:attr:`~backends.Backend.findings_file`; the shipped adapters' are
``backends/findings/<engine>.json``, torch's applying to the backends made of it) maps a finding's name to an
object::

    {"i0-at-zero": {
        "signatures": ["i0|reverse-vs-torch|gradient", "i0|second-order|hessian-vector"],
        "triage": "engine-bug",
        "reason": "jax.grad(jax.scipy.special.i0)(0.0) is 1.0 where i0'(0) = i1(0) = 0 ...",
        "observed": {"jax": "0.10.2"},
        "reproduction": "jax/i0_at_zero.py"}}

- ``signatures``: the minimal deviations it covers (``OPERATOR>...|ORACLE|KIND``, as the records sign them); each
  explains a deviation as a recorded deviation explains a longer one (:meth:`.signatures.Signature.explains`): a
  finding on ``prod-dim`` covers ``erf>prod-dim`` with the same oracle and kind. Several signatures cover the
  operators and oracles of one cause.
- ``triage``: what it is, one of :data:`TRIAGE`.
- ``reason``: the observed behaviour, in words.
- ``observed``: the distributions and versions it was observed on (``{"jax": "0.10.2"}``): a record, not a
  condition. A release that fixes it no longer meets it, and a run that does not meet a finding is no error (a
  random budget is no evidence of absence).
- ``reproduction``: a standalone script in the engine's own code (it imports the engine, NumPy, ``math`` and
  ``sys`` only, never this suite), relative to the file's folder (``jax/i0_at_zero.py``): it prints the observed and
  the expected values and exits 1 while the behaviour is there, 0 once it is gone; what an upstream report needs.
  Required for an engine bug.
- ``fails_in``: the check of the specs its deviations fall in (``float64``: off by more than float64's error model but
  within float32's, ``forward-mode``, ``second-order``; as a known failure's), where it is one: a deviation in
  another check (a wrong first-order gradient of the same operator) is not this finding's.
- ``figures``: the figures a deviation it explains has, each the same (``{"shape": [1], "expected_shape": []}``: a
  0-d result that comes back of shape ``(1,)``). A signature whose chain is ``*`` explains every chain with its
  oracle and kind, so a finding with one must name its figures: an engine with no 0-d tensors is one finding,
  ``*|reverse-vs-torch|forward-shape``, not one per operator, and a result of another wrong shape is not its.
- ``known_failures``: the spec IDs of the engine's known-failures file whose cause it is, listed in that file
  (required for a finding of triage ``known-failure``; an engine bug a spec was written for names that spec, and
  its reproduction is the known failure's).

The command (``python -m conformance.fuzz``) lists the deviations a finding explains as known findings, with its
reason and reproduction, and exits 1 for the others only; the pytest entry (:mod:`.items`) reports an item whose
every deviation a finding explains as a known failure with the findings' reasons. A malformed file is a usage error
naming the file and the entry, as a malformed known-failures file is (:mod:`conformance.known_failures`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import pytest
from packaging.version import InvalidVersion, Version

from backends import Backend
from conformance import checks, known_failures, user_files
from conformance.operator_catalogue import CATALOGUE

from .signatures import ANY, CRASHED, Signature

#: where the shipped findings files lie, one per engine: ``<engine>.json``
FINDINGS = Path(__file__).resolve().parent.parent.parent / "backends" / "findings"
#: a finding's triage -> what it means
TRIAGE = {
    "engine-bug": "engine bug",
    "api-gap": "API gap: the engine refuses a form of torch's API the program uses, no wrong result",
    "accepted-difference": "accepted difference: the engine differs from torch by design",
    "known-failure": "the cause of known failures of the engine's specs",
}
#: the triage whose findings need a reproduction script
ENGINE_BUG = "engine-bug"
#: the triage whose findings name the known failures they are the cause of
KNOWN_FAILURE = "known-failure"
#: the keys a finding has: required, then optional
REQUIRED = ("signatures", "triage", "reason", "observed")
OPTIONAL = ("reproduction", "known_failures", "fails_in", "figures")
#: the findings of each backend of a pytest run (``--fuzz-findings``, else the shipped ones)
STASH = pytest.StashKey[dict[str, "Findings"]]()

Explained = TypeVar("Explained")


@dataclass(frozen=True)
class KnownFinding:
    name: str
    signatures: tuple[Signature, ...]
    triage: str
    reason: str
    observed: dict[str, str]
    reproduction: Path | None = None
    known_failures: tuple[str, ...] = ()
    fails_in: str | None = None
    figures: dict[str, Any] | None = None

    def explains(self, signature: str, check: str = "", figures: dict | None = None) -> bool:
        """Whether a deviation of ``signature``, in the specs' ``check``, with ``figures``, is this finding's (one of
        its signatures explains it, in the check the finding fails in where it names one, with the figures it names
        where it names some)."""
        if self.fails_in is not None and check != self.fails_in:
            return False
        if self.figures is not None and any((figures or {}).get(key) != value for key, value in self.figures.items()):
            return False
        deviation = Signature.parse(signature)
        return any(mine.explains(deviation) for mine in self.signatures)

    @property
    def heading(self) -> str:
        """``i0-at-zero (engine-bug, observed on jax 0.10.2)``."""
        observed = ", ".join(f"{name} {version}" for name, version in self.observed.items())
        return f"{self.name} ({self.triage}, observed on {observed})"

    @property
    def references(self) -> list[str]:
        """Its reproduction (``reproduction: backends/findings/jax/i0_at_zero.py``) and known failures."""
        references = [f"reproduction: {known_failures.shown_path(self.reproduction)}"] if self.reproduction else []
        return references + ([f"known failures: {', '.join(self.known_failures)}"] if self.known_failures else [])

    def describe(self) -> str:
        """The heading, the reason and the references on one line."""
        return f"{self.heading}: {self.reason}" + "".join(f" ({reference})" for reference in self.references)


@dataclass(frozen=True)
class Findings:
    """The findings of one engine and the file they came from (None: the engine has no findings file)."""

    path: Path | None = None
    findings: tuple[KnownFinding, ...] = ()

    def explaining(self, signature: str, check: str = "", figures: dict | None = None) -> KnownFinding | None:
        """The finding that explains a deviation of ``signature`` in ``check`` with ``figures``, if one does (the
        first in the file)."""
        return next((finding for finding in self.findings if finding.explains(signature, check, figures)), None)

    @property
    def crashes(self) -> list[Signature]:
        """The signatures of the known crashes (kind ``crashed``), which the fuzzer does not run again
        (:mod:`.crashes`)."""
        return [signature for finding in self.findings for signature in finding.signatures if signature.kind == CRASHED]

    def split(self, deviations: dict[str, Explained]) -> tuple[dict[str, list[Explained]], dict[str, Explained]]:
        """``deviations`` (signature -> deviation) as those a finding explains, by finding name in the file's order,
        and the new ones."""
        met: dict[str, list[Explained]] = {}
        new: dict[str, Explained] = {}
        for signature, deviation in deviations.items():
            if (finding := self.explaining(signature, deviation.finding.check, deviation.finding.figures)) is None:
                new[signature] = deviation
            else:
                met.setdefault(finding.name, []).append(deviation)
        order = [finding.name for finding in self.findings]
        return dict(sorted(met.items(), key=lambda item: order.index(item[0]))), new

    @property
    def by_name(self) -> dict[str, KnownFinding]:
        return {finding.name: finding for finding in self.findings}


@dataclass(frozen=True)
class _Where:
    path: Path
    name: str

    def error(self, message: str) -> pytest.UsageError:
        return pytest.UsageError(f"findings file {self.path}: entry {self.name!r}: {message}")


def parse_finding(
    path: Path, name: str, value: Any, operators: frozenset[str], listed: frozenset[str] | None
) -> KnownFinding:
    """One finding (see the module's docstring); a usage error naming the file and the finding otherwise.
    ``operators`` are the names a signature's chain may use, ``listed`` the spec IDs of the engine's known-failures
    file (None: not checked)."""
    where = _Where(path, name)
    if not isinstance(value, dict):
        raise where.error("expected an object with " + ", ".join(REQUIRED))
    if unknown := sorted(set(value) - {*REQUIRED, *OPTIONAL}):
        raise where.error(f"unknown keys {', '.join(unknown)} (a finding has {', '.join((*REQUIRED, *OPTIONAL))})")
    if missing := [key for key in REQUIRED if key not in value]:
        raise where.error(f"missing {', '.join(missing)}")
    signatures = value["signatures"]
    if not isinstance(signatures, list) or not signatures or not all(isinstance(text, str) for text in signatures):
        raise where.error("signatures must be a non-empty list of OPERATOR>...|ORACLE|KIND strings")
    parsed = []
    for text in signatures:
        try:
            signature = Signature.parse(text)
        except ValueError as error:
            raise where.error(f"signature {error}") from None
        if signature.operators == (ANY,) and not isinstance(value.get("figures"), dict):
            raise where.error(f"signature {text!r} stands for any chain: the finding must name the figures it has")
        if signature.operators != (ANY,) and (
            unknown := [operator for operator in signature.operators if operator not in operators]
        ):
            raise where.error(f"signature {text!r}: {', '.join(unknown)} is no operator of the catalogue")
        parsed.append(signature)
    triage, reason, observed = value["triage"], value["reason"], value["observed"]
    if triage not in TRIAGE:
        raise where.error(f"triage {triage!r} is none of {', '.join(TRIAGE)}")
    if not isinstance(reason, str) or not reason.strip():
        raise where.error("expected a non-empty reason string")
    if (
        not isinstance(observed, dict)
        or not observed
        or not all(
            isinstance(distribution, str) and isinstance(version, str) for distribution, version in observed.items()
        )
    ):
        raise where.error("observed must map the distributions it was observed on to their versions")
    for distribution, version in observed.items():
        try:
            Version(version)
        except InvalidVersion:
            raise where.error(f"observed {distribution} {version!r} is not a version") from None
    return KnownFinding(
        name,
        tuple(parsed),
        triage,
        reason,
        dict(observed),
        reproduction_of(where, value.get("reproduction"), triage),
        known_failures_of(where, value.get("known_failures"), triage, listed),
        check_of(where, value.get("fails_in")),
        figures_of(where, value.get("figures")),
    )


def figures_of(where: _Where, figures: Any) -> dict[str, Any] | None:
    """The figures a deviation must have to be the finding's (``{"shape": [1], "expected_shape": []}``), or None."""
    if figures is not None and (not isinstance(figures, dict) or not figures):
        raise where.error("figures must be a non-empty object of the figures a deviation it explains has")
    return figures


def check_of(where: _Where, check: Any) -> str | None:
    """The check a finding fails in, one of the specs' (:data:`conformance.checks.NAMES`), or None (any)."""
    if check is not None and check not in checks.NAMES:
        raise where.error(f"fails_in {check!r} is none of {', '.join(checks.NAMES)}")
    return check


def reproduction_of(where: _Where, relative: Any, triage: str) -> Path | None:
    """The reproduction script's path: relative to the findings file's folder, and there."""
    if relative is None:
        if triage == ENGINE_BUG:
            raise where.error("an engine bug needs a reproduction: the path of a script in the engine's own code")
        return None
    relative_path = PurePosixPath(relative) if isinstance(relative, str) and relative else None
    if relative_path is None or relative_path.is_absolute() or ".." in relative_path.parts:
        raise where.error(f"reproduction {relative!r}: expected a path relative to the findings file's folder")
    script = where.path.parent / relative
    if not script.is_file():
        raise where.error(f"reproduction {relative!r}: {script} does not exist")
    return script


def known_failures_of(where: _Where, spec_ids: Any, triage: str, listed: frozenset[str] | None) -> tuple[str, ...]:
    """The spec IDs a finding is the cause of, each in the engine's known-failures file (a ``known-failure``
    finding needs them)."""
    if spec_ids is None and triage != KNOWN_FAILURE:
        return ()
    if not isinstance(spec_ids, list) or not spec_ids or not all(isinstance(spec_id, str) for spec_id in spec_ids):
        raise where.error("known_failures must list the spec IDs the finding is the cause of")
    if listed is not None and (absent := sorted(set(spec_ids) - listed)):
        raise where.error(f"known_failures {', '.join(absent)} are not in the engine's known-failures file")
    return tuple(spec_ids)


def load(path: Path, listed: frozenset[str] | None = None) -> Findings:
    """Read and check one findings file (``listed``: the spec IDs of the engine's known-failures file, which a
    ``known-failure`` finding's ``known_failures`` must be among); any problem is a usage error naming the file."""
    try:
        data = user_files.read_json(Path(path))
    except (OSError, ValueError) as error:
        raise pytest.UsageError(f"findings file {path}: {error}") from error
    if not isinstance(data, dict):
        raise pytest.UsageError(f"findings file {path}: expected a JSON object mapping a finding's name to an object")
    operators = frozenset(entry.name for entry in CATALOGUE)
    return Findings(
        Path(path), tuple(parse_finding(Path(path), name, value, operators, listed) for name, value in data.items())
    )


def shipped(engine: Backend) -> Path | None:
    """The findings file ``engine`` declares (:attr:`~backends.Backend.findings_file`), if it declares one: torch's
    for torch and the backends made of it (``torch.func``, its mutants and variants), ``backends/findings/jax.json``
    for jax, a plug-in's own."""
    return getattr(engine, "findings_file", None)


def listed_known_failures(engine: Backend) -> frozenset[str]:
    """The spec IDs ``engine``'s shipped known-failures file lists."""
    return known_failures.load(engine.known_failures_file).listed if engine.known_failures_file else frozenset()


def of_engine(engine: Backend, path: Path | None = None) -> Findings:
    """``engine``'s findings: from ``path`` where given, else its shipped file, else none."""
    path = path or shipped(engine)
    return load(path, listed_known_failures(engine)) if path is not None else Findings()


def for_backends(backends: dict[str, Backend], option_values: Iterable[str]) -> dict[str, Findings]:
    """Each selected backend's findings: the ``--fuzz-findings`` file if given, else the one shipped for its engine,
    else none."""
    given = known_failures.parse_option(option_values, backends, "--fuzz-findings")
    return {name: of_engine(backend, given.get(name)) for name, backend in backends.items()}


def unmet_note(findings: Findings, met: Iterable[str]) -> list[str]:
    """The lines that name the findings a run did not meet, saying that this is no error."""
    unmet = [finding.name for finding in findings.findings if finding.name not in set(met)]
    if not unmet:
        return []
    return [
        f"known findings not met: {len(unmet)} (no error: a random budget is no evidence of their absence)",
        f"  {', '.join(unmet)}",
    ]
