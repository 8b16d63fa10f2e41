"""pytest plugin: ``--backend``, one parametrized run of every spec per backend, seeding, capabilities and
the global-state guard.

Every test that takes the ``engine`` fixture is run once per selected backend, with the backend's name as
its test id (``test_x[cuda]``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from backends import Backend, BackendError, resolve
from backends import capabilities as cap
from backends.registry import described

from . import exits, seeding, state_guard, untrusted
from .catalogue import ParameterSet, Spec, check_unique_ids, spec_of
from .refusals import means_missing_api

BACKENDS = pytest.StashKey[dict[str, Backend]]()
#: workeroutput key: the usage error an xdist worker met while collecting (see :func:`refuse_collection`)
USAGE_ERROR = "conformance_usage_error"
#: each backend's ``describe()`` at startup (checked by :func:`backends.registry.described`)
DESCRIPTIONS = pytest.StashKey[dict[str, dict[str, Any]]]()
DEFAULT_BACKEND = "cpu"
#: distinct programs per fuzz item (``--fuzz-programs``): every item on torch's CPU in about 90 s of CPU time
FUZZ_PROGRAMS = 20
UNSUPPORTED = "unsupported"
#: skip-reason prefix of a spec that cannot apply to the backend (GPU-to-NumPy on a CPU backend)
NOT_APPLICABLE = "not applicable"

#: a run ends through pytest (SIGTERM, os._exit); refuse downloads for the whole run (weights come from the local
#: hub cache only); time limits and --isolate;
#: the report (so that ``pytest -p conformance.plugin`` loads the whole harness); xdist workers' share of the cores;
#: the watchdog of specs that ignore their time limit; the program a crashed fuzz item ran
pytest_plugins = [
    "conformance.exits",
    "conformance.no_download",
    "conformance.isolation",
    "conformance.report",
    "conformance.worker_threads",
    "conformance.watchdog",
    "conformance.fuzz.crash_reports",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "autograd conformance")
    group.addoption(
        "--backend",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "engine to run the specs on; repeat or comma-separate for several (default: cpu). "
            "Built in: cpu, cuda, cuda:N, mps, xpu, torch:<device>, mutant:<name>, holdout:<name>; also installed "
            "plug-ins by name and package.module:attribute."
        ),
    )
    group.addoption(
        "--spec",
        action="append",
        default=[],
        metavar="ID",
        help="run only the specs with these IDs (see SPECS.md); repeat or comma-separate for several",
    )
    group.addoption(
        "--pair-mutants",
        action="store_true",
        help="run each mutant:<name> backend only on the spec meant to catch it (the other backends on every spec)",
    )
    group.addoption(
        "--draws",
        type=positive_int,
        default=1,
        metavar="N",
        help="run each spec on N seeded draws of its inputs (test ids gain draw<k>): does its verdict hold on other "
        "inputs, or only on the one its node id seeds (default 1)",
    )
    group.addoption(
        "--world-size",
        type=positive_int,
        default=2,
        metavar="N",
        help="processes in the group each distributed (ddp.*) spec spawns, one per device (default 2)",
    )
    group.addoption(
        "--fuzz-programs",
        type=positive_int,
        default=FUZZ_PROGRAMS,
        metavar="N",
        help=f"distinct programs each fuzz item (fuzz.*, pytest fuzz_tests) runs (default {FUZZ_PROGRAMS})",
    )
    group.addoption(
        "--fuzz-seed",
        type=int,
        default=0,
        metavar="S",
        help="seed of the fuzz items' programs, combined with each item's operator (default 0)",
    )
    group.addoption(
        "--fuzz-out",
        type=Path,
        default=Path("fuzz-out"),
        metavar="DIR",
        help="where fuzz items write their deviations' records and reproductions, a folder per item (default fuzz-out)",
    )
    group.addoption(
        "--fuzz-findings",
        action="append",
        default=[],
        metavar="BACKEND=PATH",
        help="JSON file of BACKEND's triaged fuzz findings, in place of backends/findings/<engine>.json (repeatable)",
    )


def positive_int(text: str) -> int:
    """A count of at least 1, or argparse's usage error."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, at least 1, not {text!r}")
    return value


def selected_backend_names(config: pytest.Config) -> list[str]:
    """The ``--backend`` names in order, without repeats; an empty one (``--backend=``, ``cpu,,x``) is refused
    (by :func:`backends.resolve`), never taken for the default."""
    names = [name.strip() for value in config.getoption("backend") for name in value.split(",")]
    return list(dict.fromkeys(names)) or [DEFAULT_BACKEND]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spec(entry): the catalogue entry of a spec (set by @spec)")
    with exits.refused("while the backends load"):
        resolved = {name: resolve_leaving_torch_alone(name) for name in selected_backend_names(config)}
    config.stash[BACKENDS] = {name: backend for name, (backend, _) in resolved.items()}
    config.stash[DESCRIPTIONS] = {name: description for name, (_, description) in resolved.items()}


