"""Crashes, hangs, interrupts and bad report paths cost one spec, never the truth of the report.

The engines here are throwaway plug-ins that abort, segfault or hang; the runs are subprocesses, as a crash
or a hang would take pytester's own process with it."""

import json

import pytest

from tests.conftest import ROOT
from tests.test_report import SPECS, verdict_table

MISBEHAVING = """
import ctypes
import os
import threading

from backends.mutants.corrupted_tensors import CorruptedTensor, CorruptedTensorBackend
from backends.torch_backend import TorchBackend


class AbortsInEverySpec(TorchBackend):
    '''Aborts the process when a spec seeds it, before any report of the spec.'''

    def seed(self, seed):
        os.abort()


class SegfaultsOnLeaves(TorchBackend):
    '''Dereferences a null pointer when asked for a tensor that requires grad.'''

    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            ctypes.string_at(0)
        return super().tensor(data)


class HangingTensor(CorruptedTensor):
    def backward(self, *args, **kwargs):
        threading.Event().wait()


class HangsInBackward(CorruptedTensorBackend):
    '''backward() never returns.'''

    tensor_type = HangingTensor
"""

INTERRUPTED_SPECS = """
import os
import signal

from conformance.catalogue import spec

@spec("alpha.first", sources=["000"], kind="value")
def test_first(engine):
    '''Holds.'''

@spec("alpha.interrupts", sources=["000"], kind="value")
def test_interrupts(engine):
    '''Holds, unless the run is interrupted here (as Ctrl-C would).'''
    if engine.name == "cpu":
        # Python's Ctrl-C handler, which a process started in the background of a shell inherits as ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.kill(os.getpid(), signal.SIGINT)

@spec("alpha.third", sources=["000"], kind="value")
def test_third(engine):
    '''Holds.'''
"""


def run(harness, monkeypatch, *args, timeout=240):
    """Run pytest in a subprocess that imports the plug-ins beside the specs; return it and its JSON report."""
    monkeypatch.setenv("PYTHONPATH", f"{ROOT}:{harness.path}")
    result = harness.runpytest_subprocess(
        "-p", "no:cacheprovider", "--conformance-json=report.json", *args, timeout=timeout
    )
    return result, json.loads((harness.path / "report.json").read_text())


def test_a_backend_that_crashes_in_every_spec_under_xdist_keeps_its_column_of_crashes(harness, monkeypatch):
    harness.makepyfile(test_specs=SPECS, misbehaving=MISBEHAVING)
    result, report = run(harness, monkeypatch, "-n", "2", "--backend=cpu,misbehaving:AbortsInEverySpec")
    assert result.ret == 1
    table = verdict_table(report)
    assert {spec for (spec, backend), verdict in table.items() if backend == "cpu" and verdict == "pass"} == {
        "alpha.holds",
        "alpha.only-on-cpu",
        "beta.needs-graph",
    }
    crashed = {spec: verdict for (spec, backend), verdict in table.items() if backend != "cpu"}
    assert crashed == dict.fromkeys(["alpha.holds", "alpha.only-on-cpu", "beta.needs-graph"], "crashed")
    assert report["backends"]["misbehaving:AbortsInEverySpec"]["summary"]["crashed"] == 3
    assert report["run"] == {"complete": True, "incomplete_because": [], "exit_status": 1}
    result.stdout.fnmatch_lines(["*alpha.holds * pass * CRASHED*", "*worker 'gw*' crashed while running*"])


def test_isolate_survives_a_segfault_in_a_serial_run(harness, monkeypatch):
    harness.makepyfile(test_specs=SPECS, misbehaving=MISBEHAVING)
    result, report = run(harness, monkeypatch, "--isolate", "--backend=misbehaving:SegfaultsOnLeaves")
    assert result.ret == 1
    assert verdict_table(report) == {
        ("alpha.holds", "misbehaving:SegfaultsOnLeaves"): "pass",
        ("alpha.only-on-cpu", "misbehaving:SegfaultsOnLeaves"): "fail",
        ("beta.needs-graph", "misbehaving:SegfaultsOnLeaves"): "crashed",
    }


