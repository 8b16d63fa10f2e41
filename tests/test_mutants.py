"""The specs can fail: torch on the CPU keeps every spec, every spec has a mutant, and every mutant fails the
spec meant to catch it."""

import functools
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backends.mutants import MUTANTS, translation_mutants
from conformance.catalogue import ROOT, SPEC_DIR, collect
from tests.conftest import torch_known_failures_here

NOT_APPLICABLE = "not applicable"
MUTANTS_DIR = ROOT / "backends" / "mutants"
VERDICTS = (AssertionError, pytest.fail.Exception)
#: a frame of the traceback text a failed rank of a distributed spec sends back (conformance.process_group)
RANK_FRAME = re.compile(r'File "([^"]+)", line \d+')


@functools.cache
def spec_modules() -> dict[str, Path]:
    """spec ID -> the module that declares it."""
    return {entry.spec.id: ROOT / entry.location.split("::", 1)[0] for entry in collect()}


class MutantCrashes:
    """Records every spec call that failed with an exception raised in a mutant's own code (the innermost
    frame of its traceback in ``backends/mutants/``): that is a bug of the mutant, not a verdict of the spec.
    A distributed spec's ranks assert nothing (the spec asserts on what they return), so a rank that failed
    with a mutant's code on its stack is a crash too.
    A verdict is an assertion, ``pytest.raises``' "DID NOT RAISE", or an error the engine raises where the
    documented behaviour says it works (a second backward with ``retain_graph=True``)."""

    def __init__(self) -> None:
        self.crashes: dict[str, str] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if report.when == "call" and call.excinfo is not None:
            innermost = Path(call.excinfo.traceback[-1].path)
            if innermost.is_relative_to(MUTANTS_DIR) and not issubclass(call.excinfo.type, VERDICTS):
                self.crashes[item.nodeid] = f"{call.excinfo.typename} at {innermost.name}"
            rank_frames = [Path(frame) for frame in RANK_FRAME.findall(str(call.excinfo.value))]
            if in_mutant := [frame.name for frame in rank_frames if frame.is_relative_to(MUTANTS_DIR)]:
                self.crashes[item.nodeid] = f"a rank failed inside {in_mutant[-1]}"
        return report


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
    assert_every_spec_holds(reports)


def assert_every_spec_holds(reports: list[pytest.TestReport]) -> None:
    """Every spec held, but those that torch's known-failures file lists for the installed release, which are its
    known failures, and those that cannot apply; and specs ran."""
    assert [report.nodeid for report in reports if report.failed] == []
    assert sorted(report.wasxfail for report in reports if hasattr(report, "wasxfail")) == sorted(
        f"known failure: {entry.reason}" for entry in torch_known_failures_here().values()
    )
    skipped = {
        report.nodeid: skip_reason(report) for report in reports if report.skipped and not hasattr(report, "wasxfail")
    }
    assert {nodeid: reason for nodeid, reason in skipped.items() if NOT_APPLICABLE not in reason} == {}
    assert any(report.passed and report.when == "call" for report in reports)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_breaks_a_catalogued_spec(name):
    assert MUTANTS[name].breaks in spec_modules(), f"mutant:{name} breaks {MUTANTS[name].breaks!r}, not a spec ID"


def test_every_spec_is_caught_by_a_mutant():
    caught = {cls.breaks for cls in MUTANTS.values()}
    assert sorted(set(spec_modules()) - caught) == [], "specs that no mutant proves able to fail"


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_fails_the_spec_meant_to_catch_it(pytester, name):
    breaks = MUTANTS[name].breaks
    crashes = MutantCrashes()
    recorder = run_specs(
        pytester, spec_modules()[breaks], f"--backend=mutant:{name}", f"--spec={breaks}", plugins=[crashes]
    )
    reports = recorder.getreports("pytest_runtest_logreport")
    if (known := torch_known_failures_here().get(breaks)) is not None and known.fails_in is None:
        # torch itself fails the whole spec on this release (torch 2.11 to 2.14 and the Bessel functions), and so
        # does its mutant, with torch's known failure: on the pinned torch the spec passes and the mutant fails it
        assert any(hasattr(report, "wasxfail") for report in reports), f"mutant:{name} is no known failure here"
        return
    failed = [report.when for report in reports if report.failed]
    # a spec that is a family (its variations parametrized under one ID) fails in each variation the mutant breaks
    assert failed and set(failed) == {"call"}, f"mutant:{name} is not failed by {breaks}"
    assert crashes.crashes == {}, f"mutant:{name} crashed instead of failing {breaks}"


