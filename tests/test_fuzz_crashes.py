"""An engine that kills the process while the fuzzer runs it: the crash is a deviation with its program, the run
goes on (the command's ``--isolate``, the pytest entry's), and a known crash is not run again.

The engine is a throwaway plug-in whose second derivatives dereference a null pointer, as jittor's do through its
``numpy_code`` operators; the runs are subprocesses, as the crash would take the test's own process with it."""

import json
import subprocess
import sys

import pytest

from conformance.fuzz.crashes import Flight, crashed_deviation
from conformance.fuzz.programs import Program
from conformance.fuzz.signatures import SECOND, Signature
from tests.conftest import ROOT

ENGINE = '''
import ctypes
import time

from backends.torch_backend import TorchBackend


class SegfaultsInSecondOrder(TorchBackend):
    """torch, but a vjp that builds a graph to differentiate again dereferences a null pointer."""

    def vjp(self, fn, primals, cotangent, *, create_graph=False):
        if create_graph:
            ctypes.string_at(0)
        return super().vjp(fn, primals, cotangent, create_graph=create_graph)


class SlowInReverse(TorchBackend):
    """torch, but each vjp takes a second."""

    def vjp(self, fn, primals, cotangent, *, create_graph=False):
        time.sleep(1)
        return super().vjp(fn, primals, cotangent, create_graph=create_graph)
'''
BACKEND = "crashing_engine:SegfaultsInSecondOrder"
CRASHES = ["exp|second-order|crashed", "sin|second-order|crashed"]


@pytest.fixture
def engine_path(tmp_path, monkeypatch):
    """The plug-in importable by the subprocesses."""
    (tmp_path / "crashing_engine.py").write_text(ENGINE)
    monkeypatch.setenv("PYTHONPATH", f"{ROOT}:{tmp_path}")
    return tmp_path


def command(*arguments, cwd):
    return subprocess.run(
        [sys.executable, "-m", "conformance.fuzz", f"--backend={BACKEND}", "--operators=exp,sin", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def crash_findings(directory):
    """A findings file naming the engine's crashes, with a reproduction (an engine bug needs one)."""
    (directory / "crash.py").write_text("import sys\n\nsys.exit(1)\n")
    finding = {
        "signatures": CRASHES,
        "triage": "engine-bug",
        "reason": "the second derivative kills the process",
        "observed": {"torch": "2.15.0"},
        "reproduction": "crash.py",
    }
    path = directory / "findings.json"
    path.write_text(json.dumps({"second-order-crash": finding}))
    return path


def test_the_isolated_command_records_each_crash_with_its_program_and_goes_on(engine_path):
    run = command("--isolate", "--budget=12", f"--out={engine_path / 'out'}", cwd=engine_path)
    assert run.returncode == 1, run.stderr[-3000:]
    assert f"backend {BACKEND}: 12 programs" in run.stdout
    records = {json.loads(path.read_text())["signature"]: path for path in (engine_path / "out").glob("*.json")}
    assert set(records) == set(CRASHES), run.stdout
    record = json.loads(records["exp|second-order|crashed"].read_text())
    assert record["figures"] == {"message": "the process died of signal 11"}
    assert record["check"] == "second-order"
    assert not (engine_path / "out" / "flight.json").exists()


def test_a_known_crash_is_not_run_again_and_the_other_oracles_still_run(engine_path):
    """Not isolated: a run that met the crash would die of it."""
    findings = crash_findings(engine_path)
    run = command("--budget=12", f"--out={engine_path / 'out'}", f"--findings={findings}", cwd=engine_path)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "known findings met: 1 of 1" in run.stdout
    assert "new deviations: 0" in run.stdout


def test_a_known_crash_leaves_out_its_oracle_alone():
    """A crash in the second order of ``exp`` stands for that oracle of the programs through exp, not others."""
    flight = Flight(known=[Signature(("exp",), SECOND, "crashed")])
    flight.boarding({}, Program(("sin", "exp"), (2,), "none", 0), [])
    assert flight.entering(SECOND).kind == "crashed"
    assert flight.entering("reverse-vs-torch") is None
    flight.boarding({}, Program(("sin",), (2,), "none", 0), [])
    assert flight.entering(SECOND) is None


def test_the_flight_record_reads_back_as_the_crash_of_its_oracle(tmp_path):
    flight = Flight(tmp_path / "flight.json")
    program = Program(("exp",), (2,), "none", 0)
    flight.boarding({"backend": "x"}, program, [__import__("numpy").array([1.0, 2.0])])
    assert flight.entering(SECOND) is None
    crash = crashed_deviation(tmp_path / "flight.json", "of signal 11")
    assert crash.signature == "exp|second-order|crashed"
    assert crash.inputs[0].tolist() == [1.0, 2.0]
    assert not (tmp_path / "flight.json").exists()
    assert crashed_deviation(tmp_path / "flight.json", "of signal 11") is None


def entry(harness, monkeypatch, *arguments, backend=BACKEND):
    """``pytest fuzz_tests`` on the crashing engine, isolated; its JSON report's cell of ``fuzz.exp``."""
    harness.makepyfile(crashing_engine=ENGINE)
    monkeypatch.setenv("PYTHONPATH", f"{ROOT}:{harness.path}")
    run = harness.runpytest_subprocess(
        "--pyargs", "fuzz_tests", f"--backend={backend}", "--spec=fuzz.exp", "--isolate", "--fuzz-programs=3",
        "--fuzz-out=out", "--conformance-json=report.json", "-p", "no:cacheprovider", *arguments, timeout=600,
    )  # fmt: skip
    report = json.loads((harness.path / "report.json").read_text())
    return run, report["specs"][0]["verdicts"][backend]


def test_a_crashed_fuzz_item_names_the_program_and_writes_its_record(harness, monkeypatch):
    run, cell = entry(harness, monkeypatch)
    assert cell["verdict"] == "crashed", run.stdout.str()[-3000:]
    assert "the engine crashed running exp|second-order|crashed on its inputs: record" in cell["reason"]
    (record,) = (harness.path / "out").glob("*/exp_second-order_crashed.json")
    assert json.loads(record.read_text())["kind"] == "crashed"
    assert record.with_suffix(".py").is_file()
    assert run.ret == 1


def test_a_fuzz_item_whose_crash_is_known_is_a_known_failure(harness, monkeypatch, tmp_path):
    findings = crash_findings(tmp_path)
    run, cell = entry(harness, monkeypatch, f"--fuzz-findings={BACKEND}={findings}")
    assert cell["verdict"] == "known-failure", run.stdout.str()[-3000:]
    assert "second-order-crash" in cell["reason"]
    assert run.ret == 0


def test_a_fuzz_item_past_its_time_limit_times_out_at_once(harness, monkeypatch):
    """pytest-timeout's exception is not the program's failure: hypothesis would shrink it, running on until the
    watchdog ends the worker (and the program then running would read as a crash). The item times out instead."""
    slow = "crashing_engine:SlowInReverse"
    run, cell = entry(harness, monkeypatch, "--timeout=3", "--fuzz-programs=20", backend=slow)
    assert cell["verdict"] == "timed-out", run.stdout.str()[-3000:]
    assert not list((harness.path / "out").glob("*/*crashed*"))