def test_a_serial_crash_leaves_an_incomplete_placeholder_not_the_previous_report(harness, monkeypatch):
    harness.makepyfile(test_specs=SPECS, misbehaving=MISBEHAVING)
    (harness.path / "report.md").write_text("# Conformance report\n\nall pass (an earlier run)\n")
    result, report = run(harness, monkeypatch, "--backend=misbehaving:AbortsInEverySpec", "--conformance-md=report.md")
    assert result.ret != 0
    assert report["run"]["complete"] is False
    assert "in progress, or it died" in report["run"]["incomplete_because"][0]
    assert "INCOMPLETE run" in (harness.path / "report.md").read_text()


def test_a_hanging_backward_times_out_in_its_spec_and_the_threads_spec_does_not_wait_forever(harness, monkeypatch):
    specs = [ROOT / "spec_tests" / "test_mechanics_threads.py", ROOT / "spec_tests" / "test_gradients.py"]
    harness.makepyfile(misbehaving=MISBEHAVING)
    args = ["--timeout=1", "--backend=misbehaving:HangsInBackward", "--spec=mechanics.threads-independent-backward"]
    result, report = run(harness, monkeypatch, *map(str, specs), *args, "--spec=grad.external-gradient", timeout=120)
    assert result.ret == 1
    assert set(verdict_table(report).values()) == {"timed-out"}
    assert report["run"]["complete"] is True
    result.stdout.fnmatch_lines(["*TIMED OUT*", "*Timeout (>1.0s) from pytest-timeout. (--timeout=SECONDS changes*"])


def test_specs_get_the_default_time_limit_unless_pytest_timeout_is_configured(harness):
    harness.makepyfile(
        """
        from conformance.catalogue import spec

        @spec("alpha.limit", sources=["000"], kind="value")
        def test_limit(engine, request):
            '''Records its time limit.'''
            print("LIMIT", request.node.get_closest_marker("timeout"))
        """
    )
    harness.runpytest("-s").stdout.fnmatch_lines(["*LIMIT Mark(name='timeout', args=(120.0,)*"])
    harness.runpytest("-s", "--timeout=5").stdout.fnmatch_lines(["*LIMIT None"])
    disabled = harness.runpytest("-s", "-p", "no:timeout")
    disabled.stdout.fnmatch_lines(["*LIMIT None"])
    assert disabled.ret == 0


