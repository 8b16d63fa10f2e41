"""The hostile-engine kit: each backend of tests/hostile_backends.py breaks one thing, and gets the verdict or
the message it must get. Lied (a verdict the engine gave itself, a leak blamed on the next backend), lost (a
report gone with an exception), corrupt (markup, escapes or a broken table in a report) and traceback (a
declaration of the wrong type) are the classes of issue 31."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import torch

from tests.conftest import ROOT
from tests.hostile_backends import HOSTILE_TEXT
from tests.test_reliability import INTERRUPTED_SPECS
from tests.test_reliability import run as run_subprocess
from tests.test_report import verdict_table

SPECS = """
from backends import capabilities as cap
from conformance.catalogue import spec

@spec("alpha.leaf", sources=["000"], needs=[cap.AUTOGRAD], kind="value")
def test_leaf(engine):
    '''A leaf requires grad.'''
    assert engine.tensor([1.0], requires_grad=True).requires_grad

@spec("alpha.plain", sources=["000"], kind="value")
def test_plain(engine):
    '''A tensor reads back.'''
    assert engine.to_numpy(engine.tensor([1.0])).tolist() == [1.0]
"""

SCHEMA = json.loads((ROOT / "docs" / "report-schema.json").read_text(encoding="utf-8"))
#: what no report may hold raw: markup, images, control characters, a lone surrogate
FORBIDDEN_IN_MARKDOWN = ("<script", "<img", "<b>", "<i>", "![", "\x1b", "\x00", "\u202e", "\n new line")


def run(harness, *args):
    """Run the two specs with ``args``; return the result, the JSON report (checked against the schema), the
    Markdown report and the terminal output."""
    harness.makepyfile(test_specs=SPECS)
    result = harness.runpytest(*args, "--conformance-json=report.json", "--conformance-md=report.md")
    report = json.loads((harness.path / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, SCHEMA)
    markdown = (harness.path / "report.md").read_text(encoding="utf-8")
    return result, report, markdown, result.stdout.str()


def backend(name):
    return f"--backend=tests.hostile_backends:{name}"


def unescaped_pipes(line):
    return len(re.findall(r"(?<!\\)\|", line))


def test_hostile_names_messages_and_reasons_stay_inert_in_every_report(harness):
    known = harness.path / "known.json"
    known.write_text(json.dumps({"alpha.plain": HOSTILE_TEXT}), encoding="utf-8")
    name = "tests.hostile_backends:Hostile"
    result, report, markdown, terminal = run(harness, backend("Hostile"), f"--known-failures={name}={known}")
    assert result.ret == 1
    assert verdict_table(report) == {("alpha.leaf", name): "fail", ("alpha.plain", name): "known-failure-passes"}
    leaf = report["specs"][0]["verdicts"][name]
    assert leaf["raised"].startswith("Hostile<b>|\x1b[31mError: <script>alert(1)</script>")
    assert "\ud800" not in json.dumps(report, ensure_ascii=False)
    for text in (markdown, terminal):
        assert "\x1b" not in text
        assert "\x00" not in text
    for forbidden in FORBIDDEN_IN_MARKDOWN:
        assert forbidden not in markdown
    assert "&lt;script&gt;" in markdown
    assert "\\x1b\\[32mcomplete run" in markdown.replace("\\\\", "\\")
    for table in ("| spec |", "| backend |"):
        lines = markdown[markdown.index(table) :].split("\n\n")[0].splitlines()
        assert {unescaped_pipes(line) for line in lines} == {unescaped_pipes(lines[0])}
    assert "\\x1b[32mcomplete run (exit status 0)\\x1b[0m" in terminal


def test_an_exception_that_cannot_be_printed_costs_its_spec_only(harness):
    result, report, markdown, _ = run(harness, backend("RaisesUnprintable"))
    assert result.ret == 1
    assert "INTERNALERROR" not in result.stdout.str()
    name = "tests.hostile_backends:RaisesUnprintable"
    assert verdict_table(report) == {("alpha.leaf", name): "fail", ("alpha.plain", name): "pass"}
    assert report["specs"][0]["verdicts"][name]["raised"] == (
        "Unprintable: <unprintable Unprintable: str() raised ValueError>"
    )
    assert "complete run (exit status 1)" in markdown


def test_describe_raising_at_the_end_keeps_the_report_with_the_startup_description(harness):
    result, report, _, _ = run(harness, backend("DescribeFailsLate"))
    assert result.ret == 0
    described = report["backends"]["tests.hostile_backends:DescribeFailsLate"]
    assert described["engine"] == "torch"
    assert described["describe_error"] == "RuntimeError: gone"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("VersionNotAString", "engine_version gave a tuple; expected a string"),
        ("DescribesAnObject", "describe() gave 'device_handle' of type object; expected a JSON scalar or a list"),
        ("GlobalStateNotADict", "global_state() gave a list; expected a dict"),
        ("CapabilitiesAList", "declares capabilities as list ['autograd']; expected a frozenset of capability"),
        ("LacksAList", "declares lacks as {'tensor.unary': ['erfinv']}; expected a dict of capability name to a"),
        ("DeviceRaises", "cannot run here: describe() raised RuntimeError: no device here"),
    ],
)
def test_a_declaration_of_the_wrong_type_is_a_usage_error_naming_the_backend(harness, name, message):
    harness.makepyfile(test_specs=SPECS)
    result = harness.runpytest(backend(name))
    assert result.ret == 4
    error = result.stderr.str()
    assert "INTERNALERROR" not in error + result.stdout.str()
    assert f"backend 'tests.hostile_backends:{name}'" in error
    assert message in error


@pytest.mark.parametrize(
    ("name", "called", "verdicts"),
    [
        ("SkipsAsNotApplicable", "pytest.skip('not applicable: this engine decides for itself')", {"alpha.leaf"}),
        ("SkipsAsUnsupported", "pytest.skip('unsupported: nothing, really')", {"alpha.leaf", "alpha.plain"}),
        ("Xfails", "pytest.xfail('known failure, says the engine')", {"alpha.leaf"}),
    ],
)
def test_a_skip_or_xfail_raised_by_the_engine_is_an_error_naming_it(harness, name, called, verdicts):
    result, report, _, _ = run(harness, backend(name))
    assert result.ret == 1
    full = f"tests.hostile_backends:{name}"
    errors = {spec for (spec, _), verdict in verdict_table(report).items() if verdict == "error"}
    assert errors == verdicts
    reason = report["specs"][0]["verdicts"][full]["reason"]
    assert reason.startswith(f"backend {full} called {called} at {ROOT / 'tests' / 'hostile_backends.py'}:")
    assert reason.endswith("a skip or xfail of the engine's is no verdict")


@pytest.mark.parametrize(
    ("name", "leak"),
    [
        ("LeavesInferenceMode", "torch inference mode: False -> True"),
        ("LeavesSavedTensorHooks", "torch saved-tensor hooks: None -> (<function"),
        ("LeavesDualLevel", "torch forward-AD dual level: -1 -> 0"),
        ("LeavesFunctionMode", "torch function modes: () -> (<tests.hostile_backends.PassThroughFunctions"),
        ("LeavesDispatchMode", "torch dispatch modes: () -> (<tests.hostile_backends.PassThroughDispatch"),
    ],
)
def test_a_leaked_torch_mode_fails_the_backend_that_leaked_it_not_the_next(harness, name, leak):
    result, report, _, terminal = run(harness, backend(name), "--backend=cpu")
    table = verdict_table(report)
    leaker = f"tests.hostile_backends:{name}"
    assert table == {
        ("alpha.leaf", leaker): "fail",
        ("alpha.plain", leaker): "pass",
        ("alpha.leaf", "cpu"): "pass",
        ("alpha.plain", "cpu"): "pass",
    }
    line = next(line for line in terminal.splitlines() if line.startswith("spec leaked global state (now restored): "))
    assert leak in line
    assert result.ret == 1
    assert not torch.is_inference_mode_enabled()
    assert torch.autograd.forward_ad._current_level == -1


def test_a_dispatch_mode_held_from_spec_to_spec_is_no_leak(harness):
    result, report, _, _ = run(harness, backend("DispatchModePerSpec"))
    assert result.ret == 0
    assert set(verdict_table(report).values()) == {"pass"}


TERMINATED_SPECS = INTERRUPTED_SPECS.replace(
    "os.kill(os.getpid(), signal.SIGINT)", "os.kill(os.getpid(), signal.SIGTERM)"
)

EXITS = """
import os

