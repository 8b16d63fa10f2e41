"""The conformance report: the verdict matrix in the terminal, JSON and Markdown, and known failures."""

import json

import jsonschema

from conformance import render
from tests.conftest import ROOT

SPECS = """
import pytest
from backends import capabilities as cap
from conformance.catalogue import spec

@spec("alpha.holds", sources=["000"], needs=[cap.AUTOGRAD], kind="value")
def test_holds(engine):
    '''Holds on every backend.'''
    assert engine.to_numpy(engine.tensor([1.0])).tolist() == [1.0]

@spec("alpha.only-on-cpu", sources=["000"], kind="value")
def test_only_on_cpu(engine):
    '''Holds on the backend named cpu.'''
    assert engine.name == "cpu"

@spec("beta.needs-graph", sources=["000"], needs=[cap.GRAPH], kind="value")
def test_needs_graph(engine):
    '''A leaf's grad_fn is None.'''
    assert engine.tensor([1.0], requires_grad=True).grad_fn is None
"""

GRAD_ONLY_BACKEND = """
from pathlib import Path

from backends import capabilities as cap
from backends.torch_backend import TorchBackend


class GradOnly(TorchBackend):
    '''torch declaring gradients only, shipping a known-failures file.'''

    engine = "grad-only"
    capabilities = frozenset({cap.AUTOGRAD})
    known_failures_file = Path(__file__).with_name("grad_only_known.json")
"""


def write_known(harness, name, entries):
    path = harness.path / name
    path.write_text(json.dumps(entries))
    return path


def report_json(harness, *args):
    result = harness.runpytest(*args, "--conformance-json=report.json")
    return result, json.loads((harness.path / "report.json").read_text())


def verdict_table(report):
    return {(spec["id"], name): cell["verdict"] for spec in report["specs"] for name, cell in spec["verdicts"].items()}


def test_terminal_matrix_by_area_with_one_column_per_backend(harness):
    harness.makepyfile(SPECS)
    result = harness.runpytest("--backend=cpu,torch:cpu")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*= conformance =*",
            "spec * cpu * torch:cpu",
            "alpha",
            "  alpha.holds * pass * pass",
            "  alpha.only-on-cpu * pass * FAIL",
            "beta",
            "  beta.needs-graph * pass * pass",
            "",
            "cpu (torch * on cpu): 3 conforming, 0 failing, 0 known failures, 0 unsupported, 0 errors;"
            " 0 silent wrong results, 0 loud failures, 0 missing refusals, 0 surface deviations;"
            " coverage 3/3 applicable specs run",
            "torch:cpu (torch * on cpu): 2 conforming, 1 failing, * coverage 3/3 applicable specs run",
        ]
    )


def test_undeclared_capability_is_unsupported_and_lowers_coverage(harness):
    harness.makepyfile(SPECS, grad_only=GRAD_ONLY_BACKEND)
    harness.syspathinsert()
    write_known(harness, "grad_only_known.json", {})
    result, report = report_json(harness, "--backend=cpu,grad_only:GradOnly", "-k", "not only_on_cpu")
    assert result.ret == 0
    assert verdict_table(report)[("beta.needs-graph", "grad_only:GradOnly")] == "unsupported"
    assert report["specs"][-1]["verdicts"]["grad_only:GradOnly"]["missing"] == ["graph"]
    assert "reasons:" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "  beta.needs-graph * pass * unsupported",
            "grad_only:GradOnly (grad-only *1 unsupported*coverage 1/2 applicable specs run; lacks graph (1)",
        ]
    )


def test_a_skip_for_another_reason_or_a_setup_error_is_an_error_and_fails_the_run(harness):
    harness.makepyfile(
        """
        import pytest
        from conformance.catalogue import spec

        @pytest.fixture
        def broken():
            raise RuntimeError("fixture broke")

        @pytest.fixture
        def breaks_at_teardown():
            yield
            raise RuntimeError("teardown broke")

        @spec("gamma.teardown-error", sources=["000"], kind="value")
        def test_teardown_error(engine, breaks_at_teardown):
            '''Passes, then its fixture breaks.'''

        @spec("gamma.skipped", sources=["000"], kind="value")
        def test_skipped(engine):
            '''Skips itself.'''
            pytest.skip("no reason to run")

        @spec("gamma.setup-error", sources=["000"], kind="value")
        def test_setup_error(engine, broken):
            '''Never runs.'''
        """
    )
    result, report = report_json(harness)
    assert result.ret == 1
    assert set(verdict_table(report).values()) == {"error"}
    result.stdout.fnmatch_lines(
        [
            "*gamma.setup-error [[]cpu[]] ERROR: setup error",
            "*gamma.skipped [[]cpu[]] ERROR: no reason to run",
            "*gamma.teardown-error [[]cpu[]] ERROR: teardown error",
            "*3 errors; * coverage 0/3 applicable specs*",
        ]
    )


