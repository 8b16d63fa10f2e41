"""Known failures: per backend, the specs an engine is known to fail and what it does instead.

A known-failures file is JSON mapping spec ID to the observed behaviour (the reason)::

    {"grad.vector-backward-needs-gradient": "backward() on a vector sums it instead of raising"}

or to an object with that reason and conditions, for behaviour that differs between releases of an engine or
that fails one named check of a spec only::

    {"opgrad.cdist": {"reason": "no double backward: ...", "versions": {"torch": "<2.14"}, "fails_in": "second-order"}}

``versions`` maps installed distributions to version specifiers (PEP 440, ``packaging.specifiers``): the entry
applies only when every one is met (pre-releases and local builds included: ``2.13.0+cu130`` is ``<2.14``). An
entry whose versions are not met is not applied: the spec must pass there, and a failure is a failure.
``fails_in`` names a check of the spec (:data:`conformance.checks.NAMES`): the entry covers a failure in that
check only, so that a failure before it (a wrong first-order gradient where the double backward is missing)
is still a failure.

A backend ships one as :attr:`backends.Backend.known_failures_file`; ``--known-failures=BACKEND=PATH``
gives (or replaces) the file for one backend of the run.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from backends import Backend

from . import checks, user_files
from .catalogue import collect

#: the keys an entry's object may have
ENTRY_KEYS = ("reason", "versions", "fails_in")
#: where the suite lies: shipped known-failures files are named relative to it in reports
SUITE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Entry:
    """One spec's known failure: the observed behaviour, the versions it applies to, the check it fails in."""

    reason: str
    versions: dict[str, str] = field(default_factory=dict)
    fails_in: str | None = None