from conformance.catalogue import spec

@spec("alpha.exits", sources=["000"], kind="value")
def test_exits(engine):
    '''Holds, unless the engine ends the process with status 0.'''
    os._exit(0)
"""


def test_sigterm_keeps_every_verdict_so_far_and_marks_the_run_terminated(harness, monkeypatch):
    harness.makepyfile(TERMINATED_SPECS)
    result, report = run_subprocess(harness, monkeypatch, "--backend=cpu,torch:cpu")
    assert result.ret == 2
    table = verdict_table(report)
    assert table[("alpha.first", "cpu")] == "pass"
    assert set(table.values()) == {"pass", "not-run"}
    assert report["run"]["incomplete_because"][0] == "interrupted: terminated by SIGTERM"


def test_os_exit_inside_a_spec_fails_it_and_never_ends_the_run_green(harness, monkeypatch):
    harness.makepyfile(EXITS)
    result, report = run_subprocess(harness, monkeypatch)
    assert result.ret == 1
    assert verdict_table(report) == {("alpha.exits", "cpu"): "fail"}
    raised = report["specs"][0]["verdicts"]["cpu"]["raised"]
    assert raised == "EngineExit: os._exit(0) called inside the spec: the harness goes on and reports"
    assert report["run"]["complete"] is True


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        ("import os\nos._exit(0)\n", "failed to load: EngineExit: os._exit(0) called while the backends load"),
        ("raise SystemExit(0)\n", "failed to load: SystemExit: 0"),
        ("class Escape(BaseException):\n    pass\n\nraise Escape('out')\n", "failed to load: Escape: out"),
    ],
)
def test_a_plugin_that_exits_while_loading_is_a_usage_error(harness, monkeypatch, plugin, message):
    harness.makepyfile(test_specs=SPECS, leaving=plugin)
    monkeypatch.setenv("PYTHONPATH", f"{ROOT}:{harness.path}")
    result = harness.runpytest_subprocess("--backend=leaving:Backend", timeout=120)
    assert result.ret == 4
    assert message in result.stderr.str()


def test_one_path_for_both_reports_is_a_usage_error(harness):
    harness.makepyfile(test_specs=SPECS)
    result = harness.runpytest("--conformance-json=report", "--conformance-md=./report")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--conformance-json and --conformance-md name one file: report*"])


def test_a_report_path_that_is_a_fifo_is_refused_before_anything_runs(harness, monkeypatch):
    harness.makepyfile(test_specs=SPECS)
    os.mkfifo(harness.path / "fifo")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = harness.runpytest_subprocess("--conformance-json=fifo", timeout=120)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--conformance-json=fifo: not a regular file (a directory, FIFO or device)*"])


def test_a_report_write_that_fails_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    from conformance import report as report_module

    path = tmp_path / "report.md"
    path.write_text("the previous report\n", encoding="utf-8")

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        report_module.write("--conformance-md", path, report_module.placeholder("x"))
    assert path.read_text(encoding="utf-8") == "the previous report\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["report.md"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000, "nested too deeply"),
        (" " * (2 << 20), "larger than 1048576 bytes"),
        (b'{"alpha.plain": "caf\xe9"}', "'utf-8' codec can't decode byte 0xe9"),
    ],
)
def test_a_known_failures_file_out_of_bounds_is_a_usage_error(harness, content, message):
    harness.makepyfile(test_specs=SPECS)
    path = harness.path / "known.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = harness.runpytest(f"--known-failures=cpu={path}")
    assert result.ret == 4
    assert "INTERNALERROR" not in result.stderr.str() + result.stdout.str()
    result.stderr.fnmatch_lines([f"*known-failures file {path}: {message}*"])


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_known_failures_path_that_is_no_regular_file_is_refused_at_once(harness, monkeypatch, special):
    harness.makepyfile(test_specs=SPECS)
    if special == "fifo":
        os.mkfifo(harness.path / special)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = harness.runpytest_subprocess(f"--known-failures=cpu={special}", timeout=120)
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*known-failures file {special}: not a regular file (a directory, FIFO or device)*"])


def test_reports_are_utf8_whatever_the_locale(harness, monkeypatch):
    harness.makepyfile(test_specs=SPECS)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("LC_ALL", "C")
    monkeypatch.setenv("PYTHONUTF8", "0")  # the ASCII locale's encoding, not Python's UTF-8 mode
    result = harness.runpytest_subprocess(
        backend("Hostile"), "--conformance-md=report.md", "--conformance-json=report.json", timeout=120
    )
    assert result.ret == 1
    assert "\\u202eevil" in (harness.path / "report.md").read_text(encoding="utf-8")
    report = json.loads((harness.path / "report.json").read_text(encoding="utf-8"))
    assert report["backends"]["tests.hostile_backends:Hostile"]["engine"] == HOSTILE_TEXT.replace("\ud800", "\ufffd")


OLD_REPORT = {"schema_version": 4, "run": {"complete": True, "incomplete_because": [], "exit_status": 0}}


@pytest.mark.parametrize("refused", [["--no-such-option"], ["--draws=0"], ["--backend=cpu", "--world-size=none"]])
def test_a_command_line_pytest_refuses_leaves_no_earlier_report_looking_current(harness, refused):
    harness.makepyfile(test_specs=SPECS)
    (harness.path / "report.json").write_text(json.dumps(OLD_REPORT), encoding="utf-8")
    (harness.path / "report.md").write_text("# Conformance report\n\ncomplete run (exit status 0)\n", encoding="utf-8")
    result = harness.runpytest("--conformance-json=report.json", *refused, "--conformance-md", "report.md")
    assert result.ret == 4
    report = json.loads((harness.path / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, SCHEMA)
    assert report["run"] == {
        "complete": False,
        "incomplete_because": ["the run did not start: its command line is a usage error (pytest printed why)"],
        "exit_status": 4,
    }
    assert "the run did not start" in (harness.path / "report.md").read_text(encoding="utf-8")
    assert sorted(path.name for path in harness.path.glob(".*.lock")) == []


def test_an_unknown_spec_under_xdist_is_a_usage_error_that_names_it(harness):
    harness.makepyfile(test_specs=SPECS)
    result = harness.runpytest("-n", "2", "--spec=alpha.plain,alpha.nowhere", "--conformance-json=report.json")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 4
    assert "INTERNALERROR" not in output
    assert "--spec: no collected spec has the ID alpha.nowhere" in output
    report = json.loads((harness.path / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["incomplete_because"] == ["usage error: --spec: no collected spec has the ID alpha.nowhere"]


WAITS = """
import os
import time

