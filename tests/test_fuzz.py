"""Differential gradient fuzzing: torch passes, mutants of the operator catalogue are caught and named, a benign
variant passes, a deviation replays from its record, and unstable points are counted rather than checked."""

import fnmatch
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from backends import resolve
from backends.torch_backend import TorchBackend
from conformance.fuzz import findings
from conformance.fuzz.__main__ import main
from conformance.fuzz.findings import Findings, KnownFinding
from conformance.fuzz.operators import binary_entries, operand_shapes, pool
from conformance.fuzz.oracles import DIFFERENCES, REVERSE, Finding, check_program
from conformance.fuzz.programs import Program
from conformance.fuzz.records import Deviation, replay
from conformance.fuzz.runner import Budget, Summary, fuzz
from conformance.fuzz.signatures import Signature
from tests.conftest import OneElementFor0d


@pytest.fixture(autouse=True)
def global_state_kept():
    """The fuzzer leaves grad mode, the default dtype and NumPy's global generator as it found them."""
    state = (torch.is_grad_enabled(), torch.get_default_dtype(), np.random.get_state()[1].copy())
    yield
    after = (torch.is_grad_enabled(), torch.get_default_dtype(), np.random.get_state()[1])
    assert state[:2] == after[:2]
    assert (state[2] == after[2]).all()


def operators_of(signature: str) -> list[str]:
    return signature.split("|")[0].split(">")


def test_torch_on_the_cpu_has_no_deviation():
    summary = fuzz(resolve("cpu"), Budget(programs=30), seed=0)
    assert len(summary.programs) >= 30
    assert not summary.deviations, sorted(summary.deviations)


def test_the_engines_known_failures_are_left_out_and_said():
    """torch's own float64 kernels that are right to float32's precision only (its known failures) are not fuzzed
    by default, and the summary names them; asked for, the fuzzer finds hardsigmoid's, since the oracle computes it
    exactly (:mod:`conformance.formulations`)."""
    summary = fuzz(resolve("cpu"), Budget(programs=1), seed=0)
    assert {"digamma", "polygamma", "hardsigmoid"} <= summary.known.keys()
    assert "1/6 rounded through float32" in summary.known["hardsigmoid"]
    asked = fuzz(resolve("cpu"), Budget(programs=10), seed=0, operators=["hardsigmoid"])
    assert asked.deviations
    assert all(set(operators_of(signature)) == {"hardsigmoid"} for signature in asked.deviations)


@pytest.mark.parametrize("operator", ["exp", "sin", "tanh"])
def test_a_wrong_gradient_is_found_and_named(operator):
    """``wrong-grad-<op>`` doubles that operator's gradient; programs chaining it with operators that are right."""
    summary = fuzz(resolve(f"mutant:wrong-grad-{operator}"), Budget(programs=20), operators=[operator, "neg", "flip"])
    assert summary.deviations
    assert all(operator in operators_of(signature) for signature in summary.deviations)
    assert any(deviation.finding.oracle == REVERSE for deviation in summary.deviations.values())


def test_shrinking_leaves_the_wrong_operator_alone():
    """Hypothesis shrinks the first deviating program to the broken operator itself."""
    summary = fuzz(resolve("mutant:wrong-grad-exp"), Budget(programs=10), operators=["exp", "neg"])
    assert any(operators_of(signature) == ["exp"] for signature in summary.deviations)


def test_programs_that_start_with_an_operator_are_the_same_whatever_ran_before():
    """What a fuzz item (``fuzz.<operator>``, ``pytest fuzz_tests``) runs: programs that start with its operator, the
    same alone or after another item in the process, so that the items of a run under ``-n`` are independent."""
    engine = resolve("mutant:wrong-grad-exp")
    alone = fuzz(engine, Budget(programs=8), seed=5, first="neg", operators=["neg", "exp"])
    fuzz(engine, Budget(programs=8), seed=9, first="exp", operators=["neg", "exp"])
    again = fuzz(engine, Budget(programs=8), seed=5, first="neg", operators=["neg", "exp"])
    assert alone.programs == again.programs
    assert sorted(alone.deviations) == sorted(again.deviations)
    assert all(signature.startswith("neg>") for signature in alone.deviations)