def test_a_spec_that_does_not_apply_is_not_applicable_and_leaves_coverage_whole(harness):
    harness.makepyfile(
        """
        import pytest
        from conformance.catalogue import spec

        @spec("delta.gpu-only", sources=["002"], kind="value")
        def test_gpu_only(engine):
            '''Holds on an accelerator.'''
            if engine.device == "cpu":
                pytest.skip("not applicable: tensors live on cpu")

        @spec("delta.holds", sources=["000"], kind="value")
        def test_holds(engine):
            '''Holds everywhere.'''
        """
    )
    result, report = report_json(harness)
    assert result.ret == 0
    assert verdict_table(report)[("delta.gpu-only", "cpu")] == "not-applicable"
    summary = report["backends"]["cpu"]["summary"]
    assert (summary["not-applicable"], summary["run"], summary["applicable"], summary["total"]) == (1, 1, 1, 2)
    result.stdout.fnmatch_lines(
        [
            "  delta.gpu-only * n/a",
            "*delta.gpu-only [[]cpu[]] n/a: tensors live on cpu",
            "*1 not applicable; * coverage 1/1 applicable specs run",
        ]
    )


def test_known_failure_is_reported_with_its_reason_and_keeps_the_exit_status_zero(harness):
    harness.makepyfile(SPECS)
    known = write_known(harness, "torch-cpu.json", {"alpha.only-on-cpu": "reports its name as torch:cpu"})
    result, report = report_json(harness, "--backend=cpu,torch:cpu", f"--known-failures=torch:cpu={known}")
    assert result.ret == 0
    cell = next(spec for spec in report["specs"] if spec["id"] == "alpha.only-on-cpu")["verdicts"]["torch:cpu"]
    assert cell == {
        "verdict": "known-failure",
        "reason": "reports its name as torch:cpu",
        "missing": [],
        "raised": "",
        "failed_in": "",
    }
    # a file of the user's, given by its absolute path: named without the machine's directories
    assert report["backends"]["torch:cpu"]["known_failures_file"] == known.name
    result.stdout.fnmatch_lines(
        [
            "  alpha.only-on-cpu * pass * known failure",
            "*alpha.only-on-cpu [[]torch:cpu[]] known failure: reports its name as torch:cpu",
            "torch:cpu * 1 known failures*",
        ]
    )


def test_a_known_failure_that_passes_is_flagged_and_fails_the_run(harness):
    harness.makepyfile(SPECS)
    known = write_known(harness, "cpu.json", {"alpha.holds": "used to return garbage"})
    result, report = report_json(harness, f"--known-failures=cpu={known}")
    assert result.ret == 1
    assert verdict_table(report)[("alpha.holds", "cpu")] == "known-failure-passes"
    assert report["backends"]["cpu"]["summary"]["known-failure-passes"] == 1
    result.stdout.fnmatch_lines(["  alpha.holds * KNOWN FAILURE PASSES", "*1 known failures now passing*"])


def test_the_backend_ships_its_known_failures_file(harness):
    harness.makepyfile(SPECS, grad_only=GRAD_ONLY_BACKEND)
    harness.syspathinsert()
    write_known(harness, "grad_only_known.json", {"alpha.only-on-cpu": "is not named cpu"})
    result, report = report_json(harness, "--backend=grad_only:GradOnly")
    assert result.ret == 0
    assert verdict_table(report)[("alpha.only-on-cpu", "grad_only:GradOnly")] == "known-failure"


def test_a_known_failure_id_missing_from_the_catalogue_is_a_usage_error(harness):
    harness.makepyfile(SPECS)
    known = write_known(harness, "cpu.json", {"alpha.renamed": "x", "alpha.holds": "y"})
    result = harness.runpytest(f"--known-failures=cpu={known}")
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*known-failures file {known} lists spec IDs that are not in*: alpha.renamed"])
    under_xdist = harness.runpytest_subprocess("-n", "2", f"--known-failures=cpu={known}")
    assert under_xdist.ret == 4
    under_xdist.stdout.fnmatch_lines([f"ERROR: known-failures file {known} *: alpha.renamed"])


