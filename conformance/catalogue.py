"""The spec catalogue: every spec's stable ID, sources and needed capabilities, declared at the spec.

A spec is a test function decorated with :func:`spec`; its docstring's first paragraph is the documented
behaviour it checks, in the documentation's words, and the rest notes variance between releases::

    @spec("grad.external-gradient", sources=["000", "001", "004"], needs=[cap.AUTOGRAD], kind=VALUE)
    def test_external_gradient(engine):
        \"\"\"Q.backward(gradient=external_grad) leaves dQ/da = 9a² in a.grad and dQ/db = -2b in b.grad.\"\"\"

``kind`` says what a failure of the spec means (:data:`KINDS`): a silent wrong result (``value``), a missing
refusal (``refusal``), or a deviation from torch's names, types, messages or reprs (``surface``). Reports count
failures by kind, so that "0 silent wrong results, 3 surface deviations" is one glance.

``sources`` name seed files by their three-digit prefix (``"002"`` is ``002_….txt`` in ``shared/seeds``, see
:data:`SEEDS`) or a PyTorch documentation section (``"docs:autograd-mechanics#in-place-correctness-checks"``).
Seed content that is no behaviour to spec is listed, with the reason, in :data:`OUT_OF_SCOPE`.

``python -m conformance.catalogue`` writes SPECS.md from the specs themselves (every
``spec_tests/test_*.py``); ``--check`` exits non-zero when SPECS.md is stale.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends import capabilities
from backends.mutants import MUTANTS

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec_tests"
SPECS_MD = ROOT / "SPECS.md"
SPEC_ID = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)+$")
DOCS_SOURCE = re.compile(r"^docs:\S+$")
#: the class of ``pytest.param(...)`` (public as ``pytest.ParameterSet`` only from pytest 9.2)
ParameterSet = type(pytest.param())

VALUE, REFUSAL, SURFACE = "value", "refusal", "surface"
#: kind -> what a failure of a spec of that kind means
KINDS: dict[str, str] = {
    VALUE: "silent wrong result: a value, flag, identity or state the engine gets wrong without saying so",
    REFUSAL: "missing refusal: the engine goes on (or changes state) where the documentation says it must refuse",
    SURFACE: "surface deviation: torch's names, exception types, messages or reprs differ; behaviour may be right",
}

#: seed prefix -> (file in shared/seeds, what it documents)
SEEDS: dict[str, tuple[str, str]] = {
    "000": (
        "000_94690bf57f7b1e10.txt",
        "resnet18 training step and SGD, Q = 3a³ − b² with an external gradient, requires_grad_, grad_fn names, "
        "no_grad, requires_grad propagation, freeze-then-replace-fc (gentle introduction, in Chinese)",
    ),
    "001": (
        "001_06aa1c6c5bf55a1f.txt",
        "the gentle introduction in English with notes: vector-valued backward needs gradient, the DAG (leaves, "
        "roots, dynamic per iteration), exclusion from the DAG, frozen parameters, fine-tuning",
    ),
    "002": (
        "002_007b9d91f78b712a.txt",
        "Conv2d requires_grad and freezing, no_grad for evaluation, is_leaf/grad_fn, in-place vs out-of-place, "
        "_version and the in-place errors, setting leaves via .data/.detach()/no_grad, detach sharing storage, "
        "GPU to NumPy, item() and tolist()",
    ),
    "003": (
        "003_d25776b728b3257c.txt",
        "autograd mechanics: excluding subgraphs, fine-tuning, how autograd encodes history (grad_fn), in-place "
        "correctness checks with version counters",
    ),
    "004": (
        "004_e2f50f5034007770.txt",
        "the gentle introduction again with Jupyter outputs (pretrained download, SGD step, 9*a**2 == a.grad)",
    ),
}


@dataclass(frozen=True)
class OutOfScope:
    """Seed content that is deliberately not a spec, and why."""

    sources: tuple[str, ...]
    content: str
    reason: str


OUT_OF_SCOPE: tuple[OutOfScope, ...] = (
    OutOfScope(
        ("000", "002"),
        "printed id() values and object addresses (<SumBackward0 object at 0x...>, 5121600144)",
        "memory addresses differ on every run; what they show (same or different object) is specced with `is`",
    ),
    OutOfScope(
        ("002",),
        "printed values of torch.randn tensors (tensor([0.4484], ...), the tolist() output)",
        "random draws of one machine; specs draw seeded inputs and compare with the engine's own values",
    ),
    OutOfScope(
        ("004",),
        'the download of pretrained weights ("Downloading: https://download.pytorch.org/...") and its progress bar',
        "the suite never downloads; pretrained weights come from a local state dict (models.pretrained)",
    ),
    OutOfScope(
        ("001",),
        "the figures (![](...png)): the DAG drawing, the vector-calculus formulas, the training-step picture",
        "images, not text; their content is specced where the text states it (graph.*, grad.*)",
    ),
    OutOfScope(
        ("001", "004"),
        "the 60-minute-blitz background prose: neural networks as nested functions, forward and backward "
        "propagation, gradient descent in words",
        "an explanation, not a checkable behaviour; the training-step specs check what it describes",
    ),
    OutOfScope(
        ("001",),
        "the empty 'Optional Reading - Vector Calculus using autograd' and 'Further readings' headings, and "
        "the reference links",
        "no content in the seed; the vector-Jacobian product is specced from the PyTorch documentation",
    ),
    OutOfScope(
        ("001", "002"),
        "performance advice: freezing parameters or leaving requires_grad off for inputs and ground truth "
        "saves computation and memory",
        "a cost, not a behaviour; measured by the benchmarks, not asserted by specs",
    ),
    OutOfScope(
        ("002",),
        'the advice that PyTorch discourages in-place operations ("no error means no problem")',
        "a recommendation; the errors it relies on are specced (inplace.*)",
    ),
    OutOfScope(
        ("003",),
        "the blog page's translation remarks, reprint notice and navigation links",
        "page furniture of the copy, not documentation",
    ),
)


@dataclass(frozen=True)
class Spec:
    id: str
    sources: tuple[str, ...]
    needs: frozenset[str]
    kind: str
    says: str
    notes: str
    test: str
    #: the members of its capabilities that the spec uses (``functional.gelu``, ``erfinv``), where it names them:
    #: a backend that declares a capability but lists one of these among its :attr:`Backend.lacks` gets
    #: "unsupported" for the spec
    uses: frozenset[str] = frozenset()
    #: the spec whose known-failures entries apply to this one, where that is another: an item of the fuzzer
    #: (``fuzz.exp``, :mod:`conformance.fuzz.items`) fails where its operator's spec (``opgrad.exp``) is known to
    known_failures_of: str = ""

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def known_failures_id(self) -> str:
        """The spec ID a known-failures file lists this spec's failure under."""
        return self.known_failures_of or self.id