def test_a_benign_variant_has_no_deviation():
    summary = fuzz(resolve("benign:split-k"), Budget(programs=30), seed=3)
    assert summary.binary and not summary.deviations


def test_a_recorded_deviation_replays_from_its_json(tmp_path):
    engine = resolve("mutant:wrong-grad-exp")
    summary = fuzz(engine, Budget(programs=5), operators=["exp"])
    deviation = next(iter(summary.deviations.values()))
    record = deviation.write(tmp_path)
    assert json.loads(record.read_text())["signature"] == deviation.signature
    assert (tmp_path / f"{record.stem}.py").read_text().count(str(record.resolve())) == 1
    recorded, outcome = replay(record, engine)
    assert (recorded.finding.oracle, recorded.finding.kind) in {(f.oracle, f.kind) for f in outcome.findings}
    _, on_torch = replay(record, resolve("cpu"))
    assert not on_torch.findings
    assert main(["--backend=mutant:wrong-grad-exp", f"--replay={record}"]) == 1
    assert main(["--backend=cpu", f"--replay={record}"]) == 0


@pytest.mark.parametrize(
    ("program", "inputs"),
    [
        (Program(("exp", "sum-dim-keepdim"), (2, 3), "transpose", 1), [np.linspace(-1, 1, 6).reshape(3, 2)]),
        (
            Program(("exp", "mul-broadcast"), (2, 3), "transpose", 1, (None, (3,))),
            [np.linspace(-1, 1, 6).reshape(3, 2), np.array([0.5, -1.0, 2.0])],
        ),
    ],
    ids=["one-input", "with-an-operand"],
)
def test_a_deviation_of_torch_itself_is_reproduced_in_torch_alone(tmp_path, program, inputs):
    """The script runs the catalogue's operators over torch's modules in a bare interpreter (no suite on its path):
    torch's gradient of this program agrees with central differences, so it exits 0."""
    finding = Finding(DIFFERENCES, "gradient", {"ratio": 2.0})
    record = Deviation(resolve("cpu").describe(), program, inputs, finding).write(tmp_path)
    script = tmp_path / f"{record.stem}.py"
    assert "conformance" not in script.read_text()
    run = subprocess.run([sys.executable, "-I", str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "central differences" in run.stdout


def test_a_program_replays_from_its_json():
    program = Program(("exp", "sum-dim-keepdim"), (2, 3), "transpose", 7)
    assert Program.from_json(json.loads(json.dumps(program.to_json()))) == program


def test_an_input_near_a_kink_is_discarded_as_unstable():
    """abs's input 0.01 is within the kink margin of 0: the program is not checked, and says why."""
    engine = resolve("cpu")
    program, inputs = Program(("abs",), (3,), "none", 0), np.array([0.01, 1, -1])
    outcome = check_program(engine, pool(engine, ["abs"])[0], program, [inputs])
    assert outcome.unstable and "abs" in outcome.unstable and not outcome.findings


def test_a_tie_within_the_difference_step_is_discarded_as_unstable():
    """amax of two values 1e-7 apart has no derivative a central difference of step 1e-6 can give."""
    engine = resolve("cpu")
    entries, _ = pool(engine, ["amax"])
    distinct = np.array([[1.0, 0.2, 0.0], [0.0, 1.0, 0.5]])
    outcome = check_program(engine, entries, Program(("amax",), (2, 3), "none", 0), [distinct])
    assert outcome.unstable is None  # distinct maxima: checked
    tie = np.array([[1.0, 1.0 + 1e-7, 0.0], [0.0, 1.0, 0.5]])
    outcome = check_program(engine, entries, Program(("amax",), (2, 3), "none", 0), [tie])
    assert outcome.unstable and "differences" in outcome.unstable


class GeluValuesInFloat32(TorchBackend):
    """torch, but ``gelu``'s float64 values are rounded through float32 (its gradient is float64's), as jittor's
    ``digamma`` computes in float32: its central differences at h and 2h disagree where torch's agree."""

    def __init__(self) -> None:
        super().__init__("cpu", name="gelu-values-in-float32")
        rounded = lambda y: y + (y.float().double() - y).detach()  # noqa: E731
        self.functional = SimpleNamespace(gelu=lambda x, approximate="none": rounded(torch.nn.functional.gelu(x)))


def test_differences_unsteady_on_the_engine_alone_are_its_forwards_fault_not_an_unstable_point():
    """The point is unstable where the oracle's differences are unsteady too (a tie, above); where they hold, the
    engine's float64 forward is at fault: a finding in the ``float64`` check, not a discarded program (jittor's
    ``fuzz.digamma`` had every program discarded, and no verdict)."""
    program, inputs = Program(("gelu",), (2, 3), "none", 0), np.array([[0.3, -1.2, 0.7], [1.9, -0.4, 0.05]])
    assert not check_program(resolve("cpu"), pool(resolve("cpu"), ["gelu"])[0], program, [inputs]).findings
    engine = GeluValuesInFloat32()
    outcome = check_program(engine, pool(engine, ["gelu"])[0], program, [inputs])
    assert outcome.unstable is None
    assert (DIFFERENCES, "unsteady-forward", "float64") in {(f.oracle, f.kind, f.check) for f in outcome.findings}


def test_the_summary_counts_discards_and_the_command_exits_0_without_deviations(tmp_path, capsys):
    assert main(["--backend=cpu", "--budget=30", "--seed=0", f"--out={tmp_path}"]) == 0
    printed = capsys.readouterr().out
    assert "30 programs" in printed and "deviations: 0" in printed
    discarded = int(printed.split("discarded as unstable: ")[1].split()[0])
    assert discarded > 0


def test_the_command_exits_1_and_writes_a_record_for_a_deviation(tmp_path, capsys):
    assert main(["--backend=mutant:wrong-grad-sin", "--budget=5", "--operators=sin", f"--out={tmp_path}"]) == 1
    assert "sin|" in capsys.readouterr().out
    assert list(tmp_path.glob("*.json"))


@pytest.mark.parametrize(("text", "budget"), [("500", Budget(programs=500)), ("60s", Budget(seconds=60))])
def test_a_budget_is_a_count_or_a_time(text, budget):
    assert Budget.parse(text) == budget
    assert Budget.parse("10m").seconds == 600


def test_finite_differences_are_an_oracle_of_their_own():
    """A float64 engine's wrong gradient also disagrees with central differences of its own forward."""
    summary = fuzz(resolve("mutant:wrong-grad-tanh"), Budget(programs=10), operators=["tanh"])
    assert any(deviation.finding.oracle == DIFFERENCES for deviation in summary.deviations.values())


def deviation_of(operators: tuple[str, ...], oracle: str = REVERSE, kind: str = "gradient") -> Deviation:
    return Deviation({}, Program(operators, (3,), "none", 0), [np.zeros(3)], Finding(oracle, kind, {}))


def test_a_shorter_deviation_explains_the_longer_chains_through_its_operators():
    """One record per broken operator: ``prod-dim`` explains ``erf>prod-dim`` and ``prod-dim>neg>abs`` (the same
    oracle disagreeing the same way), not another oracle's or another operator's disagreement; recorded after a
    longer one, it takes that one's place and counts it."""
    short = deviation_of(("prod-dim",))
    assert short.explains(deviation_of(("erf", "prod-dim"))) and short.explains(
        deviation_of(("prod-dim", "neg", "abs"))
    )
    assert not short.explains(deviation_of(("erf", "prod-dim"), oracle=DIFFERENCES))
    assert not short.explains(deviation_of(("erf", "prod-dim"), kind="forward"))
    assert not short.explains(deviation_of(("erf", "sum-dim")))
    summary = Summary()
    summary.record(deviation_of(("erf", "prod-dim")))
    summary.record(short)
    assert list(summary.deviations) == [short.signature]
    assert summary.explained == {short.signature: 1}
    assert summary.explaining(deviation_of(("prod-dim", "exp"))) is short


def test_a_mutant_operator_is_recorded_once_whatever_it_is_chained_with():
    summary = fuzz(resolve("mutant:wrong-grad-exp"), Budget(programs=40), operators=["exp", "neg", "flip"])
    recorded = list(summary.deviations.values())
    assert not [(a.signature, b.signature) for a in recorded for b in recorded if a is not b and a.explains(b)]
    assert {deviation.program.operators for deviation in recorded} <= {("exp",)}


class EpsilonInTheNorm(TorchBackend):
    """torch, but ``normalize`` divides by ``|x| + eps`` instead of ``max(|x|, eps)``, as paddle does: a correct
    engine whose gradient of a one-element normalize (exactly 0) is ``eps / |x|`` instead of 0."""

    def __init__(self) -> None:
        super().__init__("cpu", name="epsilon-in-the-norm")
        norm = lambda x, p, dim, eps: x / (torch.linalg.vector_norm(x, p, dim, keepdim=True) + eps)  # noqa: E731
        self.functional = SimpleNamespace(normalize=lambda x, p=2.0, dim=1, eps=1e-12: norm(x, p, dim, eps))


def test_a_vanishing_gradient_is_held_at_the_scale_of_its_terms():
    """``normalize`` over a dimension of one element has gradient 0, which a correct engine computes as a
    cancellation at the scale ``|cotangent| |output| / |input|``; it passes, and a gradient off by that scale
    fails."""
    program, inputs = Program(("normalize",), (3, 1), "none", 0), np.array([[1.0], [2.0], [1.75]])
    correct = EpsilonInTheNorm()
    assert not check_program(correct, pool(correct, ["normalize"])[0], program, [inputs]).findings
    wrong = EpsilonInTheNorm()
    wrong.functional = SimpleNamespace(normalize=lambda x, p=2.0, dim=1, eps=1e-12: x / x.detach().abs())
    findings = check_program(wrong, pool(wrong, ["normalize"])[0], program, [inputs]).findings
    assert (REVERSE, "gradient") in {(finding.oracle, finding.kind) for finding in findings}


def test_binary_operators_that_broadcast_are_found_by_probing():
    """Two-input entries whose output has their operands' broadcast shape either way round are binary steps; a
    product, a concatenation, a reduction, a fixed mask and an in-place operator (broadcasting one way only) are
    not."""
    names = {entry.name for entry in binary_entries()}
    assert {"mul-broadcast", "div-broadcast", "pow-broadcast", "atan2", "hypot", "maximum", "remainder"} <= names
    assert not names & {"matmul", "cat", "mse-loss-sum-both", "where", "mul-inplace", "add-inplace-alpha"}


def test_an_operand_broadcasts_against_the_running_value_both_ways():
    assert {(3,), (2, 1), (1, 1), ()} <= set(operand_shapes((2, 3)))
    assert {(2, 3), (2, 1, 3), (1,)} <= set(operand_shapes((3,)))  # the running value broadcast up
    assert operand_shapes((3, 1))[0] == (3, 1)  # the same shape first: hypothesis shrinks to no broadcasting
    assert (2, 3) not in operand_shapes((3, 1))  # (3, 3) is not a shape the next operators were probed on


def test_torch_on_the_cpu_has_no_deviation_in_programs_with_binary_steps():
    summary = fuzz(resolve("cpu"), Budget(programs=40), seed=4)
    assert summary.binary >= 10
    assert not summary.deviations, sorted(summary.deviations)


@pytest.mark.parametrize(
    ("mutant", "operators"),
    [
        ("broadcast-grad-mul-broadcast", ["mul-broadcast", "exp", "neg"]),
        # wrong only where both inputs broadcast: every step binary, or it is rarely drawn
        ("shape-grad-add-broadcast-every-operand", ["add-broadcast-every-operand"]),
    ],
)
def test_a_gradient_wrong_only_when_broadcasting_is_caught_by_a_binary_program(mutant, operators):
    """The mutant is right where both operands have the same shape: a deviation needs an operand broadcast against
    the running value (or one broadcasting it), so the gradient's reduction over the broadcast dimensions is what
    the oracles catch; hypothesis shrinks it to the operator alone."""
    operator = operators[0]
    summary = fuzz(resolve(f"mutant:{mutant}"), Budget(programs=60), seed=0, operators=operators)
    assert summary.deviations
    for deviation in summary.deviations.values():
        assert operator in deviation.program.operators
        shapes = [np.shape(array) for array in deviation.inputs]
        assert len(set(shapes)) > 1, deviation.signature
    assert any(operators_of(signature) == [operator] for signature in summary.deviations), sorted(summary.deviations)


def test_a_record_with_several_inputs_round_trips_and_replays(tmp_path):
    engine = resolve("mutant:broadcast-grad-mul-broadcast")
    summary = fuzz(engine, Budget(programs=40), seed=0, operators=["mul-broadcast"])
    deviation = next(d for d in summary.deviations.values() if len(d.program.input_shapes()) >= 2)
    record = deviation.write(tmp_path)
    data = json.loads(record.read_text())
    assert len(data["inputs"]) == len(deviation.program.input_shapes()) >= 2
    again = Deviation.from_json(data)
    assert again.program == deviation.program
    assert all((a == b).all() and a.shape == b.shape for a, b in zip(again.inputs, deviation.inputs, strict=True))
    recorded, outcome = replay(record, engine)
    assert (recorded.finding.oracle, recorded.finding.kind) in {(f.oracle, f.kind) for f in outcome.findings}
    assert not replay(record, resolve("cpu"))[1].findings
    assert main(["--backend=mutant:broadcast-grad-mul-broadcast", f"--replay={record}"]) == 1
    assert main(["--backend=cpu", f"--replay={record}"]) == 0


def test_a_program_with_an_operand_replays_from_its_json_and_a_single_input_record_reads_as_before():
    program = Program(("exp", "mul-broadcast", "neg"), (2, 3), "stride", 7, (None, (1, 3), None))
    data = json.loads(json.dumps(program.to_json()))
    assert data["operands"] == [None, [1, 3], None]
    assert Program.from_json(data) == program
    assert program.input_shapes() == [(3, 3), (1, 3)]
    single = {"operators": ["exp"], "shape": [1], "view": "none", "seed": 0}
    assert json.loads(json.dumps(Program(("exp",), (1,), "none", 0).to_json())) == single
    old = {
        "signature": "exp|reverse-vs-torch|gradient",
        "engine": {},
        "program": single,
        "inputs": [0.5],
        "oracle": REVERSE,
        "kind": "gradient",
        "figures": {},
    }
    (inputs,) = Deviation.from_json(old).inputs
    assert inputs.shape == (1,) and inputs[0] == 0.5


def test_an_operand_near_a_kink_is_discarded_as_unstable():
    """copysign's operand 0.01 is within the kink margin of 0, where the sign it copies flips."""
    engine = resolve("cpu")
    program = Program(("copysign",), (3,), "none", 0, ((3,),))
    outcome = check_program(
        engine, pool(engine, ["copysign"])[0], program, [np.array([1.0, 2, 3]), np.array([0.01, 1, -1])]
    )
    assert outcome.unstable and "operand of copysign" in outcome.unstable and not outcome.findings
    away = check_program(
        engine, pool(engine, ["copysign"])[0], program, [np.array([1.0, 2, 3]), np.array([0.5, 1, -1])]
    )
    assert away.unstable is None and not away.findings


def test_the_operators_kinked_where_their_inputs_meet_are_found_by_probing():
    kinked = {entry.name for entry in binary_entries() if entry.kinked_where_inputs_meet}
    assert {"maximum", "minimum", "fmax", "fmin", "remainder", "hypot"} <= kinked
    assert not kinked & {"mul-broadcast", "add-residual", "pow-broadcast", "atan2", "logaddexp", "copysign"}


def test_a_binary_steps_inputs_that_meet_at_a_kink_are_discarded_as_unstable():
    """fmax's derivative at a tie is a convention (the value is not differentiable there), and along some
    directions the tie is invisible to central differences: hypothesis drew fmax>fmin with both operands equal to an
    element of the input, whose torch gradient disagreed with the differences by 0.008. A tie of mul is checked."""
    engine = resolve("cpu")
    entries = pool(engine, ["fmax", "fmin"])[0]
    program = Program(("fmax", "fmin"), (3, 1), "stride", 15902, ((1,), (1,)))
    x = np.array([[-0.3475593347002941], [1.1755780730609162], [0.11065447424013586], [-1.4582996322466961], [1.06]])
    tie = check_program(engine, entries, program, [x, np.array([-0.3475593347002941]), np.array([-0.3475593347002941])])
    assert tie.unstable and "meet" in tie.unstable and not tie.findings
    apart = check_program(engine, entries, program, [x, np.array([0.5]), np.array([-0.8])])
    assert apart.unstable is None and not apart.findings
    mul = Program(("mul-broadcast",), (1,), "none", 0, ((1,),))
    both = [np.array([0.75]), np.array([0.75])]
    assert check_program(engine, pool(engine, ["mul-broadcast"])[0], mul, both).unstable is None


#: the mutant's doubled exp, as the fuzzer signs it with ``--operators=exp,...``: its three oracles
DOUBLED_EXP = ["exp|reverse-vs-torch|gradient", "exp|finite-differences|gradient", "exp|second-order|hessian-vector"]


def findings_file(directory: Path, signatures: list[str] = DOUBLED_EXP, **changes) -> Path:
    """A findings file in ``directory`` of one engine bug, ``doubled-exp``, with its reproduction script beside it;
    ``changes`` replace (or, as None, remove) its keys."""
    (directory / "doubled_exp.py").write_text("import sys\n\nsys.exit(1)\n")
    finding = {
        "signatures": signatures,
        "triage": "engine-bug",
        "reason": "exp's gradient is twice exp",
        "observed": {"torch": "2.15.0"},
        "reproduction": "doubled_exp.py",
    } | changes
    path = directory / "findings.json"
    path.write_text(json.dumps({"doubled-exp": {key: value for key, value in finding.items() if value is not None}}))
    return path


def test_a_deviation_a_known_finding_explains_is_listed_and_does_not_fail_the_command(tmp_path, capsys):
    """Every program through exp deviates, ``neg>exp`` and ``exp>neg`` too: the finding on exp explains them all, so
    the command lists the finding met, with its reason, its reproduction and the deviations it explains, and exits 0
    (the records are still written)."""
    path = findings_file(tmp_path)
    out = tmp_path / "out"
    arguments = ["--backend=mutant:wrong-grad-exp", "--operators=exp,neg", "--budget=20", f"--out={out}"]
    assert main([*arguments, f"--findings={path}"]) == 0
    printed = capsys.readouterr().out
    assert f"known findings met: 1 of 1 ({path.name})" in printed
    assert "doubled-exp (engine-bug, observed on torch 2.15.0): exp's gradient is twice exp" in printed
    assert f"reproduction: {(tmp_path / 'doubled_exp.py').name}" in printed
    assert "    exp|reverse-vs-torch|gradient: {'ratio'" in printed
    assert "new deviations: 0" in printed and "not met" not in printed
    assert (out / "exp_reverse-vs-torch_gradient.json").is_file()


def test_a_deviation_no_known_finding_explains_still_fails_the_command(tmp_path, capsys):
    """A finding of the reverse-mode gradient alone leaves finite differences and second order new: exit 1."""
    path = findings_file(tmp_path, ["exp|reverse-vs-torch|gradient"])
    arguments = ["--backend=mutant:wrong-grad-exp", "--operators=exp", "--budget=10", f"--out={tmp_path / 'out'}"]
    assert main([*arguments, f"--findings={path}"]) == 1
    printed = capsys.readouterr().out
    assert "known findings met: 1 of 1" in printed
    new = printed.split("new deviations: ")[1]
    assert int(new.split()[0]) >= 1 and "exp|finite-differences|gradient: {" in new
    assert "exp|reverse-vs-torch|gradient" not in new.split("programs a recorded")[0]


def test_a_known_finding_not_met_is_said_and_is_no_error(tmp_path, capsys):
    """A random budget is no evidence of absence: torch meets no finding of a doubled sin, and exits 0 saying so."""
    path = findings_file(tmp_path, ["sin|reverse-vs-torch|gradient"])
    assert main(["--backend=cpu", "--operators=sin", "--budget=5", f"--out={tmp_path}", f"--findings={path}"]) == 0
    printed = capsys.readouterr().out
    assert "known findings met: 0 of 1" in printed
    assert "known findings not met: 1 (no error: a random budget is no evidence of their absence)" in printed
    assert "  doubled-exp" in printed


def test_a_finding_explains_the_longer_chains_through_its_operators_with_its_oracle_and_kind():
    """As a recorded deviation explains a longer one: a finding on ``prod-dim`` covers ``erf>prod-dim`` and
    ``prod-dim>neg>abs``, not another oracle's, kind's or operator's; one finding covers several signatures."""
    finding = KnownFinding(
        "prod-at-a-zero",
        (Signature.parse("prod-dim|reverse-vs-torch|gradient"), Signature.parse("cumprod|second-order|hessian-vector")),
        "engine-bug",
        "NaN at a zero factor",
        {"paddlepaddle": "3.3.1"},
    )
    assert finding.explains("erf>prod-dim|reverse-vs-torch|gradient")
    assert finding.explains("prod-dim>neg>abs|reverse-vs-torch|gradient")
    assert finding.explains("exp>cumprod|second-order|hessian-vector")
    assert not finding.explains("erf>prod-dim|finite-differences|gradient")
    assert not finding.explains("erf>prod-dim|reverse-vs-torch|forward")
    assert not finding.explains("erf>sum-dim|reverse-vs-torch|gradient")
    assert not finding.explains("cumprod|reverse-vs-torch|gradient")
    prod = SimpleNamespace(finding=SimpleNamespace(check="", figures={}))
    raised = SimpleNamespace(finding=SimpleNamespace(check="", figures={}))
    deviations = {"erf>prod-dim|reverse-vs-torch|gradient": prod, "exp|runs|ValueError": raised}
    met, new = Findings(Path("paddle.json"), (finding,)).split(deviations)
    assert (met, new) == ({"prod-at-a-zero": [prod]}, {"exp|runs|ValueError": raised})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fixed_in": "3.4"}, "unknown keys fixed_in"),
        ({"reason": None}, "missing reason"),
        ({"reason": " "}, "expected a non-empty reason string"),
        ({"reproduction": "gone.py"}, "reproduction 'gone.py': *gone.py does not exist"),
        ({"reproduction": None}, "an engine bug needs a reproduction"),
        ({"reproduction": "../doubled_exp.py"}, "expected a path relative to the findings file's folder"),
        ({"signatures": ["exp|reverse-vs-torch"]}, "signature 'exp|reverse-vs-torch' is not OPERATOR>...|ORACLE|KIND"),
        ({"signatures": ["exp|backwards|gradient"]}, "oracle 'backwards' is none of reverse-vs-torch, *"),
        ({"signatures": ["expo|reverse-vs-torch|gradient"]}, "expo is no operator of the catalogue"),
        ({"triage": "bug"}, "triage 'bug' is none of engine-bug, *"),
        ({"observed": {"torch": "recent"}}, "observed torch 'recent' is not a version"),
        ({"triage": "known-failure"}, "known_failures must list the spec IDs the finding is the cause of"),
        ({"triage": "known-failure", "known_failures": ["opgrad.nope"]}, "known_failures opgrad.nope are not in *"),
        ({"known_failures": ["opgrad.nope"]}, "known_failures opgrad.nope are not in *"),
        ({"known_failures": []}, "known_failures must list the spec IDs the finding is the cause of"),
        ({"fails_in": "third-order"}, "fails_in 'third-order' is none of float32, float64, *"),
        ({"signatures": ["*|reverse-vs-torch|forward-shape"]}, "stands for any chain: the finding must name the fig*"),
        ({"figures": []}, "figures must be a non-empty object of the figures a deviation it explains has"),
    ],
)
def test_a_malformed_findings_file_is_an_error_naming_the_file_and_the_entry(tmp_path, capsys, changes, message):
    path = findings_file(tmp_path, **changes)
    with pytest.raises(pytest.UsageError) as raised:
        findings.of_engine(resolve("cpu"), path)
    assert fnmatch.fnmatch(str(raised.value), f"findings file {path}: entry 'doubled-exp': *{message}*"), raised.value
    assert main(["--backend=cpu", "--budget=1", f"--findings={path}"]) == 2
    assert f"error: findings file {path}: entry 'doubled-exp': " in capsys.readouterr().err


