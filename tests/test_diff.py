"""``python -m conformance.diff``: what changed between reports, regressions gating the exit status, across
versions and across engines, with every text from a report escaped."""

import json

import pytest

from conformance import diff
from tests.test_hostile import FORBIDDEN_IN_MARKDOWN, SPECS, backend

EXTRA = '''

@spec("beta.extra", sources=["000"], kind="value")
def test_extra(engine):
    """Only in the newer suite."""
'''


def report(harness, name, *args, specs=SPECS):
    """Run the specs with ``args``; return the path of the JSON report."""
    harness.makepyfile(test_specs=specs)
    harness.runpytest(*args, f"--conformance-json={name}")
    return harness.path / name


def test_a_spec_that_passed_and_now_fails_is_a_regression_and_fails_the_diff(harness, capsys):
    old = report(harness, "old.json", "--backend=cpu")
    new = report(harness, "new.json", backend("Hostile"))
    md, data = harness.path / "diff.md", harness.path / "diff.json"
    assert diff.main([str(old), str(new), f"--md={md}", f"--json={data}"]) == 1
    document = json.loads(data.read_text(encoding="utf-8"))
    [comparison] = document["comparisons"]
    assert comparison["regressions"] == ["alpha.leaf"]
    assert [(c["id"], c["old"], c["new"]) for c in comparison["changes"]] == [("alpha.leaf", "pass", "fail")]
    assert comparison["old"]["backend"] == "cpu"
    assert comparison["new"]["backend"] == "tests.hostile_backends:Hostile"
    markdown = md.read_text(encoding="utf-8")
    assert "| **REGRESSED** `alpha.leaf` | value | pass | FAIL |" in markdown
    for forbidden in FORBIDDEN_IN_MARKDOWN:
        assert forbidden not in markdown
    terminal = capsys.readouterr().out
    assert "REGRESSED alpha.leaf: pass -> FAIL" in terminal
    assert "\x1b" not in terminal


def test_a_fixed_spec_and_a_new_spec_are_no_regression(harness):
    old = report(harness, "old.json", backend("Hostile"))
    new = report(harness, "new.json", "--backend=cpu", specs=SPECS + EXTRA)
    data = harness.path / "diff.json"
    assert diff.main([str(old), str(new), f"--json={data}"]) == 0
    [comparison] = json.loads(data.read_text(encoding="utf-8"))["comparisons"]
    assert comparison["regressions"] == []
    assert [(c["id"], c["old"], c["new"]) for c in comparison["changes"]] == [("alpha.leaf", "fail", "pass")]
    assert comparison["added"] == [{"id": "beta.extra", "verdict": "pass"}]
    assert comparison["areas"]["new"]["beta"] == {"pass": 1, "applicable": 1}


def test_pairs_name_the_backends_to_compare_across_engines(harness):
    both = report(harness, "both.json", "--backend=cpu,torch:cpu")
    data = harness.path / "diff.json"
    assert diff.main([str(both), str(both), "--pair=cpu=torch:cpu", f"--json={data}"]) == 0
    [comparison] = json.loads(data.read_text(encoding="utf-8"))["comparisons"]
    assert (comparison["old"]["backend"], comparison["new"]["backend"]) == ("cpu", "torch:cpu")
    assert comparison["changes"] == []


def test_each_report_is_compared_with_the_one_before(harness):
    first = report(harness, "1.json", "--backend=cpu")
    second = report(harness, "2.json", "--backend=cpu", specs=SPECS + EXTRA)
    data = harness.path / "diff.json"
    assert diff.main([str(first), str(second), str(first), f"--json={data}"]) == 0
    added, removed = json.loads(data.read_text(encoding="utf-8"))["comparisons"]
    assert [entry["id"] for entry in added["added"]] == ["beta.extra"]
    assert [entry["id"] for entry in removed["removed"]] == ["beta.extra"]


def test_a_spec_the_interrupted_run_never_ran_is_a_regression(harness):
    old = report(harness, "old.json", "--backend=cpu")
    new = harness.path / "new.json"
    document = json.loads(old.read_text(encoding="utf-8"))
    document["run"] = {"complete": False, "incomplete_because": ["interrupted"], "exit_status": 2}
    document["specs"][0]["verdicts"]["cpu"] = {**document["specs"][0]["verdicts"]["cpu"], "verdict": "not-run"}
    new.write_text(json.dumps(document), encoding="utf-8")
    md = harness.path / "diff.md"
    assert diff.main([str(old), str(new), f"--md={md}"]) == 1
    assert f"**The report {diff.untrusted.markdown(str(new))} is of an INCOMPLETE run.**" in md.read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"specs": []}', "not a conformance report (--conformance-json): no run, backends and specs"),
        ("not json", "Expecting value"),
    ],
)
def test_what_is_no_report_is_refused_with_exit_status_2(harness, capsys, content, message):
    good = report(harness, "good.json", "--backend=cpu")
    bad = harness.path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    assert diff.main([str(good), str(bad)]) == 2
    assert message in capsys.readouterr().err


def test_reports_without_a_backend_in_common_need_pairs(harness, capsys):
    old = report(harness, "old.json", "--backend=cpu,torch:cpu")
    new = report(harness, "new.json", backend("Hostile"))
    assert diff.main([str(old), str(new)]) == 2
    err = capsys.readouterr().err
    assert "no backend in both reports (old: cpu, torch:cpu; new: tests.hostile_backends:Hostile)" in err
    assert diff.main([str(old), str(new), "--pair=cuda=tests.hostile_backends:Hostile"]) == 2
    assert "--pair: the old report has no backend cuda; it has cpu, torch:cpu" in capsys.readouterr().err