def spec(spec_id: str, *, sources: Iterable[str], kind: str, needs: Iterable[str] = ()) -> Callable:
    """Declare a test function as the spec ``spec_id`` of ``kind`` (see the module docstring)."""
    sources, needs = checked(spec_id, sources, needs, kind)

    def register(function: Callable) -> Callable:
        doc = inspect.cleandoc(function.__doc__ or "")
        if not doc:
            raise ValueError(f"spec {spec_id!r} has no docstring stating the documented behaviour")
        says, _, notes = doc.partition("\n\n")
        entry = Spec(
            id=spec_id,
            sources=sources,
            needs=needs,
            kind=kind,
            says=" ".join(says.split()),
            notes=notes.strip(),
            test=f"{function.__module__}::{function.__qualname__}",
        )
        return pytest.mark.spec(entry)(function)

    return register


def checked(
    spec_id: str, sources: Iterable[str], needs: Iterable[str], kind: str
) -> tuple[tuple[str, ...], frozenset[str]]:
    """``sources`` and ``needs`` of the spec ``spec_id``, after checking the ID's form, its kind, that it cites
    at least one known source and that every capability it needs is known."""
    if not SPEC_ID.match(spec_id):
        raise ValueError(f"spec ID {spec_id!r} is not of the form area.behaviour (lower case, dotted)")
    if kind not in KINDS:
        raise ValueError(f"spec {spec_id!r} has kind {kind!r}; kinds: {', '.join(KINDS)}")
    sources = tuple(sources)
    if not sources:
        raise ValueError(f"spec {spec_id!r} cites no sources")
    if unknown_sources := [source for source in sources if not is_known_source(source)]:
        raise ValueError(
            f"spec {spec_id!r} cites unknown sources {unknown_sources}: use a seed prefix "
            f"({', '.join(SEEDS)}) or docs:<section>"
        )
    needs = frozenset(needs)
    if unknown := needs - capabilities.ALL:
        raise ValueError(f"spec {spec_id!r} needs unknown capabilities {sorted(unknown)}")
    return sources, needs


