"""One verdict per (spec, backend), folded from pytest's setup/call/teardown reports.

The verdicts:

- ``pass``: the spec ran and held.
- ``fail``: the spec ran and the behaviour did not hold.
- ``unsupported``: not run, the backend does not declare a capability the spec needs, or lacks a member of one
  that the spec uses (``Backend.lacks``).
- ``known-failure``: failed, as the backend's known-failures file says it does (the reason is shown). An entry
  restricted to one check of the spec (``fails_in``) covers a failure in that check only: a failure elsewhere
  is a ``fail``.
- ``known-failure-passes``: listed as a known failure but held: flagged, and fails the run until the entry
  is removed from the file (pytest's strict xfail). An entry whose ``versions`` exclude the installed ones is
  not applied at all: the spec passes or fails as if unlisted.
- ``not-applicable``: not run, the spec cannot apply to the backend (it skipped with a reason starting
  "not applicable", such as a GPU-only behaviour on a CPU backend).
- ``error``: did not give a verdict for another reason: a setup or teardown error (fixture, state guard
  after a pass), any other skip, or a skip or xfail raised by the engine's code (whatever its message says: only
  the spec and the harness give verdicts). It fails the run: a spec that did not run is no pass.
- ``crashed``: the process running the spec died (a segfault or abort in the engine); only a run under
  ``pytest -n`` or ``--isolate`` survives it, as pytest-xdist reports the spec a worker died in and replaces
  the worker. Fails the run.
- ``timed-out``: the spec did not finish within its time limit (pytest-timeout). Fails the run, even for a
  spec listed as a known failure: a hang is no documented deviation.
- ``not-run``: selected but never reported: the run was interrupted or stopped early (``-x``, too many
  crashed workers) before the spec ran. Fails the run.

A spec "ran" when its verdict is pass, fail, known-failure or known-failure-passes; coverage is specs run
over the specs selected that apply to the backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import _pytest
import pluggy
import pytest
import pytest_timeout

from . import untrusted
from .known_failures import Entry
from .plugin import NOT_APPLICABLE, UNSUPPORTED

PASS = "pass"
FAIL = "fail"
UNSUPPORTED_VERDICT = "unsupported"
KNOWN_FAILURE = "known-failure"
KNOWN_FAILURE_PASSES = "known-failure-passes"
NOT_APPLICABLE_VERDICT = "not-applicable"
ERROR = "error"
CRASHED = "crashed"
TIMED_OUT = "timed-out"
NOT_RUN = "not-run"

ALL = (
    PASS,
    FAIL,
    UNSUPPORTED_VERDICT,
    KNOWN_FAILURE,
    KNOWN_FAILURE_PASSES,
    NOT_APPLICABLE_VERDICT,
    ERROR,
    CRASHED,
    TIMED_OUT,
    NOT_RUN,
)
RAN = frozenset({PASS, FAIL, KNOWN_FAILURE, KNOWN_FAILURE_PASSES})
#: the verdicts that say the behaviour did not hold (counted by spec kind in the report)
FAILED = frozenset({FAIL, KNOWN_FAILURE})
#: verdicts that fail the run even where pytest's exit status would not (a strict xfail that timed out)
NO_VERDICT = frozenset({ERROR, CRASHED, TIMED_OUT, NOT_RUN})

#: the user property a report of a timed-out spec carries (set when the report is made, see is_timeout)
TIMED_OUT_PROPERTY = "timed_out"
#: the user property of a spec that failed because an exception other than an assertion escaped it: the engine
#: raised where the spec expected it to go on (see :func:`raised`)
RAISED_PROPERTY = "raised"
#: the user property of a spec that failed in a named check (see :mod:`conformance.checks`)
FAILED_IN_PROPERTY = "failed_in"
#: how the reason of a fuzz item's known failure starts where triaged findings explain its deviations
#: (:mod:`conformance.fuzz.findings`): its own reason, even where its operator's spec has a known-failures entry
KNOWN_FINDING = "known finding"
#: how pytest's report of a strict xfail that passed starts
XPASS_STRICT = "[XPASS(strict)]"
#: how the report counts a value spec's failure where the engine raised instead of giving a value
LOUD = "loud"
#: the user property of a spec in which code other than the spec's and the harness's (an engine's, an adapter's)
#: called ``pytest.skip`` or ``pytest.xfail``: no verdict (see :func:`engine_outcome`)
ENGINE_OUTCOME_PROPERTY = "engine_outcome"
#: where the skips and xfails that are verdicts come from, besides the spec's own module: the harness and the specs
HARNESS = (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "spec_tests")
#: pytest's own frames (``pytest.skip`` raising), passed over to find who called it
PYTEST = tuple(Path(module.__file__).resolve().parent for module in (_pytest, pluggy, pytest))
#: how pytest-timeout's failure message starts ("Timeout (>120.0s) from pytest-timeout.")
TIMEOUT_MESSAGE_START = pytest_timeout.PYTEST_FAILURE_MESSAGE.partition("%")[0]


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str = ""
    #: for ``unsupported``: the capabilities the spec needs that the backend does not declare; for ``pass``: the
    #: members it was checked without float64 for (``float64[functional.max_pool3d]``)
    missing: tuple[str, ...] = ()
    #: for ``fail`` and ``known-failure``: the exception that escaped the spec (``"TypeError: ..."``), when it
    #: was no failed assertion; empty otherwise
    raised: str = ""
    #: for ``fail`` and ``known-failure``: the named check of the spec that failed (``second-order``), empty
    #: for a failure outside any (see :mod:`conformance.checks`)
    failed_in: str = ""


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return message.removeprefix("Skipped: ")


def skipped(report: pytest.TestReport) -> Verdict:
    """The verdict of a skip: unsupported, not applicable, or (any other reason) an error."""
    reason = skip_reason(report)
    if reason.startswith(UNSUPPORTED + ":"):
        missing = dict(report.user_properties).get("missing", "")
        return Verdict(
            UNSUPPORTED_VERDICT,
            reason.removeprefix(UNSUPPORTED + ":").strip(),
            tuple(filter(None, missing.split(", "))),
        )
    if reason.startswith(NOT_APPLICABLE + ":"):
        return Verdict(NOT_APPLICABLE_VERDICT, reason.removeprefix(NOT_APPLICABLE + ":").strip())
    return Verdict(ERROR, reason)


def passed(properties: dict) -> Verdict:
    """A pass, naming the members the spec ran without float64 for (``float64[member]``, in ``missing``)."""
    lacked = tuple(filter(None, properties.get("missing", "").split(", ")))
    return Verdict(PASS, f"checked in float32 only: no float64 for {', '.join(lacked)}" if lacked else "", lacked)


def is_timeout(error: BaseException) -> bool:
    """Whether ``error`` is pytest-timeout stopping a spec (its signal method fails the spec with a message)."""
    return isinstance(error, pytest.fail.Exception) and str(error).startswith(TIMEOUT_MESSAGE_START)


def engine_outcome(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException], backend: str) -> str:
    """For a ``pytest.skip`` or ``pytest.xfail`` called by code outside the spec's module, the harness and pytest
    (the engine's, or its adapter's: an "unsupported:" or "not applicable:" skip, or an xfail, with no
    capability or known-failures file behind it), the error that replaces its verdict; else empty."""
    error = excinfo.value
    if not isinstance(error, pytest.skip.Exception | pytest.xfail.Exception):
        return ""
    spec_module = Path(item.path).resolve()
    for entry in reversed(excinfo.traceback):
        path = Path(entry.path).resolve()
        if any(path.is_relative_to(directory) for directory in PYTEST):
            continue
        if path == spec_module or any(path.is_relative_to(directory) for directory in HARNESS):
            return ""
        called = "pytest.xfail" if isinstance(error, pytest.xfail.Exception) else "pytest.skip"
        return (
            f"backend {backend} called {called}({untrusted.text(error.msg, 200)!r}) at {path}:{entry.lineno + 1}: "
            "a skip or xfail of the engine's is no verdict"
        )
    return ""


def raised(error: BaseException) -> str:
    """``"TypeError: the message's first line"`` for an exception that escaped a spec, or empty for a failed
    assertion and for pytest's own outcomes (a ``pytest.fail``, skip or timeout): a spec's assertion failing
    means the engine went on and got it wrong; anything else means the engine (or the adapter) stopped it."""
    if isinstance(error, AssertionError | pytest.fail.Exception | pytest.skip.Exception):
        return ""
    return untrusted.exception(error)


def is_strict_xpass(report: pytest.TestReport) -> bool:
    """Whether ``report`` is pytest's failure of a strict xfail that passed (not a failure of the spec)."""
    return isinstance(report.longrepr, str) and report.longrepr.startswith(XPASS_STRICT)


