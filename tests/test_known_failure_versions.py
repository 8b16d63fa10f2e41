"""Known failures as version data: entries keyed by the versions they apply to, and entries restricted to one
named check of a spec (a missing double backward does not hide a wrong first-order gradient)."""

import json

import numpy as np
import pytest
import torch
from packaging.version import Version

from backends.mutants import MUTANTS
from backends.torch_backend import TorchBackend
from conformance import checks, gradcheck, known_failures
from tests.conftest import ROOT

SPECS = """
import pytest
from conformance import checks
from conformance.catalogue import spec

@spec("alpha.holds", sources=["000"], kind="value")
def test_holds(engine):
    '''Holds.'''
    assert engine.to_numpy(engine.tensor([1.0])).tolist() == [1.0]

@spec("alpha.fails", sources=["000"], kind="value")
def test_fails(engine):
    '''Fails on every backend: an assertion.'''
    assert engine.to_numpy(engine.tensor([1.0])).tolist() == [2.0]

@spec("alpha.second-order-missing", sources=["000"], kind="value")
def test_second_order_missing(engine):
    '''First order holds; the second-order check raises, as a torch without a double backward does.'''
    assert engine.to_numpy(engine.tensor([1.0])).tolist() == [1.0]
    with checks.check(checks.SECOND_ORDER):
        raise NotImplementedError("the derivative for 'thing_backward' is not implemented.")

@spec("alpha.first-order-wrong", sources=["000"], kind="value")
def test_first_order_wrong(engine):
    '''First order is wrong: the spec fails before its second-order check.'''
    assert engine.to_numpy(engine.tensor([1.0])).tolist() == [2.0], "gradient differs from torch's"
    with checks.check(checks.SECOND_ORDER):
        raise NotImplementedError("never reached")
"""

RUNNING = Version(torch.__version__)
#: specifiers that hold and that do not hold for the torch this test runs on
IN_RANGE = f">={RUNNING.major}.{RUNNING.minor},<{RUNNING.major}.{RUNNING.minor + 1}"
OUT_OF_RANGE = f"<{RUNNING.major}.{RUNNING.minor}"


def write_known(harness, name, entries):
    path = harness.path / name
    path.write_text(json.dumps(entries))
    return path


def run(harness, known, *args):
    result = harness.runpytest(f"--known-failures=cpu={known}", "--conformance-json=report.json", *args)
    return result, json.loads((harness.path / "report.json").read_text())


def cells(report):
    return {spec["id"]: spec["verdicts"]["cpu"] for spec in report["specs"]}


def test_an_entry_whose_versions_exclude_the_running_torch_is_not_applied(harness):
    """Out of range, an entry is no known failure: a spec that holds passes (no "KNOWN FAILURE PASSES"), and a
    spec that fails is a plain failure."""
    harness.makepyfile(SPECS)
    known = write_known(
        harness,
        "cpu.json",
        {
            "alpha.holds": {"reason": "fixed in this release", "versions": {"torch": OUT_OF_RANGE}},
            "alpha.fails": {"reason": "an older torch's behaviour", "versions": {"torch": OUT_OF_RANGE}},
        },
    )
    result, report = run(harness, known, "-k", "holds or test_fails")
    assert result.ret == 1
    verdicts = cells(report)
    assert verdicts["alpha.holds"]["verdict"] == "pass"
    assert verdicts["alpha.fails"] == {"verdict": "fail", "reason": "", "missing": [], "raised": "", "failed_in": ""}
    result.stdout.no_fnmatch_line("*KNOWN FAILURE PASSES*")
    assert report["backends"]["cpu"]["summary"]["known-failure"] == 0