def is_known_source(source: str) -> bool:
    """A seed prefix of :data:`SEEDS` or ``docs:<section>`` of the PyTorch documentation."""
    return source in SEEDS or bool(DOCS_SOURCE.match(source))


def spec_param(
    spec_id: str,
    *values: object,
    says: str,
    sources: Iterable[str],
    test: str,
    kind: str,
    needs: Iterable[str] = (),
    uses: Iterable[str] = (),
    known_failures_of: str = "",
) -> ParameterSet:
    """One parameter of a parametrized test that is a spec of its own, for catalogues of similar specs::

        @pytest.mark.parametrize("op", [spec_param("opgrad.relu", RELU, says="...", sources=[...], test=...)])

    The parameter's id is the spec ID's behaviour (``relu``); ``test`` names the test function as
    ``"module::qualname"``, and the spec's test is that parameter of it (``module::qualname[relu]``);
    ``known_failures_of`` names the spec whose known-failures entries apply to it (see :class:`Spec`).
    """
    sources, needs = checked(spec_id, sources, needs, kind)
    param_id = spec_id.split(".", 1)[1]
    entry = Spec(
        id=spec_id,
        sources=sources,
        needs=needs,
        kind=kind,
        says=" ".join(says.split()),
        notes="",
        test=f"{test}[{param_id}]",
        uses=frozenset(uses),
        known_failures_of=known_failures_of,
    )
    return pytest.param(*values, marks=pytest.mark.spec(entry), id=param_id)


def spec_of(item: pytest.Item) -> Spec | None:
    """The catalogue entry of a collected test, or None for a test that is not a spec."""
    marker = item.get_closest_marker("spec")
    return marker.args[0] if marker else None


def check_unique_ids(items: Iterable[pytest.Item]) -> None:
    """Raise if two different test functions of a run declare the same spec ID."""
    seen: dict[str, str] = {}
    for item in items:
        if entry := spec_of(item):
            first = seen.setdefault(entry.id, entry.test)
            if first != entry.test:
                raise pytest.UsageError(f"spec ID {entry.id!r} is declared twice: {first} and {entry.test}")


# --- SPECS.md ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A spec as SPECS.md lists it: its catalogue entry and where its test lives."""

    spec: Spec
    location: str


@contextlib.contextmanager
def importable(directory: Path) -> Iterator[None]:
    """sys.path as pytest's default import mode sets it for a test module of ``directory``."""
    saved = list(sys.path)
    sys.path[:0] = [str(directory), str(ROOT)]
    try:
        yield
    finally:
        sys.path[:] = saved


def specs_in(path: Path) -> list[Spec]:
    """The specs a test module declares (functions, test-class methods and :func:`spec_param` parameters)."""
    module_spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    candidates = list(vars(module).values())
    candidates += [member for value in candidates if inspect.isclass(value) for member in vars(value).values()]
    marks = [mark for value in candidates for mark in getattr(value, "pytestmark", [])]
    marks += [
        param_mark
        for mark in marks
        if mark.name == "parametrize"
        for param in mark.args[1]
        if isinstance(param, ParameterSet)
        for param_mark in param.marks
    ]
    return [
        mark.args[0] for mark in marks if mark.name == "spec" and mark.args[0].test.startswith(f"{module.__name__}::")
    ]


def collect(directory: Path = SPEC_DIR) -> list[Entry]:
    """Every spec of every ``test_*.py`` module under ``directory``, grouped by area."""
    entries = []
    with importable(directory):
        for path in sorted(directory.glob("test_*.py")):
            for found in specs_in(path):
                qualname = found.test.split("::", 1)[1].replace(".", "::")
                entries.append(Entry(found, f"{path.relative_to(directory.parent).as_posix()}::{qualname}"))
    return sorted(entries, key=lambda entry: entry.spec.area)


