"""The fuzzer's pytest entry (``pytest fuzz_tests``): its items are specs of the area ``fuzz`` in the conformance
report, with the verdicts, known failures and unsupported capabilities of the operator's catalogue spec."""

import json
import re

from backends import capabilities as cap

ENGINES = '''
from backends import Unsupported
from backends import capabilities as cap
from backends.torch_backend import TorchBackend


def without_unary():
    """torch declaring no unary functions (the capability of digamma's catalogue spec)."""
    engine = TorchBackend()
    engine.capabilities = engine.capabilities - {cap.UNARY}
    return engine


class Refusing(TorchBackend):
    """torch whose reverse mode says it is not supported."""

    def vjp(self, fn, primals, cotangent, *, create_graph=False):
        raise Unsupported("no reverse mode here")


class Raising(TorchBackend):
    """torch whose reverse mode raises."""

    def vjp(self, fn, primals, cotangent, *, create_graph=False):
        raise RuntimeError("the tape is broken")
'''


def verdicts(harness, *args):
    """Run the entry and return (spec ID, backend) -> the verdict in its JSON report, and the run."""
    harness.makepyfile(engines=ENGINES)
    harness.syspathinsert()
    result = harness.runpytest_inprocess("--pyargs", "fuzz_tests", "--conformance-json=report.json", *args)
    report = json.loads((harness.path / "report.json").read_text())
    cells = {(spec["id"], name): cell for spec in report["specs"] for name, cell in spec["verdicts"].items()}
    return cells, report, result


def test_torch_passes_with_a_small_budget(harness):
    cells, report, result = verdicts(
        harness, "--backend=cpu", "--spec=fuzz.exp,fuzz.sum-dim-keepdim,fuzz.flip", "--fuzz-programs=5"
    )
    assert {key: cell["verdict"] for key, cell in cells.items()} == {
        ("fuzz.exp", "cpu"): "pass",
        ("fuzz.sum-dim-keepdim", "cpu"): "pass",
        ("fuzz.flip", "cpu"): "pass",
    }
    assert {spec["area"] for spec in report["specs"]} == {"fuzz"}
    assert result.ret == 0


def test_a_wrong_gradient_fails_its_operators_item_naming_the_deviation_and_its_record(harness):
    cells, _, result = verdicts(harness, "--backend=mutant:wrong-grad-exp", "--spec=fuzz.exp", "--fuzz-programs=5")
    assert cells["fuzz.exp", "mutant:wrong-grad-exp"]["verdict"] == "fail"
    result.stdout.fnmatch_lines(["*programs starting with exp deviate*", "*exp|reverse-vs-torch|gradient: {'ratio'*"])
    record = "fuzz-out/mutant_wrong-grad-exp-exp/exp_reverse-vs-torch_gradient"
    result.stdout.fnmatch_lines([f"*-> {record}.json (reproduction {record}.py)*"])
    assert (harness.path / f"{record}.json").is_file() and (harness.path / f"{record}.py").is_file()
    assert result.ret == 1


def test_a_known_failure_of_the_operator_is_the_items_known_failure(harness):
    """torch's float64 hardsigmoid gradient is right to float32's precision only: ``opgrad.hardsigmoid`` is a known
    failure in the float64 check, and so is the item's deviation."""
    cells, _, result = verdicts(harness, "--backend=cpu", "--spec=fuzz.hardsigmoid", "--fuzz-programs=5")
    cell = cells["fuzz.hardsigmoid", "cpu"]
    assert (cell["verdict"], cell["failed_in"]) == ("known-failure", "float64")
    assert "1/6 rounded through float32" in cell["reason"]
    assert result.ret == 0