def test_an_entry_whose_versions_hold_turns_the_failure_into_a_known_failure(harness):
    harness.makepyfile(SPECS)
    reason = "this torch lacks it"
    known = write_known(
        harness, "cpu.json", {"alpha.fails": {"reason": reason, "versions": {"torch": IN_RANGE, "pytest": ">=8"}}}
    )
    result, report = run(harness, known, "-k", "holds or test_fails")
    assert result.ret == 0
    assert cells(report)["alpha.fails"]["verdict"] == "known-failure"
    assert cells(report)["alpha.fails"]["reason"] == reason
    result.stdout.fnmatch_lines([f"*alpha.fails [[]cpu[]] known failure: {reason}"])


def test_an_entry_in_range_that_passes_is_flagged(harness):
    harness.makepyfile(SPECS)
    known = write_known(harness, "cpu.json", {"alpha.holds": {"reason": "was wrong", "versions": {"torch": IN_RANGE}}})
    result, report = run(harness, known, "-k", "holds")
    assert result.ret == 1
    assert cells(report)["alpha.holds"]["verdict"] == "known-failure-passes"


def test_an_entry_restricted_to_the_second_order_check_covers_that_failure_only(harness):
    """``fails_in``: a failure in the named check is the known failure (and the report says where it failed);
    a spec that fails before it, in its first-order checks, is a failure, known-failures entry or not."""
    harness.makepyfile(SPECS)
    entry = {"reason": "no double backward here", "fails_in": "second-order", "versions": {"torch": IN_RANGE}}
    known = write_known(harness, "cpu.json", {"alpha.second-order-missing": entry, "alpha.first-order-wrong": entry})
    result, report = run(harness, known, "-k", "second_order_missing or first_order_wrong")
    assert result.ret == 1
    verdicts = cells(report)
    assert verdicts["alpha.second-order-missing"] == {
        "verdict": "known-failure",
        "reason": "no double backward here",
        "missing": [],
        "raised": "NotImplementedError: the derivative for 'thing_backward' is not implemented.",
        "failed_in": "second-order",
    }
    assert verdicts["alpha.first-order-wrong"]["verdict"] == "fail"
    assert "known failure is in the second-order check only" in verdicts["alpha.first-order-wrong"]["reason"]
    result.stdout.fnmatch_lines(
        [
            "*alpha.first-order-wrong [[]cpu[]] FAIL: failed outside any named check;*",
            "*alpha.second-order-missing [[]cpu[]] known failure in the second-order check: no double backward*",
        ]
    )


def test_a_restricted_entry_runs_the_same_under_xdist(harness):
    harness.makepyfile(SPECS)
    entry = {"reason": "no double backward here", "fails_in": "second-order"}
    known = write_known(harness, "cpu.json", {"alpha.second-order-missing": entry, "alpha.first-order-wrong": entry})
    result = harness.runpytest_subprocess(
        "-n", "2", f"--known-failures=cpu={known}", "--conformance-json=report.json", "-k", "order"
    )
    assert result.ret == 1
    verdicts = cells(json.loads((harness.path / "report.json").read_text()))
    assert verdicts["alpha.second-order-missing"]["verdict"] == "known-failure"
    assert verdicts["alpha.second-order-missing"]["failed_in"] == "second-order"
    assert verdicts["alpha.first-order-wrong"]["verdict"] == "fail"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"reason": "x", "versions": {"torch": "2.11 or so"}}, "*torch '2.11 or so' is not a version specifier*"),
        ({"reason": "x", "versions": {"torch": ">=2.11,<<2.12"}}, "*is not a version specifier*"),
        ({"reason": "x", "versions": "<2.12"}, "*versions must map distribution names to version specifiers*"),
        (
            {"reason": "x", "versions": {"no-such-distribution-xyz": "<1"}},
            "*no-such-distribution-xyz is not installed*",
        ),
        ({"reason": "x", "torch": "<2.12"}, "*unknown keys torch (an entry has reason, versions, fails_in)*"),
        ({"reason": "x", "fails_in": "third-order"}, "*fails_in 'third-order' names no check*"),
        ({"versions": {"torch": "<2.12"}}, "*expected a non-empty reason string*"),
        (["x"], "*expected a reason string or an object with a reason*"),
    ],
)
def test_a_bad_entry_is_a_usage_error_naming_the_file_and_the_spec(harness, entry, message):
    harness.makepyfile(SPECS)
    known = write_known(harness, "cpu.json", {"alpha.fails": entry})
    result = harness.runpytest(f"--known-failures=cpu={known}")
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*known-failures file {known}: entry 'alpha.fails': {message}"])


