"""The fuzzer as specs: ``pytest fuzz_tests --backend=NAME`` has one item per chainable operator of the catalogue,
``fuzz.<operator>``, which fuzzes the programs that start with it. Its verdict goes through the harness as a spec's
does: the capabilities and lacked members of the operator's catalogue spec make it unsupported, that spec's known
failures are its own (:attr:`conformance.catalogue.Spec.known_failures_of`, so that a failure restricted to one
check covers the deviations in that check only), though not strictly: programs that do not meet one pass, and the
report lists it in the area ``fuzz``.

The items split the command's programs by their first operator, the item's even where it is a known failure of the
engine; the operators after it are those the command chains. Each item runs ``--fuzz-programs`` distinct programs,
seeded by ``--fuzz-seed`` and its operator (and its draw under ``--draws``), not by the order or the worker it runs
in, and fails with the command's summary: the deviations' figures and their records, written under ``--fuzz-out`` in
a folder named by the item's test id. An item whose engine kills its worker (``--isolate`` or ``-n``) is ``crashed``,
with the program it died in (:mod:`.crash_reports`); a known crash is not run again (:mod:`.crashes`).
"""

from __future__ import annotations

import time
import zlib
from contextlib import nullcontext
from typing import NoReturn

import pytest

from backends import Backend
from conformance import checks, untrusted, verdicts
from conformance.catalogue import VALUE, ParameterSet, spec_param
from conformance.gradcheck import as_shipped
from conformance.known_failures import shown_path
from conformance.operator_catalogue import CATALOGUE
from conformance.plugin import UNSUPPORTED

from . import findings
from .crash_reports import item_folder
from .crashes import FLIGHT_RECORD, Flight
from .operators import chainable_entries
from .records import Deviation
from .runner import Budget, fuzz
from .signatures import RUNS
from .summary import report

#: the order of the checks in a spec (:func:`conformance.gradcheck.check_gradients`), first order ("") first: an item
#: whose deviations fall in several fails in the first, as the spec would stop there
CHECK_ORDER = ("", *checks.NAMES)


class EngineRaised(Exception):
    """The engine raised where the oracle computed, in every deviation of the check the item fails in: the report
    counts the failure as a loud one (:func:`conformance.report.failure_kind`), not as a silent wrong result."""


def items(test: str) -> list[ParameterSet]:
    """``fuzz.<name>`` for each chainable entry, with the sources, capabilities and members of ``opgrad.<name>``,
    whose known failures it shares; ``test`` is the test function, as ``module::qualname``."""
    specs = {entry.name: entry for entry in CATALOGUE}
    return [
        spec_param(
            f"fuzz.{entry.name}",
            entry.name,
            says=f"Programs of one to three catalogue operators that start with {entry.name} hold the fuzzer's "
            "oracles where the engine declares what they need: its reverse mode against the float64 oracle, its "
            "forward mode against its reverse mode, its gradient against central differences, its second "
            "derivatives against the oracle's.",
            sources=specs[entry.name].sources,
            test=test,
            kind=VALUE,
            needs=specs[entry.name].needs,
            uses=specs[entry.name].uses,
            known_failures_of=specs[entry.name].id,
        )
        for entry in chainable_entries()
    ]


def seed_of(node: pytest.Item, name: str) -> int:
    """The item's seed: ``--fuzz-seed``, the operator and the draw; the same on every backend of a run."""
    draw = node.callspec.params.get("input_draw", 0)
    return node.config.getoption("fuzz_seed") * 2**32 + zlib.crc32(f"{name}:{draw}".encode())


def deciding(deviations: list[Deviation]) -> tuple[str, EngineRaised | None]:
    """The check the deviations fail the item in (the first, in the order of the spec's checks) and, where the engine
    raised in every deviation in it, the exception that says so (a loud failure)."""
    check = min((deviation.finding.check for deviation in deviations), key=CHECK_ORDER.index)
    falling = [deviation.finding for deviation in deviations if deviation.finding.check == check]
    if all(finding.oracle == RUNS for finding in falling):
        return check, EngineRaised(f"{falling[0].kind}: {falling[0].figures['message']}")
    return check, None