def test_a_known_failure_of_a_suite_spec_not_in_this_run_is_accepted(harness):
    """A shipped file lists specs of the whole suite: a run of a few specs (or of the benchmarks) keeps it."""
    harness.makepyfile(SPECS)
    known = write_known(harness, "cpu.json", {"grad.vector-backward-needs-gradient": "sums a vector"})
    result = harness.runpytest(f"--known-failures=cpu={known}", "-p", "no:cacheprovider")
    assert result.ret == 0


def test_bad_known_failures_options_and_files_are_usage_errors(harness):
    harness.makepyfile(SPECS)
    not_a_mapping = write_known(harness, "list.json", ["alpha.holds"])
    for option, message in [
        (f"--known-failures=cpu={not_a_mapping}", f"*{not_a_mapping}: expected a JSON object*"),
        (f"--known-failures=cuda={not_a_mapping}", "*backend 'cuda' is not selected*"),
        ("--known-failures=cpu", "*expected BACKEND=PATH*"),
        ("--known-failures=cpu=missing.json", "*known-failures file missing.json:*"),
    ]:
        result = harness.runpytest(option)
        assert result.ret == 4, option
        result.stderr.fnmatch_lines([message])


def test_json_follows_the_documented_schema_and_markdown_says_the_same(harness):
    harness.makepyfile(SPECS)
    known = write_known(harness, "torch-cpu.json", {"alpha.only-on-cpu": "reports its name as torch:cpu"})
    result, report = report_json(
        harness, "--backend=cpu,torch:cpu", f"--known-failures=torch:cpu={known}", "--conformance-md=report.md"
    )
    assert result.ret == 0
    jsonschema.validate(report, json.loads((ROOT / "docs" / "report-schema.json").read_text()))
    cpu = report["backends"]["cpu"]
    assert (cpu["engine"], cpu["device"], cpu["summary"]["run"], cpu["summary"]["total"]) == ("torch", "cpu", 3, 3)
    assert cpu["suite_commit"] and cpu["torch_version"] and cpu["date"] and cpu["platform"]
    markdown = (harness.path / "report.md").read_text()
    assert "| `alpha.only-on-cpu` | pass | known failure |" in markdown
    assert "- alpha.only-on-cpu [torch:cpu] known failure: reports its name as torch:cpu" in markdown
    assert "coverage 3/3 applicable specs run" in markdown


def test_xdist_report_matches_the_serial_one(harness, monkeypatch):
    harness.makepyfile(SPECS, grad_only=GRAD_ONLY_BACKEND)
    write_known(harness, "grad_only_known.json", {"alpha.only-on-cpu": "is not named cpu"})
    args = ["--backend=cpu,torch:cpu,grad_only:GradOnly", "--conformance-json=report.json", "-p", "no:cacheprovider"]
    monkeypatch.setenv("PYTHONPATH", f"{ROOT}:{harness.path}")
    assert harness.runpytest_subprocess(*args).ret == 1
    serial = json.loads((harness.path / "report.json").read_text())
    result = harness.runpytest_subprocess("-n", "2", *args)
    assert result.ret == 1
    parallel = json.loads((harness.path / "report.json").read_text())
    assert parallel["specs"] == serial["specs"]  # verdicts, reasons and missing capabilities
    assert len(verdict_table(parallel)) == 9
    assert parallel["backends"]["grad_only:GradOnly"]["summary"] == serial["backends"]["grad_only:GradOnly"]["summary"]
    result.stdout.fnmatch_lines(["*= conformance =*", "  alpha.only-on-cpu * pass * FAIL * known failure"])


def test_tests_that_are_not_specs_stay_out_of_the_report(harness):
    harness.makepyfile("def test_plain(engine):\n    assert engine.name == 'cpu'\n")
    result = harness.runpytest()
    assert result.ret == 0
    assert "conformance" not in result.stdout.str()