#: verdict statuses from the worst to the best: one spec's verdict over several runs of it (``--draws``) is the worst
SEVERITY = (
    CRASHED,
    TIMED_OUT,
    ERROR,
    FAIL,
    KNOWN_FAILURE_PASSES,
    KNOWN_FAILURE,
    UNSUPPORTED_VERDICT,
    NOT_APPLICABLE_VERDICT,
    PASS,
    NOT_RUN,
)


def worst(results: Iterable[Verdict]) -> Verdict:
    """The worst of several verdicts of one spec on one backend (the first of equals)."""
    return min(results, key=lambda result: SEVERITY.index(result.verdict))


def fold(previous: Verdict | None, report: pytest.TestReport, known: Entry | None) -> Verdict | None:
    """The verdict after ``report``, given the verdict so far and the spec's known-failures entry (if any applies
    to this run)."""
    properties = dict(report.user_properties)
    if timeout := properties.get(TIMED_OUT_PROPERTY):
        return Verdict(TIMED_OUT, f"{timeout} (--timeout=SECONDS changes the limit)")
    if engine_error := properties.get(ENGINE_OUTCOME_PROPERTY):
        return Verdict(ERROR, engine_error)
    error, failed_in = properties.get(RAISED_PROPERTY, ""), properties.get(FAILED_IN_PROPERTY, "")
    if hasattr(report, "wasxfail"):  # pytest's xfail, set from the known-failures file, or a known finding's
        # pytest before 8.1 prefixes the reason of an imperative pytest.xfail (a known finding's) with "reason: "
        shown = report.wasxfail.removeprefix("reason: ")
        if report.passed:  # an entry shared with another spec, not strict (conformance.report): not met here
            return Verdict(PASS, f"not met by this run: {shown}")
        reason = shown if known is None or shown.startswith(KNOWN_FINDING) else known.reason
        return Verdict(KNOWN_FAILURE, reason, raised=error, failed_in=failed_in)
    if report.when == "setup":
        if report.failed:
            return Verdict(ERROR, "setup error")
        if report.skipped:
            return skipped(report)
        return previous
    if report.when == "call":
        if report.passed:
            return passed(properties)
        if report.failed:
            if known is not None and is_strict_xpass(report):
                return Verdict(KNOWN_FAILURE_PASSES, f"listed as known failure ({known.reason}) but passes")
            if known is not None:  # it failed, but not in the one check its entry covers
                where = f"in the {failed_in} check" if failed_in else "outside any named check"
                return Verdict(
                    FAIL,
                    f"failed {where}; its known failure is in the {known.fails_in} check only",
                    raised=error,
                    failed_in=failed_in,
                )
            return Verdict(FAIL, raised=error, failed_in=failed_in)
        return skipped(report)
    if report.failed and (previous is None or previous.verdict == PASS):
        return Verdict(ERROR, "teardown error")
    return previous