def test_a_finding_of_any_chain_explains_the_deviations_with_its_figures_only():
    """An engine with no 0-d tensors: every chain's 0-d result of shape (1,) is the finding's; a result of another
    wrong shape, or a wrong value, is not."""
    finding = KnownFinding(
        "no-0-d-tensors",
        (Signature.parse("*|reverse-vs-torch|forward-shape"),),
        "accepted-difference",
        "a 0-d result has shape (1,)",
        {"jittor": "1.3.11.0"},
        figures={"shape": [1], "expected_shape": []},
    )
    zero_d_as_one = {"shape": [1], "expected_shape": []}
    assert finding.explains("exp>sum|reverse-vs-torch|forward-shape", figures=zero_d_as_one)
    assert finding.explains("norm|reverse-vs-torch|forward-shape", figures=zero_d_as_one)
    assert not finding.explains("sum-dim|reverse-vs-torch|forward-shape", figures={"shape": [2], "expected_shape": []})
    assert not finding.explains("sum|reverse-vs-torch|forward", figures={"ratio": 3.0})


def test_a_backend_declares_its_findings_file_and_torchs_serve_the_backends_made_of_it():
    assert (
        findings.shipped(resolve("cpu")) == findings.FINDINGS / "torch.json" == findings.shipped(resolve("torch.func"))
    )
    assert findings.shipped(SimpleNamespace(engine="a plug-in")) is None  # declares none: has none
    assert findings.of_engine(SimpleNamespace(engine="a plug-in", known_failures_file=None)) == Findings()