KEEPING = sorted(name for name, cls in MUTANTS.items() if cls.keeps)


@pytest.mark.parametrize("name", KEEPING)
def test_mutant_passes_the_specs_it_keeps(pytester, name):
    """A mutant that refuses in its own words passes the refusal spec beside the surface spec it fails (and one
    that refuses only after changing state passes the surface spec): the two questions are told apart."""
    for kept in MUTANTS[name].keeps:
        if kept in torch_known_failures_here():  # torch fails it on this version (no Bessel gradient before 2.15)
            continue
        recorder = run_specs(pytester, spec_modules()[kept], f"--backend=mutant:{name}", f"--spec={kept}")
        reports = recorder.getreports("pytest_runtest_logreport")
        assert [report.nodeid for report in reports if report.failed or report.skipped] == [], f"{name} fails {kept}"
        assert any(report.passed and report.when == "call" for report in reports), f"{kept} did not run on {name}"


def test_every_surface_spec_of_a_refusal_has_an_own_words_mutant_that_keeps_the_refusal():
    """Each surface spec pinning torch's error of a refusal is broken by a mutant that passes the refusal spec."""
    refusal_twins = {cls.breaks: cls.keeps for cls in MUTANTS.values() if cls.keeps}
    surfaces = [spec_id for spec_id in spec_modules() if spec_id.endswith("-torch-error")]
    assert surfaces
    assert [spec_id for spec_id in surfaces if not refusal_twins.get(spec_id)] == []


def test_the_translation_mutants_are_right_where_the_specs_used_to_stop():
    """Each translation mutant gives torch's result on the inputs the specs tried before (one output channel of a
    pixel shuffle, a symmetric positive definite matrix), so only the specs' other inputs catch it."""
    x, y = torch.randn(1, 4, 2, 2, dtype=torch.float64), torch.randn(1, 1, 4, 2, dtype=torch.float64)
    assert torch.equal(translation_mutants.pixel_shuffle_channels_last(x, 2), torch.nn.functional.pixel_shuffle(x, 2))
    assert torch.equal(
        translation_mutants.pixel_unshuffle_channels_last(y, 2), torch.nn.functional.pixel_unshuffle(y, 2)
    )
    a = torch.randn(3, 3, dtype=torch.float64)
    positive_definite = a @ a.mT + torch.eye(3, dtype=torch.float64)
    assert torch.allclose(translation_mutants.logdet_by_cholesky(positive_definite), torch.logdet(positive_definite))


@pytest.mark.parametrize(
    ("mutated", "documented"),
    [
        (translation_mutants.leaky_relu_float32_slope, torch.nn.functional.leaky_relu),
        (lambda x: translation_mutants.gelu_float32_constants(x, "tanh"), lambda x: F.gelu(x, approximate="tanh")),
    ],
    ids=["leaky-relu", "gelu-tanh"],
)
def test_float32_constants_are_within_the_fixed_float64_tolerance_the_specs_used(mutated, documented):
    """An activation whose constants went through float32 keeps torch's float64 values and gradients within
    rtol 1e-7 (the fixed float64 tolerance before float64's error model): only the model catches it."""
    x = torch.randn(2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    values = [function(x).detach().numpy() for function in (mutated, documented)]
    np.testing.assert_allclose(*values, rtol=1e-7, atol=1e-9)
    gradients = []
    for function in (mutated, documented):
        x.grad = None
        function(x).sum().backward()
        gradients.append(x.grad.numpy().copy())
    np.testing.assert_allclose(*gradients, rtol=1e-7, atol=1e-9)
    assert not np.array_equal(*values)