KIND_SPECS = '''
from conformance.catalogue import spec

@spec("kinds.value", sources=["000"], kind="value")
def test_value(engine):
    """Holds on the backend named cpu."""
    assert engine.name == "cpu"

@spec("kinds.value-raises", sources=["000"], kind="value")
def test_value_raises(engine):
    """Holds on the backend named cpu; elsewhere the engine stops it in its own words."""
    if engine.name != "cpu":
        raise ValueError("no such thing here\\nsecond line")

@spec("kinds.value-raises-known", sources=["000"], kind="value")
def test_value_raises_known(engine):
    """Holds on the backend named cpu; elsewhere the engine stops it, as its known failures say."""
    if engine.name != "cpu":
        raise TypeError("not for this engine")

@spec("kinds.refusal", sources=["000"], kind="refusal")
def test_refusal(engine):
    """Holds on the backend named cpu."""
    assert engine.name == "cpu"

@spec("kinds.surface-message", sources=["000"], kind="surface")
def test_surface_message(engine):
    """Holds on the backend named cpu."""
    assert engine.name == "cpu"

@spec("kinds.surface-repr", sources=["000"], kind="surface")
def test_surface_repr(engine):
    """Holds on the backend named cpu."""
    assert engine.name == "cpu"

@spec("kinds.surface-holds", sources=["000"], kind="surface")
def test_surface_holds(engine):
    """Holds everywhere."""
'''


def test_failures_and_known_failures_are_counted_by_the_kind_of_their_spec(harness):
    harness.makepyfile(KIND_SPECS)
    known = write_known(
        harness,
        "torch-cpu.json",
        {"kinds.refusal": "goes on where it should refuse", "kinds.value-raises-known": "raises a TypeError"},
    )
    result, report = report_json(
        harness, "--backend=cpu,torch:cpu", f"--known-failures=torch:cpu={known}", "--conformance-md=report.md"
    )
    assert result.ret == 1
    jsonschema.validate(report, json.loads((ROOT / "docs" / "report-schema.json").read_text()))
    assert {spec["id"]: spec["kind"] for spec in report["specs"]} == {
        "kinds.refusal": "refusal",
        "kinds.surface-holds": "surface",
        "kinds.surface-message": "surface",
        "kinds.surface-repr": "surface",
        "kinds.value": "value",
        "kinds.value-raises": "value",
        "kinds.value-raises-known": "value",
    }
    assert report["backends"]["cpu"]["failures_by_kind"] == {"value": 0, "loud": 0, "refusal": 0, "surface": 0}
    assert report["backends"]["torch:cpu"]["failures_by_kind"] == {"value": 1, "loud": 2, "refusal": 1, "surface": 2}
    raised = {spec["id"]: spec["verdicts"]["torch:cpu"]["raised"] for spec in report["specs"]}
    assert raised == {
        "kinds.refusal": "",
        "kinds.surface-holds": "",
        "kinds.surface-message": "",
        "kinds.surface-repr": "",
        "kinds.value": "",
        "kinds.value-raises": "ValueError: no such thing here",
        "kinds.value-raises-known": "TypeError: not for this engine",
    }
    result.stdout.fnmatch_lines(["*kinds.value-raises [[]torch:cpu[]] FAIL: raised ValueError: no such thing here"])
    line = (
        "1 silent wrong result, 2 loud failures, 1 missing refusal, 2 surface deviations; coverage 7/7 applicable"
        " specs run"
    )
    result.stdout.fnmatch_lines([f"torch:cpu (torch * 2 known failures, * errors; {line}"])
    assert line in (harness.path / "report.md").read_text()


def test_listing_the_specs_runs_none_and_reports_nothing(harness):
    """``--collect-only`` lists the specs; it is not a run that left them unreported."""
    harness.makepyfile(SPECS)
    result = harness.runpytest("--collect-only", "-q", "--conformance-json=report.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*test_holds*cpu*", "3 tests collected*"])
    result.stdout.no_fnmatch_line("*conformance*")
    assert not (harness.path / "report.json").exists()


def test_the_summary_line_names_the_most_lacked_capabilities_and_counts_the_rest():
    """An engine lacking dozens of members gets one readable line: its members count for their capability, the
    first few capabilities named, the rest counted (each spec's missing members are in the report)."""
    missing = [[f"cap{n}[member{m}]" for m in range(n + 1)] for n in range(10)]
    unsupported = [{"verdict": "unsupported", "missing": lacked} for lacked in missing for _ in lacked]
    line = render.lacking({"specs": [{"verdicts": {"engine": result}} for result in unsupported]}, "engine", str)
    assert line == "cap9 (10), cap8 (9), cap7 (8), cap6 (7), cap5 (6), cap4 (5) and 4 more capabilities"