def test_a_finding_restricted_to_a_check_does_not_explain_a_deviation_in_another():
    """torch's Bessel finding is float64's (right to float32's precision): a wrong first-order gradient of the same
    operator, a mutant's, is no known finding."""
    (finding,) = findings.of_engine(resolve("cpu")).findings
    assert finding.fails_in == "float64"
    assert finding.explains("bessel-j0|reverse-vs-torch|gradient", "float64")
    assert not finding.explains("bessel-j0|reverse-vs-torch|gradient", "")


def test_a_program_that_overflows_on_the_oracle_is_discarded_as_unstable():
    """exp(exp(exp(2))) = exp(1618.2) is inf in float64 for the oracle as for the engine: no deviation to report."""
    entries, _ = pool(resolve("cpu"), ["exp"])
    outcome = check_program(resolve("cpu"), entries, Program(("exp", "exp", "exp"), (1,), "none", 0), [np.array([2.0])])
    assert outcome.unstable.startswith("the oracle's output is not finite") and not outcome.findings


def test_central_differences_within_the_rounding_of_a_large_output_are_discarded_as_unstable():
    """threshold(x, 0.1, 20) then expm1 makes elements of 4.9e8 that do not move: the moving ones' differences are
    left at float64's resolution there, so central differences are no derivative to hold the engine to."""
    entries, _ = pool(resolve("cpu"), ["threshold", "expm1"])
    program = Program(("threshold", "expm1"), (2, 1, 3), "none", 0)
    inputs = [np.array([[[0.0, 1.0, 1.5]], [[0.25, 0.5, 2.0]]])]
    outcome = check_program(resolve("cpu"), entries, program, inputs)
    assert outcome.unstable.startswith("central differences are within the rounding") and not outcome.findings


@pytest.mark.parametrize(("scale", "kinds"), [(1.0, {"forward-shape"}), (1.5, {"forward-shape", "forward"})])
def test_a_result_of_another_shape_is_a_shape_deviation_and_its_values_are_still_checked(scale, kinds):
    """``sum`` of a matrix as ``(1,)``: a deviation of its own kind (so a finding can accept the shape), and where
    its one value is wrong as well, that is a deviation too: a wrong shape hides no wrong value."""
    engine = OneElementFor0d(scale)
    program, inputs = Program(("sum",), (2, 3), "none", 0), np.arange(6.0).reshape(2, 3) / 7
    outcome = check_program(engine, pool(engine, ["sum"])[0], program, [inputs])
    assert {finding.kind for finding in outcome.findings if finding.oracle == REVERSE} == kinds
    shape = next(finding for finding in outcome.findings if finding.kind == "forward-shape")
    assert shape.figures == {"shape": [1], "expected_shape": []}