def test_a_deviation_outside_the_known_failures_check_is_a_failure(harness, tmp_path):
    """An entry restricted to the second-order check does not cover the first-order deviation the fuzzer finds."""
    known = tmp_path / "known.json"
    known.write_text(json.dumps({"opgrad.exp": {"reason": "second order only", "fails_in": "second-order"}}))
    cells, _, _ = verdicts(
        harness, "--backend=mutant:wrong-grad-exp", f"--known-failures=mutant:wrong-grad-exp={known}",
        "--spec=fuzz.exp", "--fuzz-programs=5",
    )  # fmt: skip
    assert cells["fuzz.exp", "mutant:wrong-grad-exp"]["verdict"] == "fail"


def test_a_known_failure_its_programs_do_not_meet_passes_the_item_and_is_strict_for_its_spec(harness, tmp_path):
    """The item shares its operator's entry as an allowance: a run of it that does not meet the failure (here torch,
    whose exp is right, listed as failing) passes and says so, where the spec itself, whose entry it is, would be
    "known failure passes" (jittor's ``opgrad.sqrt-0d``, a 0-d shape that ``fuzz.sqrt-0d``'s drawn programs need not
    reach)."""
    known = tmp_path / "known.json"
    known.write_text(json.dumps({"opgrad.exp": {"reason": "a 0-d result of another shape", "fails_in": "shape"}}))
    cells, _, result = verdicts(
        harness, f"--known-failures=cpu={known}", "--spec=fuzz.exp", "--fuzz-programs=3"
    )  # fmt: skip
    cell = cells["fuzz.exp", "cpu"]
    assert (cell["verdict"], cell["reason"]) == (
        "pass",
        "not met by this run: known failure: a 0-d result of another shape",
    )
    assert result.ret == 0
    spec = harness.runpytest_inprocess(
        "--pyargs", "spec_tests", f"--known-failures=cpu={known}", "--spec=opgrad.exp", "--conformance-json=spec.json"
    )
    verdict = json.loads((harness.path / "spec.json").read_text())["specs"][0]["verdicts"]["cpu"]["verdict"]
    assert (verdict, spec.ret) == ("known-failure-passes", 1)


def test_a_known_failures_file_lists_the_operators_spec_not_its_fuzz_item(harness, tmp_path):
    known = tmp_path / "known.json"
    known.write_text(json.dumps({"fuzz.exp": "listed under the item"}))
    result = harness.runpytest_inprocess("--pyargs", "fuzz_tests", f"--known-failures=cpu={known}", "--spec=fuzz.exp")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*lists spec IDs that are not in the catalogue: fuzz.exp*"])


def test_an_operator_whose_capability_the_engine_lacks_is_unsupported(harness):
    cells, _, _ = verdicts(harness, "--backend=engines:without_unary", "--spec=fuzz.digamma,fuzz.exp")
    assert cells["fuzz.digamma", "engines:without_unary"]["verdict"] == "unsupported"
    assert cells["fuzz.digamma", "engines:without_unary"]["missing"] == [cap.UNARY]


def test_programs_the_engine_refuses_are_unsupported_not_passed(harness):
    cells, _, _ = verdicts(harness, "--backend=engines:Refusing", "--spec=fuzz.exp", "--fuzz-programs=3")
    cell = cells["fuzz.exp", "engines:Refusing"]
    assert (cell["verdict"], cell["reason"]) == ("unsupported", "every program starting with exp: no reverse mode here")


def test_an_engine_that_raises_is_a_loud_failure(harness):
    cells, report, _ = verdicts(harness, "--backend=engines:Raising", "--spec=fuzz.exp", "--fuzz-programs=3")
    cell = cells["fuzz.exp", "engines:Raising"]
    assert cell["verdict"] == "fail"
    assert cell["raised"].startswith("EngineRaised: RuntimeError: the tape is broken")
    assert report["backends"]["engines:Raising"]["failures_by_kind"]["loud"] == 1