def test_a_plain_reason_file_still_loads():
    loaded = known_failures.load(ROOT / "backends" / "known_failures" / "mygrad.json")
    assert loaded.reasons and set(loaded.reasons) == loaded.listed and not loaded.not_applied


def test_the_shipped_torch_file_is_version_data_and_its_entries_decide_the_verdicts(harness):
    """Every entry of torch's file is keyed by torch versions (and restricted to the check that torch lacks, where
    only one check is missing: a double backward); on the torch running here each listed spec is a known failure
    where its entry applies and passes where it does not, with the exit status zero either way."""
    path = ROOT / "backends" / "known_failures" / "torch.json"
    assert TorchBackend.known_failures_file == path
    raw = json.loads(path.read_text())
    assert all(
        set(entry) - {"fails_in"} == {"reason", "versions"} and "torch" in entry["versions"] for entry in raw.values()
    )
    assert all(entry["fails_in"] == "second-order" for entry in raw.values() if "double backward" in entry["reason"])
    loaded = known_failures.load(path)
    assert set(loaded.entries) | set(loaded.not_applied) == set(raw)
    result = harness.runpytest_subprocess(
        "--pyargs", "spec_tests", f"--spec={','.join(raw)}", "--conformance-json=report.json", "-p", "no:cacheprovider"
    )
    assert result.ret == 0, result.stdout.str()
    report = json.loads((harness.path / "report.json").read_text())
    assert report["backends"]["cpu"]["known_failures_file"] == "backends/known_failures/torch.json"
    verdicts = {spec_id: cell["verdict"] for spec_id, cell in cells(report).items()}
    assert verdicts == {spec_id: "known-failure" if spec_id in loaded.entries else "pass" for spec_id in raw}


def test_a_named_check_tags_the_exception_that_escapes_it():
    with pytest.raises(AssertionError) as caught, checks.check(checks.SECOND_ORDER):
        raise AssertionError("differs")
    assert checks.failed_in(caught.value) == "second-order"
    assert isinstance(caught.value, checks.raised_in(checks.SECOND_ORDER))
    assert not isinstance(caught.value, checks.raised_in(checks.FORWARD_MODE))
    assert not isinstance(ValueError("untagged"), checks.raised_in(checks.SECOND_ORDER))
    with pytest.raises(ValueError, match="unknown check"), checks.check("third-order"):
        pass


def test_an_oracle_without_a_double_backward_is_replaced_by_differences_of_its_gradients(monkeypatch):
    """Where the installed torch has no double backward for an operator, another engine's second derivatives
    are held against central differences of torch's gradients: its verdict does not depend on the torch release
    serving as the oracle, and a wrong second derivative still fails."""
    real = gradcheck.second_order

    def oracle_lacks_it(lib, *args):
        if lib is gradcheck.ORACLE:
            raise NotImplementedError("the derivative for 'tanh_backward' is not implemented.")
        return real(lib, *args)

    monkeypatch.setattr(gradcheck, "second_order", oracle_lacks_it)
    op = gradcheck.Op(lambda lib, x: x.tanh(), [(2, 3)])
    np.random.seed(0)
    gradcheck.check_gradients(TorchBackend("cpu"), op)
    np.random.seed(0)
    with pytest.raises(AssertionError, match="central differences of torch's gradients") as caught:
        gradcheck.check_gradients(MUTANTS["second-order-dropped"]("cpu"), op)
    assert checks.failed_in(caught.value) == "second-order"