def test_isolate_without_xdist_is_a_usage_error(harness):
    harness.makepyfile(
        """
        from conformance.catalogue import spec

        @spec("alpha.isolated", sources=["000"], kind="value")
        def test_isolated(engine):
            '''Holds.'''
            assert engine
        """
    )
    result = harness.runpytest("--isolate", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--isolate runs the specs in a pytest-xdist worker*"])


def test_an_interrupted_run_is_reported_incomplete_with_the_specs_never_run(harness, monkeypatch):
    harness.makepyfile(INTERRUPTED_SPECS)
    result, report = run(harness, monkeypatch, "--backend=cpu,torch:cpu")
    assert result.ret == 2
    assert set(report["backends"]) == {"cpu", "torch:cpu"}
    assert verdict_table(report) == {
        ("alpha.first", "cpu"): "pass",
        ("alpha.first", "torch:cpu"): "not-run",
        ("alpha.interrupts", "cpu"): "not-run",
        ("alpha.interrupts", "torch:cpu"): "not-run",
        ("alpha.third", "cpu"): "not-run",
        ("alpha.third", "torch:cpu"): "not-run",
    }
    assert report["run"]["complete"] is False
    assert report["run"]["incomplete_because"][0].startswith("interrupted")
    result.stdout.fnmatch_lines(["*INCOMPLETE run, exit status 2: interrupted*5 selected specs never reported*"])


def test_a_run_stopped_by_x_is_reported_incomplete(harness, monkeypatch):
    harness.makepyfile(SPECS)
    result, report = run(harness, monkeypatch, "-x", "--backend=torch:cpu,cpu")
    assert result.ret == 1
    assert set(report["backends"]) == {"cpu", "torch:cpu"}
    assert sorted(verdict_table(report).values()).count("not-run") >= 1
    assert report["run"]["incomplete_because"][0] == "stopped early (-x/--maxfail): stopping after 1 failures"


def test_a_run_that_selects_no_spec_replaces_the_previous_report(harness, monkeypatch):
    harness.makepyfile(SPECS)
    (harness.path / "report.json").write_text('{"an": "earlier run"}')
    result, report = run(harness, monkeypatch, "-k", "nothing-matches")
    assert result.ret == 5
    assert report["run"] == {"complete": False, "incomplete_because": ["no spec was selected"], "exit_status": 5}


def test_missing_report_directories_are_created(harness):
    harness.makepyfile(SPECS)
    result = harness.runpytest("--conformance-json=out/json/report.json", "--conformance-md=out/md/report.md")
    assert result.ret == 0
    assert json.loads((harness.path / "out/json/report.json").read_text())["run"]["complete"] is True
    assert "complete run" in (harness.path / "out/md/report.md").read_text()


def test_a_usage_error_replaces_the_previous_report_too(harness):
    harness.makepyfile(SPECS)
    (harness.path / "report.json").write_text('{"an": "earlier run"}')
    assert harness.runpytest("--backend=no-such-engine", "--conformance-json=report.json").ret == 4
    assert json.loads((harness.path / "report.json").read_text())["run"]["complete"] is False


def test_an_unwritable_report_path_is_a_usage_error_before_any_spec_runs(harness):
    harness.makepyfile(SPECS)
    (harness.path / "a-file").write_text("")
    for option in ("--conformance-json", "--conformance-md"):
        result = harness.runpytest(f"{option}=a-file/report")
        assert result.ret == 4
        result.stderr.fnmatch_lines([f"*{option}=a-file/report: cannot write the report there*"])
        assert "passed" not in result.stdout.str()


HELD_BY_A_FAILURE = """
import gc
import weakref

from backends.torch_backend import TorchBackend
from conformance.catalogue import spec


class Work:
    '''Unfinished work of a lazy engine.'''


class KeepsPendingWork(TorchBackend):
    '''Counts, at each reset(), the work that earlier specs left alive.'''

    pending = weakref.WeakSet()
    alive_at_reset = []

    def reset(self):
        gc.collect()
        self.alive_at_reset.append(len(self.pending))


@spec("alpha.fails-holding-work", sources=["000"], kind="value")
def test_fails_holding_work(engine):
    '''Fails with the engine's unfinished work in its frame.'''
    work = Work()
    engine.pending.add(work)
    assert work is None


@spec("alpha.starts-clean", sources=["000"], kind="value")
def test_starts_clean(engine):
    '''Starts with no work of the spec before it alive.'''
    assert engine.alive_at_reset[-1] == 0
"""


def test_a_failed_specs_objects_are_released_before_the_next_specs_reset(harness, monkeypatch):
    """pytest keeps the last failure's traceback (``sys.last_traceback``) until the next spec's call; the harness
    drops it before the next spec's setup, so that the engine's reset() can free what the failed spec left."""
    harness.makepyfile(test_specs=HELD_BY_A_FAILURE)
    result, report = run(harness, monkeypatch, "--backend=test_specs:KeepsPendingWork")
    result.assert_outcomes(failed=1, passed=1)
    assert verdict_table(report) == {
        ("alpha.fails-holding-work", "test_specs:KeepsPendingWork"): "fail",
        ("alpha.starts-clean", "test_specs:KeepsPendingWork"): "pass",
    }