def test_an_items_seed_is_the_same_on_every_backend_and_differs_by_operator_and_draw(harness):
    harness.makepyfile(
        test_seeds="""
        import pytest

        from conformance.fuzz.items import seed_of

        @pytest.mark.parametrize("operator", ["exp", "sin"])
        def test_seed(engine, operator, request):
            params = request.node.callspec.params
            print("SEED", params["engine"], operator, params["input_draw"], seed_of(request.node, operator))
        """
    )
    result = harness.runpytest_inprocess("-s", "--draws=2", "--fuzz-seed=3", "--backend=cpu,benign:split-k")
    seeds = re.findall(r"SEED (\S+) (\S+) (\d) (\d+)", result.stdout.str())
    by_backend = {
        backend: {(operator, draw): seed for name, operator, draw, seed in seeds if name == backend}
        for backend in ("cpu", "benign:split-k")
    }
    assert by_backend["cpu"] == by_backend["benign:split-k"]
    assert len(set(by_backend["cpu"].values())) == 4


def test_paired_mutants_meet_the_fuzz_item_of_the_spec_they_break(harness):
    """``--pair-mutants``: a mutant of ``opgrad.exp`` runs the item ``fuzz.exp`` alone (which shares that spec's
    known failures), and fails it; torch runs every selected item."""
    cells, _, result = verdicts(
        harness,
        "--backend=cpu,mutant:wrong-grad-exp,mutant:wrong-grad-sin",
        "--pair-mutants",
        "--spec=fuzz.exp,fuzz.sin,fuzz.flip",
        "--fuzz-programs=5",
    )
    assert {key: cell["verdict"] for key, cell in cells.items()} == {
        ("fuzz.exp", "cpu"): "pass",
        ("fuzz.sin", "cpu"): "pass",
        ("fuzz.flip", "cpu"): "pass",
        ("fuzz.exp", "mutant:wrong-grad-exp"): "fail",
        ("fuzz.sin", "mutant:wrong-grad-sin"): "fail",
    }
    assert result.ret == 1


def findings_file(directory, signatures, triage="engine-bug"):
    """A findings file of one finding, ``doubled-exp``, with its reproduction beside it (an engine bug needs one)."""
    (directory / "doubled_exp.py").write_text("import sys\n\nsys.exit(1)\n")
    finding = {
        "signatures": signatures,
        "triage": triage,
        "reason": "exp's gradient is twice exp",
        "observed": {"torch": "2.15.0"},
        "reproduction": "doubled_exp.py",
    }
    path = directory / "findings.json"
    path.write_text(json.dumps({"doubled-exp": finding}))
    return path


DOUBLED_EXP = ["exp|reverse-vs-torch|gradient", "exp|finite-differences|gradient", "exp|second-order|hessian-vector"]


def test_an_item_whose_every_deviation_a_known_finding_explains_is_a_known_failure_with_its_reason(harness, tmp_path):
    path = findings_file(tmp_path, DOUBLED_EXP)
    cells, report, result = verdicts(
        harness, "--backend=mutant:wrong-grad-exp", f"--fuzz-findings=mutant:wrong-grad-exp={path}",
        "--spec=fuzz.exp", "--fuzz-programs=5",
    )  # fmt: skip
    cell = cells["fuzz.exp", "mutant:wrong-grad-exp"]
    assert cell["verdict"] == "known-failure"
    assert cell["reason"] == (
        "known finding (findings.json): doubled-exp (engine-bug, observed on torch 2.15.0): "
        "exp's gradient is twice exp (reproduction: doubled_exp.py)"
    )
    assert report["backends"]["mutant:wrong-grad-exp"]["failures_by_kind"]["value"] == 1  # a silent wrong result
    assert result.ret == 0