def cell(text: str) -> str:
    """``text`` as one Markdown table cell (``<`` escaped, so that <AddBackward0> is not taken for HTML)."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "\\<")


def render(entries: list[Entry]) -> str:
    """SPECS.md: the seeds, every spec grouped by area, the mutants, and the seed content that is out of scope."""
    areas = list(dict.fromkeys(entry.spec.area for entry in entries))
    lines = [
        "# Spec catalogue",
        "",
        "Generated from the specs in `spec_tests/` by `python -m conformance.catalogue`; do not edit by hand.",
        f"{len(entries)} specs in {len(areas)} areas.",
        "",
        "## Sources",
        "",
        "| prefix | file | what it documents |",
        "| --- | --- | --- |",
        *(f"| {prefix} | `{name}` | {cell(what)} |" for prefix, (name, what) in SEEDS.items()),
        "",
        "`docs:<section>` cites a section of the PyTorch documentation.",
        "",
        "## Kinds",
        "",
        "What a failure of a spec means; reports count failures by kind.",
        "",
        "| kind | specs | a failure is |",
        "| --- | --- | --- |",
        *(
            f"| {kind} | {sum(entry.spec.kind == kind for entry in entries)} | {cell(meaning)} |"
            for kind, meaning in KINDS.items()
        ),
    ]
    for area in areas:
        lines += [
            "",
            f"## {area}",
            "",
            "| ID | kind | documented behaviour | sources | needs | test | notes |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for entry in (entry for entry in entries if entry.spec.area == area):
            found = entry.spec
            lines.append(
                f"| `{found.id}` | {found.kind} | {cell(found.says)} | {', '.join(found.sources)} | "
                f"{', '.join(sorted(found.needs))} | `{entry.location}` | {cell(found.notes)} |"
            )
    figure = opinfo_figure()
    lines += [
        "",
        "## OpInfo coverage",
        "",
        f"The operator catalogue (`opgrad`) covers {figure['covered']} of {figure['total']} autograd-capable "
        f"operators of torch {figure['torch']}'s OpInfo database; `python -m conformance.opinfo_coverage` lists the "
        "missing ones for the installed torch (and `--write` records the figure shown here).",
    ]
    lines += [
        "",
        "## Mutants",
        "",
        "Broken torch backends (`--backend=mutant:<name>`, `backends/mutants/`), each caught by the spec it names "
        "(proved by `tests/test_mutants.py`).",
        "",
        "| mutant | caught by | what is broken | module |",
        "| --- | --- | --- | --- |",
        *(
            f"| `{name}` | `{cls.breaks}` | {cell(inspect.cleandoc(cls.__doc__).split(chr(10) * 2)[0])} | "
            f"`{cls.__module__.rsplit('.', 1)[1]}` |"
            for name, cls in sorted(MUTANTS.items(), key=lambda item: (item[1].breaks, item[0]))
        ),
    ]
    lines += [
        "",
        "## Out of scope",
        "",
        "Seed content that is not a behaviour to spec, and why.",
        "",
        "| sources | content | reason |",
        "| --- | --- | --- |",
        *(f"| {', '.join(item.sources)} | {cell(item.content)} | {cell(item.reason)} |" for item in OUT_OF_SCOPE),
    ]
    return "\n".join(lines) + "\n"


#: the OpInfo coverage figure, written by ``python -m conformance.opinfo_coverage --write``
OPINFO_FIGURE = Path(__file__).with_name("opinfo_coverage.json")


def opinfo_figure() -> dict:
    """The OpInfo coverage last recorded by ``python -m conformance.opinfo_coverage --write``."""
    return json.loads(OPINFO_FIGURE.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.catalogue", description="Write SPECS.md from the specs in spec_tests/."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if SPECS.md is not what would be written")
    parser.add_argument("--output", type=Path, default=SPECS_MD, help="file to write or check (default: SPECS.md)")
    parser.add_argument("--spec-dir", type=Path, default=SPEC_DIR, help="where the spec modules are")
    args = parser.parse_args(argv)
    text = render(collect(args.spec_dir))
    if args.check:
        if not args.output.is_file() or args.output.read_text(encoding="utf-8") != text:
            print(f"{args.output} is stale: run python -m conformance.catalogue", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
