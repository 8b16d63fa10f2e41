"""One verdict per (spec, backend), folded from pytest's setup/call/teardown reports.

The verdicts:

- ``pass``: the spec ran and held.
- ``fail``: the spec ran and the behaviour did not hold.
- ``unsupported``: not run, the backend does not declare a capability the spec needs.
- ``known-failure``: failed, as the backend's known-failures file says it does (the reason is shown).
- ``known-failure-passes``: listed as a known failure but held: flagged, and fails the run until the entry
  is removed from the file (pytest's strict xfail).
- ``error``: did not give a verdict for another reason: a setup or teardown error (fixture, state guard
  after a pass), or a skip that is not "unsupported". It fails the run: a spec that did not run is no pass.

A spec "ran" when its verdict is pass, fail, known-failure or known-failure-passes; coverage is specs run
over specs selected.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .plugin import UNSUPPORTED

PASS = "pass"
FAIL = "fail"
UNSUPPORTED_VERDICT = "unsupported"
KNOWN_FAILURE = "known-failure"
KNOWN_FAILURE_PASSES = "known-failure-passes"
ERROR = "error"

ALL = (PASS, FAIL, UNSUPPORTED_VERDICT, KNOWN_FAILURE, KNOWN_FAILURE_PASSES, ERROR)
RAN = frozenset({PASS, FAIL, KNOWN_FAILURE, KNOWN_FAILURE_PASSES})


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str = ""


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return message.removeprefix("Skipped: ")


def fold(previous: Verdict | None, report: pytest.TestReport, known_reason: str | None) -> Verdict | None:
    """The verdict after ``report``, given the verdict so far and the spec's known-failure reason (if any)."""
    if hasattr(report, "wasxfail"):  # pytest's strict xfail, set from the known-failures file
        return Verdict(KNOWN_FAILURE, known_reason or report.wasxfail)
    if report.when == "setup":
        if report.failed:
            return Verdict(ERROR, "setup error")
        if report.skipped:
            reason = skip_reason(report)
            return Verdict(UNSUPPORTED_VERDICT if reason.startswith(UNSUPPORTED + ":") else ERROR, reason)
        return previous
    if report.when == "call":
        if report.passed:
            return Verdict(PASS)
        if report.failed:
            if known_reason is not None:
                return Verdict(KNOWN_FAILURE_PASSES, f"listed as known failure ({known_reason}) but passes")
            return Verdict(FAIL)
        return Verdict(ERROR, skip_reason(report))
    if report.failed and (previous is None or previous.verdict == PASS):
        return Verdict(ERROR, "teardown error")
    return previous
