"""The specs can fail: torch on the CPU keeps every spec, and every mutant fails the spec meant to catch it."""

import functools
from pathlib import Path

import pytest

from backends.mutants import MUTANTS
from conformance.catalogue import ROOT, SPEC_DIR, collect

NOT_APPLICABLE = "not applicable"


@functools.cache
def spec_modules() -> dict[str, Path]:
    """spec ID -> the module that declares it."""
    return {entry.spec.id: ROOT / entry.location.split("::", 1)[0] for entry in collect()}


class FailureKinds:
    """Records the exception type of every failed spec call: a spec's verdict is an AssertionError or
    pytest's Failed (pytest.raises' "DID NOT RAISE", pytest.fail); anything else is a crash."""

    def __init__(self) -> None:
        self.failures: dict[str, type[BaseException]] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if report.when == "call" and call.excinfo is not None:
            self.failures[item.nodeid] = call.excinfo.type
        return report

    def crashes(self) -> dict[str, str]:
        verdicts = (AssertionError, pytest.fail.Exception)
        return {nodeid: kind.__name__ for nodeid, kind in self.failures.items() if not issubclass(kind, verdicts)}


def run_specs(pytester: pytest.Pytester, path: Path, *args: str, plugins=()) -> pytest.HookRecorder:
    recorder = pytester.inline_run(
        str(path), "-p", "no:randomly", "-p", "no:cacheprovider", *args, plugins=list(plugins)
    )
    assert not recorder.getfailedcollections(), "the specs failed to collect"
    return recorder


def skip_reason(report: pytest.TestReport) -> str:
    return report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)


def test_torch_on_the_cpu_keeps_every_spec(pytester):
    reports = run_specs(pytester, SPEC_DIR, "--backend=cpu").getreports("pytest_runtest_logreport")
    assert [report.nodeid for report in reports if report.failed] == []
    skipped = {report.nodeid: skip_reason(report) for report in reports if report.skipped}
    assert {nodeid: reason for nodeid, reason in skipped.items() if NOT_APPLICABLE not in reason} == {}
    assert any(report.passed and report.when == "call" for report in reports)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_breaks_a_catalogued_spec(name):
    assert MUTANTS[name].breaks in spec_modules(), f"mutant:{name} breaks {MUTANTS[name].breaks!r}, not a spec ID"


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_fails_the_spec_meant_to_catch_it(pytester, name):
    breaks = MUTANTS[name].breaks
    kinds = FailureKinds()
    recorder = run_specs(
        pytester, spec_modules()[breaks], f"--backend=mutant:{name}", f"--spec={breaks}", plugins=[kinds]
    )
    reports = recorder.getreports("pytest_runtest_logreport")
    assert [report.when for report in reports if report.failed] == ["call"], f"mutant:{name} is not failed by {breaks}"
    assert kinds.crashes() == {}, f"mutant:{name} crashed instead of failing {breaks}"