from conformance.catalogue import spec

@spec("alpha.waits", sources=["000"], kind="value")
def test_waits(engine):
    '''Holds, once told to go on (the file "go" appears).'''
    with open("pid", "w") as file:
        file.write(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not os.path.exists("go") and time.monotonic() < deadline:
        time.sleep(0.05)
"""


def start_waiting_run(harness, monkeypatch, *args):
    """Start pytest on :data:`WAITS` in the background; return the process once its spec is running."""
    harness.makepyfile(test_waits=WAITS)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_waits.py", *args]
    process = subprocess.Popen(command, cwd=harness.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not (harness.path / "pid").exists():
        assert process.poll() is None, process.stdout.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return process


def test_a_second_run_writing_the_same_report_is_refused_while_the_first_runs(harness, monkeypatch):
    first = start_waiting_run(harness, monkeypatch, "--conformance-json=report.json")
    try:
        harness.makepyfile(test_specs=SPECS)
        second = harness.runpytest_subprocess("test_specs.py", "--conformance-json=report.json", timeout=120)
        assert second.ret == 4
        second.stderr.fnmatch_lines([f"*--conformance-json=report.json: the run of pid {first.pid} started *"])
        (harness.path / "go").touch()
        assert first.wait(timeout=120) == 0
    finally:
        first.kill()
    report = json.loads((harness.path / "report.json").read_text(encoding="utf-8"))
    assert verdict_table(report) == {("alpha.waits", "cpu"): "pass"}
    assert not (harness.path / ".report.json.lock").exists()


def test_sigterm_under_xdist_ends_the_workers_with_the_controller(harness, monkeypatch):
    controller = start_waiting_run(harness, monkeypatch, "-n", "2", "--conformance-json=report.json")
    worker = int((harness.path / "pid").read_text())
    controller.send_signal(signal.SIGTERM)
    assert controller.wait(timeout=60) == 2
    deadline = time.monotonic() + 30
    while process_alive(worker):
        assert time.monotonic() < deadline, "the worker outlived its controller"
        time.sleep(0.1)
    report = json.loads((harness.path / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["incomplete_because"][0] == "interrupted: terminated by SIGTERM"
    assert verdict_table(report) == {("alpha.waits", "cpu"): "not-run"}


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/status").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def test_a_spec_that_ignores_its_alarm_times_out_and_the_run_goes_on(harness):
    result, report, _, _ = run(harness, backend("IgnoresAlarm"), "--timeout=1")
    name = "tests.hostile_backends:IgnoresAlarm"
    assert result.ret == 1
    assert verdict_table(report) == {("alpha.leaf", name): "timed-out", ("alpha.plain", name): "pass"}
    reason = report["specs"][0]["verdicts"][name]["reason"]
    assert reason.startswith("Timeout (>1s): the spec went on past its time limit")
    assert report["run"]["complete"] is True


def test_a_spec_that_nothing_stops_ends_a_serial_run_with_its_report(harness, monkeypatch):
    harness.makepyfile(test_specs=SPECS)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = harness.runpytest_subprocess(
        backend("CannotBeStopped"), "--timeout=1", "--conformance-json=report.json", timeout=120
    )
    assert result.ret == 2
    result.stderr.fnmatch_lines(["conformance watchdog: *test_leaf* went on 2 s past its time limit of 1 s*"])
    report = json.loads((harness.path / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, SCHEMA)
    name = "tests.hostile_backends:CannotBeStopped"
    assert verdict_table(report) == {("alpha.leaf", name): "timed-out", ("alpha.plain", name): "not-run"}
    assert report["run"]["complete"] is False
    assert report["run"]["incomplete_because"][0].startswith("interrupted: test_specs.py::test_leaf")
    assert not (harness.path / ".report.json.lock").exists()


def test_a_spec_that_nothing_stops_costs_one_worker_under_xdist(harness):
    result, report, _, _ = run(harness, backend("CannotBeStopped"), "--timeout=1", "-n", "2")
    name = "tests.hostile_backends:CannotBeStopped"
    assert result.ret == 1
    assert verdict_table(report) == {("alpha.leaf", name): "crashed", ("alpha.plain", name): "pass"}
