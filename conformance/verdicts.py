"""One verdict per (spec, backend), folded from pytest's setup/call/teardown reports.

The verdicts:

- ``pass``: the spec ran and held.
- ``fail``: the spec ran and the behaviour did not hold.
- ``unsupported``: not run, the backend does not declare a capability the spec needs.
- ``known-failure``: failed, as the backend's known-failures file says it does (the reason is shown).
- ``known-failure-passes``: listed as a known failure but held: flagged, and fails the run until the entry
  is removed from the file (pytest's strict xfail).
- ``not-applicable``: not run, the spec cannot apply to the backend (it skipped with a reason starting
  "not applicable", such as a GPU-only behaviour on a CPU backend).
- ``error``: did not give a verdict for another reason: a setup or teardown error (fixture, state guard
  after a pass), or any other skip. It fails the run: a spec that did not run is no pass.

A spec "ran" when its verdict is pass, fail, known-failure or known-failure-passes; coverage is specs run
over the specs selected that apply to the backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .plugin import NOT_APPLICABLE, UNSUPPORTED

PASS = "pass"
FAIL = "fail"
UNSUPPORTED_VERDICT = "unsupported"
KNOWN_FAILURE = "known-failure"
KNOWN_FAILURE_PASSES = "known-failure-passes"
NOT_APPLICABLE_VERDICT = "not-applicable"
ERROR = "error"

ALL = (PASS, FAIL, UNSUPPORTED_VERDICT, KNOWN_FAILURE, KNOWN_FAILURE_PASSES, NOT_APPLICABLE_VERDICT, ERROR)
RAN = frozenset({PASS, FAIL, KNOWN_FAILURE, KNOWN_FAILURE_PASSES})
#: the verdicts that say the behaviour did not hold (counted by spec kind in the report)
FAILED = frozenset({FAIL, KNOWN_FAILURE})


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str = ""
    #: for ``unsupported``: the capabilities the spec needs that the backend does not declare
    missing: tuple[str, ...] = ()


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


def fold(previous: Verdict | None, report: pytest.TestReport, known_reason: str | None) -> Verdict | None:
    """The verdict after ``report``, given the verdict so far and the spec's known-failure reason (if any)."""
    if hasattr(report, "wasxfail"):  # pytest's strict xfail, set from the known-failures file
        return Verdict(KNOWN_FAILURE, known_reason or report.wasxfail)
    if report.when == "setup":
        if report.failed:
            return Verdict(ERROR, "setup error")
        if report.skipped:
            return skipped(report)
        return previous
    if report.when == "call":
        if report.passed:
            return Verdict(PASS)
        if report.failed:
            if known_reason is not None:
                return Verdict(KNOWN_FAILURE_PASSES, f"listed as known failure ({known_reason}) but passes")
            return Verdict(FAIL)
        return skipped(report)
    if report.failed and (previous is None or previous.verdict == PASS):
        return Verdict(ERROR, "teardown error")
    return previous