def test_an_item_with_a_deviation_no_known_finding_explains_fails(harness, tmp_path):
    """The finding covers the reverse-mode gradient only: finite differences and second order still fail the item."""
    path = findings_file(tmp_path, ["exp|reverse-vs-torch|gradient"])
    cells, _, result = verdicts(
        harness, "--backend=mutant:wrong-grad-exp", f"--fuzz-findings=mutant:wrong-grad-exp={path}",
        "--spec=fuzz.exp", "--fuzz-programs=5",
    )  # fmt: skip
    assert cells["fuzz.exp", "mutant:wrong-grad-exp"]["verdict"] == "fail"
    result.stdout.fnmatch_lines(["*known findings met: 1 of 1*", "*new deviations: *", "*exp|finite-differences*"])
    assert result.ret == 1


def test_a_known_finding_of_an_engine_that_raises_is_a_loud_known_failure(harness, tmp_path):
    path = findings_file(tmp_path, ["exp|runs|RuntimeError"], triage="accepted-difference")
    cells, report, _ = verdicts(
        harness, "--backend=engines:Raising", f"--fuzz-findings=engines:Raising={path}", "--spec=fuzz.exp",
        "--fuzz-programs=3",
    )  # fmt: skip
    cell = cells["fuzz.exp", "engines:Raising"]
    assert cell["verdict"] == "known-failure"
    assert cell["raised"].startswith("EngineRaised: RuntimeError: the tape is broken")
    assert report["backends"]["engines:Raising"]["failures_by_kind"]["loud"] == 1


def test_the_operators_known_failure_judges_the_known_findings_in_its_check(harness, tmp_path):
    """torch's ``opgrad.hardsigmoid`` is a known failure in the float64 check: a finding that explains the item's
    deviations in that check does not end it in the finding's name; the entry judges them, with its reason."""
    path = findings_file(tmp_path, ["hardsigmoid|reverse-vs-torch|gradient", "hardsigmoid|reverse-vs-torch|forward"])
    cells, _, result = verdicts(
        harness, "--backend=cpu", f"--fuzz-findings=cpu={path}", "--spec=fuzz.hardsigmoid", "--fuzz-programs=5"
    )
    cell = cells["fuzz.hardsigmoid", "cpu"]
    assert (cell["verdict"], cell["failed_in"]) == ("known-failure", "float64")
    assert "hardsigmoid backward multiplies by 1/6" in cell["reason"]
    assert result.ret == 0


def test_known_findings_outside_the_operators_known_failures_check_end_the_item_in_their_name(harness, tmp_path):
    """An entry of the shape check covers none of the item's deviations, nor fails the item where a finding explains
    them: the item is the finding's known failure (as jittor's ``fuzz.adaptive-avg-pool2d-uneven``, whose programs
    meet an API gap, not its operator's float64 entry)."""
    known = tmp_path / "known.json"
    known.write_text(json.dumps({"opgrad.exp": {"reason": "a shape of its own", "fails_in": "shape"}}))
    path = findings_file(tmp_path, DOUBLED_EXP)
    cells, _, result = verdicts(
        harness, "--backend=mutant:wrong-grad-exp", f"--known-failures=mutant:wrong-grad-exp={known}",
        f"--fuzz-findings=mutant:wrong-grad-exp={path}", "--spec=fuzz.exp", "--fuzz-programs=5",
    )  # fmt: skip
    cell = cells["fuzz.exp", "mutant:wrong-grad-exp"]
    assert (cell["verdict"], cell["failed_in"]) == ("known-failure", "")
    assert "exp's gradient is twice exp" in cell["reason"]
    assert result.ret == 0


def test_a_malformed_findings_file_is_a_usage_error_naming_it_and_the_entry(harness, tmp_path):
    path = tmp_path / "findings.json"
    path.write_text(json.dumps({"doubled-exp": {"signatures": DOUBLED_EXP, "triage": "engine-bug"}}))
    result = harness.runpytest_inprocess(
        "--pyargs", "fuzz_tests", "--backend=cpu", f"--fuzz-findings=cpu={path}", "--spec=fuzz.exp"
    )
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*findings file {path}: entry 'doubled-exp': missing reason, observed*"])