@dataclass(frozen=True)
class KnownFailures:
    """The known failures of one backend and the file they came from (for error messages).

    ``reasons`` and ``entries`` hold the entries that apply to this run's versions; ``not_applied`` the others,
    spec ID -> why (``"torch 2.14.1 is not <2.14"``); ``listed`` every spec ID the file names."""

    path: Path
    reasons: dict[str, str]
    entries: dict[str, Entry] = field(default_factory=dict)
    not_applied: dict[str, str] = field(default_factory=dict)
    listed: frozenset[str] = frozenset()

    def entry(self, spec_id: str) -> Entry | None:
        return self.entries.get(spec_id)


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution`` (torch's own ``__version__`` for torch, as the report gives it),
    or None."""
    if distribution == "torch" and "torch" in sys.modules:
        return sys.modules["torch"].__version__
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def parse_entry(path: Path, spec_id: str, value: Any) -> Entry:
    """One entry, a reason string or an object (see the module's docstring); a usage error naming the file and
    the spec ID otherwise."""
    where = f"known-failures file {path}: entry {spec_id!r}"
    if isinstance(value, str):
        value = {"reason": value}
    if not isinstance(value, dict):
        raise pytest.UsageError(f"{where}: expected a reason string or an object with a reason")
    if unknown := sorted(set(value) - set(ENTRY_KEYS)):
        raise pytest.UsageError(f"{where}: unknown keys {', '.join(unknown)} (an entry has {', '.join(ENTRY_KEYS)})")
    reason, versions, fails_in = value.get("reason"), value.get("versions", {}), value.get("fails_in")
    if not isinstance(reason, str) or not reason.strip():
        raise pytest.UsageError(f"{where}: expected a non-empty reason string")
    if not isinstance(versions, dict) or not all(
        isinstance(name, str) and isinstance(spec, str) for name, spec in versions.items()
    ):
        raise pytest.UsageError(f"{where}: versions must map distribution names to version specifiers")
    for name, spec in versions.items():
        try:
            SpecifierSet(spec)
        except InvalidSpecifier as error:
            raise pytest.UsageError(f"{where}: {name} {spec!r} is not a version specifier ({error})") from error
    if fails_in is not None and fails_in not in checks.NAMES:
        raise pytest.UsageError(f"{where}: fails_in {fails_in!r} names no check; one of {', '.join(checks.NAMES)}")
    return Entry(reason, dict(versions), fails_in)


def unmet(path: Path, spec_id: str, entry: Entry) -> str | None:
    """Why ``entry`` does not apply to the installed versions (``"torch 2.14.1 is not <2.14"``), or None."""
    for name, spec in entry.versions.items():
        version = installed_version(name)
        if version is None:
            raise pytest.UsageError(f"known-failures file {path}: entry {spec_id!r}: {name} is not installed")
        try:
            held = SpecifierSet(spec).contains(Version(version), prereleases=True)
        except InvalidVersion as error:
            raise pytest.UsageError(f"known-failures file {path}: {name} {version!r}: {error}") from error
        if not held:
            return f"{name} {version} is not {spec}"
    return None


def load(path: Path) -> KnownFailures:
    """Read and check one file; any problem is a usage error naming the file."""
    try:
        data = user_files.read_json(Path(path))
    except (OSError, ValueError) as error:
        raise pytest.UsageError(f"known-failures file {path}: {error}") from error
    if not isinstance(data, dict):
        raise pytest.UsageError(
            f"known-failures file {path}: expected a JSON object mapping spec ID to a non-empty reason string"
        )
    entries, not_applied = {}, {}
    for spec_id, value in data.items():
        entry = parse_entry(Path(path), spec_id, value)
        if (why := unmet(Path(path), spec_id, entry)) is None:
            entries[spec_id] = entry
        else:
            not_applied[spec_id] = why
    reasons = {spec_id: entry.reason for spec_id, entry in entries.items()}
    return KnownFailures(Path(path), reasons, entries, not_applied, frozenset(data))


def shown_path(path: Path) -> str:
    """How a report names a known-failures file, without the machine's directories: a file of the suite (a
    shipped one) relative to the suite's root (``backends/known_failures/jax.json``), another file as given
    where that is relative, else by its name."""
    try:
        return Path(path).resolve().relative_to(SUITE_ROOT).as_posix()
    except ValueError:
        return Path(path).as_posix() if not Path(path).is_absolute() else Path(path).name


def parse_option(
    values: Iterable[str], backend_names: Iterable[str], option: str = "--known-failures"
) -> dict[str, Path]:
    """``--known-failures`` values (``BACKEND=PATH``), or another ``option``'s of that form (``--fuzz-findings``),
    as backend name -> path. A backend name has no ``=``, a path may."""
    names = set(backend_names)
    paths: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise pytest.UsageError(f"{option}={value}: expected BACKEND=PATH")
        if name not in names:
            raise pytest.UsageError(
                f"{option}={value}: backend {name!r} is not selected (--backend: {', '.join(sorted(names))})"
            )
        if name in paths:
            raise pytest.UsageError(f"{option}: two files for backend {name!r}: {paths[name]} and {path}")
        paths[name] = Path(path)
    return paths


def for_backends(backends: dict[str, Backend], option_values: Iterable[str]) -> dict[str, KnownFailures]:
    """Each selected backend's known failures: the ``--known-failures`` file if given, else the one the
    backend ships, else none."""
    given = parse_option(option_values, backends)
    paths = {name: given.get(name) or backend.known_failures_file for name, backend in backends.items()}
    return {name: load(path) for name, path in paths.items() if path is not None}


def check_ids_exist(known: dict[str, KnownFailures], collected: set[str]) -> None:
    """Raise a usage error for a listed spec ID that is neither collected in this run nor in the suite's
    catalogue (``spec_tests/``): renamed or removed. The suite's catalogue lets a shipped file serve a run
    of one spec module, or of the benchmarks."""
    listed = set().union(*(entry.listed for entry in known.values()))
    if not listed - collected:
        return
    catalogue = collected | {found.spec.id for found in collect()}
    for entry in known.values():
        if stale := sorted(entry.listed - catalogue):
            raise pytest.UsageError(
                f"known-failures file {entry.path} lists spec IDs that are not in the catalogue: {', '.join(stale)}"
            )