def resolve_leaving_torch_alone(name: str) -> tuple[Backend, dict[str, Any]]:
    """The backend and its description; a usage error if it cannot be had, or if building it changed torch's
    global state (which would fail torch's specs, blamed on torch)."""
    before = state_guard.torch_state()
    try:
        backend = resolve(name)
        description = described(backend)
    except BackendError as error:  # its message may quote the engine's: made readable, never run on the terminal
        raise pytest.UsageError(untrusted.terminal(untrusted.text(error, None))) from error
    finally:
        after = state_guard.torch_state()
        state_guard.restore_torch_state(before)
    if changed := [f"{key}: {before[key]!r} -> {after[key]!r}" for key in before if after[key] != before[key]]:
        raise pytest.UsageError(f"building backend {name!r} changed torch's global state: {'; '.join(changed)}")
    return backend, description


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        untrusted.terminal(
            untrusted.text(f"backend {name}: {about['engine']} {about['engine_version']} on {about['device']}")
        )
        for name, about in config.stash[DESCRIPTIONS].items()
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames:
        backends = metafunc.config.stash[BACKENDS]
        names = list(backends)
        catalogue = spec_parametrization(metafunc)
        if metafunc.config.getoption("pair_mutants") and catalogue is not None:
            pair_with_spec_parameters(metafunc, backends, catalogue)
        else:
            if metafunc.config.getoption("pair_mutants"):
                marker = metafunc.definition.get_closest_marker("spec")
                names = [name for name in names if marker is None or meets(backends[name], marker.args[0])]
            metafunc.parametrize("engine", names, ids=names, indirect=True, scope="session")
        if (draws := metafunc.config.getoption("draws")) > 1:
            metafunc.fixturenames.append("input_draw")
            metafunc.parametrize("input_draw", range(draws), ids=[f"draw{k}" for k in range(draws)], indirect=True)


def spec_parametrization(metafunc: pytest.Metafunc) -> pytest.Mark | None:
    """The test's own parametrize mark whose parameters are specs (``spec_param``: the operator catalogue), if any."""
    for mark in metafunc.definition.own_markers:
        if mark.name == "parametrize" and any(
            isinstance(param, ParameterSet) and any(m.name == "spec" for m in param.marks) for param in mark.args[1]
        ):
            return mark
    return None


def pair_with_spec_parameters(metafunc: pytest.Metafunc, backends: dict[str, Backend], mark: pytest.Mark) -> None:
    """``--pair-mutants`` for a test parametrized by specs: the engine and the spec parameter are parametrized
    together (in place of the test's own mark), so that a mutant meets only the parameter of its spec, without
    collecting every mutant with every other spec first. Test ids are those of the two parametrizations."""
    metafunc.definition.own_markers.remove(mark)
    argname, pairs = mark.args[0], []
    for param in mark.args[1]:
        spec = next(m.args[0] for m in param.marks if m.name == "spec")
        pairs += [
            pytest.param(name, *param.values, marks=param.marks, id=f"{name}-{param.id}")
            for name, backend in backends.items()
            if meets(backend, spec)
        ]
    metafunc.parametrize(["engine", argname], pairs, indirect=["engine"])


def meets(backend: Backend, spec: Spec) -> bool:
    """Under ``--pair-mutants``, whether ``backend`` runs ``spec``: a mutant runs the spec it breaks and the specs
    that check the same behaviour under that spec's known failures (``opgrad.exp``'s mutant meets the fuzzer's
    ``fuzz.exp``); any other backend runs every spec."""
    breaks = getattr(backend, "breaks", None)
    return breaks is None or breaks in (spec.id, spec.known_failures_id)


@pytest.fixture
def input_draw(request: pytest.FixtureRequest) -> int:
    """Which of ``--draws`` seeded draws of its inputs a spec runs on; the seed follows from the test id
    (:func:`conformance.seeding.seed_key`), so the fixture only has to exist."""
    return request.param


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> Backend:
    """The backend under test (see backends.contract.Backend)."""
    return request.config.stash[BACKENDS][request.param]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    check_unique_ids(items)
    if wanted := {spec_id.strip() for value in config.getoption("spec") for spec_id in value.split(",")} - {""}:
        select_specs(config, items, wanted)


def select_specs(config: pytest.Config, items: list[pytest.Item], wanted: set[str]) -> None:
    """Keep only the specs whose IDs ``--spec`` names; an ID that no collected spec has is a usage error."""
    keep, drop = [], []
    for item in items:
        entry = spec_of(item)
        (keep if entry and entry.id in wanted else drop).append(item)
    if missing := wanted - {spec_of(item).id for item in keep}:
        message = f"--spec: no collected spec has the ID {', '.join(sorted(missing))}"
        refuse_collection(config, items, pytest.UsageError(message))
        return
    config.hook.pytest_deselected(items=drop)
    items[:] = keep