def fuzz_programs_starting_with(engine: Backend, name: str, node: pytest.Item) -> None:
    """Fuzz the programs that start with ``name`` on ``engine``: fail with the summary where one deviates, report a
    known failure where every deviation is a triaged finding of the engine's (:mod:`.findings`), skip as unsupported
    where the engine supported none of the programs, and give no verdict where none was checked."""
    budget = Budget(programs=node.config.getoption("fuzz_programs"))
    folder = item_folder(node.config.getoption("fuzz_out"), node.callspec.id)
    known = node.config.stash.get(findings.STASH, {}).get(engine.name) or findings.Findings()
    flight = Flight(folder / FLIGHT_RECORD, known.crashes)
    started = time.monotonic()
    with as_shipped():  # the harness's scope paused: the fuzzer holds the engine's around the engine's calls alone
        summary = fuzz(engine, budget, seed_of(node, name), first=name, flight=flight)
    text = report(engine.name, summary, time.monotonic() - started, folder, known)
    met, new = known.split(summary.deviations)
    if new:
        fail(name, list(new.values()), text)
    if met:
        # An item whose operator's spec is a known failure (strict, marked at collection) is judged by that entry
        # where the findings' deviations fall in its check: the entry's reason, not the findings'. The other findings
        # end the item in their own names, and an item with no deviation is "known failure passes" (its strictness).
        explained = [deviation for deviations in met.values() for deviation in deviations]
        if covered := in_the_entrys_check(node, explained):
            fail(name, covered, text)
        known_findings_met(node, known, met)
    discarded = [summary.unstable, summary.unsupported, summary.refused]
    if len(summary.programs) > sum(sum(counts.values()) for counts in discarded):
        return
    if summary.unsupported:
        pytest.skip(f"{UNSUPPORTED}: every program starting with {name}: {', '.join(sorted(summary.unsupported))}")
    pytest.skip(f"no program starting with {name} was checked\n{text}")


def in_the_entrys_check(node: pytest.Item, deviations: list[Deviation]) -> list[Deviation]:
    """Those of ``deviations`` that the known-failures entry of the item's operator covers: all of them where it
    names no check, those in its check where it does (:func:`conformance.checks.raised_in`), none without one."""
    marker = node.get_closest_marker("xfail")
    if marker is None:
        return []
    check = getattr(marker.kwargs.get("raises"), "check_name", None)
    return [deviation for deviation in deviations if check is None or deviation.finding.check == check]


def fail(name: str, deviations: list[Deviation], text: str) -> NoReturn:
    """Fail the item with the summary ``text``, in the check its ``deviations`` fail in first (loud where the engine
    raised in every one of that check's)."""
    check, raised = deciding(deviations)
    text = f"programs starting with {name} deviate\n{text}"
    error = EngineRaised(f"{raised}\n{text}") if raised else AssertionError(text)
    with checks.check(check) if check else nullcontext():
        raise error


def known_findings_met(node: pytest.Item, known: findings.Findings, met: dict[str, list[Deviation]]) -> NoReturn:
    """End the item as a known failure (pytest's xfail, which the report folds as the known-failures file's are)
    with the reasons of the findings met, failed in the check of their first deviation; loud where the engine raised
    in every deviation of that check."""
    check, raised = deciding([deviation for deviations in met.values() for deviation in deviations])
    reasons = "; ".join(known.by_name[name].describe() for name in met)
    if raised is not None:
        node.user_properties.append((verdicts.RAISED_PROPERTY, untrusted.exception(raised)))
    outcome = pytest.xfail.Exception(f"{verdicts.KNOWN_FINDING} ({shown_path(known.path)}): {reasons}")
    if check:
        setattr(outcome, checks.ATTRIBUTE, check)  # what checks.check tags an Exception with; xfail's is not one
    raise outcome