def refuse_collection(config: pytest.Config, items: list[pytest.Item], error: pytest.UsageError) -> None:
    """A usage error found while collecting: raised, except on an xdist worker, which cannot stop the run with
    it (the controller would take the worker for crashed and hide the message behind an INTERNALERROR): there
    the worker runs nothing and hands the error to the controller (:mod:`conformance.report` reports it)."""
    if not hasattr(config, "workerinput"):
        raise error
    config.workeroutput[USAGE_ERROR] = str(error)
    items.clear()


def engine_of(item: pytest.Item) -> Backend | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None or "engine" not in callspec.params:
        return None
    return item.config.stash[BACKENDS][callspec.params["engine"]]


def missing_capabilities(item: pytest.Item) -> list[str]:
    """The capabilities a spec needs that its backend does not declare, and the members of declared ones it
    uses that the backend lacks, as ``capability[member]`` (none for a test that is no spec)."""
    backend, entry = engine_of(item), spec_of(item)
    if backend is None or entry is None:
        return []
    lacked = [
        f"{name}[{member}]"
        for name in sorted(entry.needs & backend.lacks.keys())
        for member in sorted(entry.uses & backend.lacks[name])
    ]
    return sorted(entry.needs - backend.capabilities) + lacked


def float64_lacked(item: pytest.Item) -> list[str]:
    """The members a spec uses that its backend declares float64 but has no float64 for, as ``float64[member]``
    (``lacks={capabilities.FLOAT64: {...}}``): the spec runs in float32 only (:mod:`conformance.gradcheck`)."""
    backend, entry = engine_of(item), spec_of(item)
    if backend is None or entry is None or cap.FLOAT64 not in backend.capabilities:
        return []
    return [f"{cap.FLOAT64}[{member}]" for member in sorted(entry.uses & backend.lacks.get(cap.FLOAT64, frozenset()))]


def lacked_member_in(error: BaseException, backend: Backend) -> str | None:
    """The member of ``backend.lacks`` that ``error`` says is missing, as ``capability[member]``, or None.

    A spec that names no members (a decorated spec has no ``uses``) may still touch one that the backend
    declares it lacks (``item`` of ``numpy``): the error that touch raises (an ``AttributeError`` naming it, a
    ``TypeError`` for an argument ``name(arg=)`` the call does not take) makes the spec unsupported, not a
    FAIL. Only an error that means the API is missing counts, and only for a member the backend lacks."""
    if not means_missing_api(error) or not backend.lacks:
        return None
    for name in sorted(backend.lacks):
        for member in sorted(backend.lacks[name]):
            argument = re.fullmatch(r".*\((\w+)=\)", member)
            leaf = argument.group(1) if argument else member.rsplit(".", 1)[-1]
            if isinstance(error, AttributeError) and getattr(error, "name", None) is not None:
                if error.name == leaf and not argument:
                    return f"{name}[{member}]"
            elif re.search(rf"'{re.escape(leaf)}'", str(error)):
                return f"{name}[{member}]"
    return None


def release_last_failure() -> None:
    """Drop the traceback pytest keeps of the last failed spec (``sys.last_traceback`` and its kin, for
    post-mortem debugging) a step early, before the next spec's setup rather than its call: its frames hold
    the failed spec's engine objects, and a lazy engine would otherwise still hold, and run, that spec's
    unfinished work when the next spec's :meth:`~backends.Backend.reset` is meant to have dropped it."""
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            delattr(sys, name)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Seed and reset the engine before any fixture runs, and report a spec whose capabilities the backend
    lacks as unsupported."""
    seed = seeding.seed_everything(seeding.seed_key(item))
    if (backend := engine_of(item)) is not None:
        release_last_failure()
        backend.seed(seed)
        backend.reset()
    if missing := missing_capabilities(item):
        pytest.skip(f"{UNSUPPORTED}: {engine_of(item).name} does not declare {', '.join(missing)}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Fail the spec that leaves grad mode, anomaly detection, default dtype or device changed, after
    putting them back so that the next spec starts clean."""
    backend = engine_of(item)
    if backend is None:
        return (yield)
    before = state_guard.snapshot(backend)
    try:
        with backend.spec_scope():
            outcome = yield
    except BaseException as error:
        state_guard.restore(backend, before)
        if lacked := lacked_member_in(error, backend):
            pytest.skip(f"{UNSUPPORTED}: {backend.name} lacks {lacked}, which the spec uses: {error}")
        raise
    if leaks := state_guard.restore(backend, before):
        pytest.fail("spec leaked global state (now restored): " + "; ".join(leaks), pytrace=False)
    return outcome
