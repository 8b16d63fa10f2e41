"""The operator-gradient check fails on wrong gradients, and each catalogue parameter is a spec of its own."""

import json
import subprocess
import sys

import numpy as np
import pytest

from backends.mutants import MUTANTS
from backends.mutants.operator_mutants import FLOAT32_ONLY
from conformance import checks
from conformance.catalogue import spec_param
from conformance.gradcheck import (
    FLOAT32,
    FLOAT64,
    GRANTED_ARGUMENTS,
    ORACLE,
    Expectation,
    Op,
    as_shipped,
    assert_within_error_model,
    check_finite_differences,
    check_gradients,
    forward,
    gradients,
    tolerance,
)
from conformance.operator_catalogue import CATALOGUE
from tests.conftest import ROOT, OneElementFor0d

SQUARE = Op(lambda lib, x: x * x, [(3,)])


def test_finite_differences_accept_the_true_gradient_and_reject_a_wrong_one():
    arrays, cotangent = [np.array([1.0, -2.0, 0.5])], np.array([1.0, 1.0, 2.0])
    _, grads = gradients(ORACLE, SQUARE, arrays, cotangent, np.float64)
    check_finite_differences(ORACLE, SQUARE, arrays, cotangent, grads)
    with pytest.raises(AssertionError, match="central finite differences"):
        check_finite_differences(ORACLE, SQUARE, arrays, cotangent, [grads[0] * 1.01])


def test_finite_differences_check_every_element():
    """A gradient wrong only in the last element of a 3×4 input is rejected: no element goes unchecked."""
    op = Op(lambda lib, x: x.tanh(), [(3, 4)])
    arrays, cotangent = [np.linspace(-1.5, 1.5, 12).reshape(3, 4)], np.linspace(1.0, 2.0, 12).reshape(3, 4)
    _, (grad,) = gradients(ORACLE, op, arrays, cotangent, np.float64)
    check_finite_differences(ORACLE, op, arrays, cotangent, [grad])
    wrong = grad.copy()
    wrong[-1, -1] += 1e-3
    with pytest.raises(AssertionError, match=r"Mismatched elements: 1 / 12"):
        check_finite_differences(ORACLE, op, arrays, cotangent, [wrong])


def test_each_catalogue_parameter_carries_its_own_spec():
    param = spec_param(
        "opgrad.square", SQUARE, says="x * x has gradient 2x.", sources=["000"], test="m::t", kind="value"
    )
    (mark,) = param.marks
    assert param.id == "square"
    assert (mark.name, mark.args[0].id, mark.args[0].says) == ("spec", "opgrad.square", "x * x has gradient 2x.")
    with pytest.raises(ValueError, match="unknown capabilities"):
        spec_param("opgrad.square", SQUARE, says="s", sources=["000"], test="m::t", kind="value", needs=["telepathy"])


def test_an_operator_uses_the_members_its_code_names():
    """Paths from ``lib`` are dotted as the capability table spells them; other attributes are the tensors'."""
    operator = Op(lambda lib, x, w: lib.functional.conv2d(x.mT, w).erfinv() + lib.linalg.det(w), [(2, 2), (2, 2)])
    assert operator.uses() == {"functional.conv2d", "mT", "erfinv", "linalg.det"}


def test_an_operator_calling_a_helper_is_refused():
    """A helper's members could not be read, so an engine lacking one would fail instead of being unsupported."""
    with pytest.raises(ValueError, match="calls helper; use only lib"):
        Op(lambda lib, x: helper(x), [(2,)]).uses()
    with pytest.raises(ValueError, match="defines functions inside"):
        Op(lambda lib, x: (lambda y: y.erfinv())(x), [(2,)]).uses()


def helper(x):
    return x.erfinv()


def test_a_spec_using_a_member_its_backend_lacks_is_unsupported(harness):
    """The backend declares tensor.unary but lacks erfinv: the spec using erfinv is unsupported, naming it, and the
    spec using erf runs."""
    harness.syspathinsert()
    harness.makepyfile(
        lacking_backend="""
        from backends import capabilities as cap
        from backends.torch_backend import TorchBackend

        class Lacking(TorchBackend):
            lacks = {cap.UNARY: frozenset({"erfinv"})}

        LACKING = Lacking("cpu")
        """,
        test_uses="""
        import pytest
        from backends import capabilities as cap
        from conformance.catalogue import VALUE, spec_param

        def entry(name):
            return spec_param(f"x.uses-{name}", name, says="s.", sources=["000"], test="test_uses::test_uses",
                              kind=VALUE, needs=[cap.UNARY], uses=[name])

        @pytest.mark.parametrize("member", [entry("erfinv"), entry("erf")])
        def test_uses(engine, member):
            pass
        """,
    )
    result = harness.runpytest("--backend=lacking_backend:LACKING", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*unsupported: * does not declare tensor.unary[[]erfinv[]]*"])


NO_FLOAT64_GELU = """
import torch
from backends import capabilities as cap
from backends.mutants.translation_mutants import Replacing


def gelu(x, approximate="none"):
    if x.dtype == torch.float64:
        raise RuntimeError("gelu: no float64 kernel")
    return torch.nn.functional.gelu(x, approximate=approximate) * FACTOR


class NoFloat64Gelu(Replacing):
    functional_members = (("gelu", gelu),)
    lacks = {cap.FLOAT64: frozenset({"functional.gelu"})}


class Undeclared(NoFloat64Gelu):
    lacks = {}


FACTOR = 1.0
DECLARED, UNDECLARED = NoFloat64Gelu("cpu", name="declared"), Undeclared("cpu", name="undeclared")
"""


@pytest.mark.parametrize(
    ("backend", "factor", "verdict", "missing"),
    [
        ("DECLARED", 1.0, "pass", ["float64[functional.gelu]"]),
        ("UNDECLARED", 1.0, "fail", []),
        ("DECLARED", 1.001, "fail", []),
    ],
)
def test_an_entry_whose_float64_kernel_the_engine_lacks_runs_in_float32_and_names_it(
    harness, backend, factor, verdict, missing
):
    """An engine with float64 but no float64 gelu, declared as ``lacks={FLOAT64: {"functional.gelu"}}``, has
    ``opgrad.gelu`` checked in float32 only: a pass that names the lacked kernel, not a FAIL for an error in float64.
    The same refusal undeclared is a FAIL, and a declared one does not excuse a wrong float32 value."""
    harness.syspathinsert()
    harness.makepyfile(no_float64_gelu=NO_FLOAT64_GELU.replace("FACTOR = 1.0", f"FACTOR = {factor}"))
    result = harness.runpytest_subprocess(
        "--pyargs", "spec_tests", f"--backend=no_float64_gelu:{backend}", "--spec=opgrad.gelu",
        "--conformance-json=report.json", "-p", "no:cacheprovider",
    )  # fmt: skip
    report = json.loads((harness.path / "report.json").read_text())
    (cell,) = report["specs"][0]["verdicts"].values()
    assert (cell["verdict"], cell["missing"]) == (verdict, missing), result.stdout.str()
    if missing:
        assert cell["reason"] == "checked in float32 only: no float64 for float64[functional.gelu]"
        result.stdout.fnmatch_lines(
            [
                "*opgrad.gelu [[]*[]] pass: checked in float32 only: no float64 for float64[[]functional.gelu[]]",
                "*coverage 1/1 applicable specs run; lacks float64 (1)",
            ]
        )


def test_a_spec_touching_a_member_its_backend_lacks_is_unsupported(harness):
    """``lacks`` holds for every spec, not only for the catalogue's entries that name their members: a spec
    whose engine raises for a lacked member (``item``, an argument ``functional.max_pool2d(ceil_mode=)``) is
    unsupported, naming it; the same error for a member the backend does not declare it lacks is a FAIL."""
    harness.syspathinsert()
    harness.makepyfile(
        lacking_backend="""
        from backends import capabilities as cap
        from backends.torch_backend import TorchBackend

        class Lacking(TorchBackend):
            lacks = {cap.NUMPY: frozenset({"item"}), cap.POOLING: frozenset({"functional.max_pool2d(ceil_mode=)"})}

        LACKING = Lacking("cpu")
        """,
        test_touches="""
        from backends import capabilities as cap
        from conformance.catalogue import VALUE, spec

        @spec("x.touches-item", sources=["000"], kind=VALUE, needs=[cap.NUMPY])
        def test_item(engine):
            \"\"\"Touches item.\"\"\"
            raise AttributeError("'Tensor' object has no attribute 'item'", name="item")

        @spec("x.touches-ceil-mode", sources=["000"], kind=VALUE, needs=[cap.POOLING])
        def test_ceil_mode(engine):
            \"\"\"Passes ceil_mode.\"\"\"
            raise TypeError("max_pool2d() got an unexpected keyword argument 'ceil_mode'")

        @spec("x.touches-other", sources=["000"], kind=VALUE, needs=[cap.NUMPY])
        def test_other(engine):
            \"\"\"Touches numpy.\"\"\"
            raise AttributeError("'Tensor' object has no attribute 'numpy'", name="numpy")
        """,
    )
    result = harness.runpytest("--backend=lacking_backend:LACKING", "-rs")
    result.assert_outcomes(failed=1, skipped=2)
    result.stdout.fnmatch_lines_random(
        [
            "*unsupported: * lacks numpy[[]item[]], which the spec uses*",
            "*unsupported: * lacks nn.functional.pooling[[]functional.max_pool2d(ceil_mode=)[]], which the spec uses*",
        ]
    )


def run_at(op: Op, precision, seed: int = 0):
    """The float64 oracle's expectation at ``precision`` and torch's own output and gradients in that precision on
    ``op``'s draws rounded to it."""
    np.random.seed(seed)
    arrays = [array.astype(precision.dtype).astype(np.float64) for array in op.draw()]
    cotangent = np.random.standard_normal(forward(ORACLE, op, arrays, np.float64).shape)
    cotangent = cotangent.astype(precision.dtype).astype(np.float64)
    with as_shipped():
        expected = Expectation.of(op, arrays, cotangent, precision)
    output, grads = gradients(ORACLE, op, arrays, cotangent, precision.dtype)
    return expected, [output, *grads], arrays, cotangent


TANH = Op(lambda lib, x, y: (x * y).tanh(), [(3, 4), (4,)])


@pytest.mark.parametrize("precision", [FLOAT32, FLOAT64], ids=lambda precision: precision.name)
def test_a_correct_result_is_within_the_error_model(precision):
    expected, actual, _, _ = run_at(TANH, precision)
    for value, spread, result in zip(expected.values, expected.spreads, actual, strict=True):
        assert_within_error_model(precision.name, result, value, spread, precision)


def test_a_float64_result_of_another_algorithm_is_within_the_error_model():
    """NumPy's tanh (another libm) and the gradient from the other formula, 1 - tanh², round differently from
    torch's in the last places of float64: a correct engine, which the float64 model passes."""
    expected, _, (x, y), cotangent = run_at(TANH, FLOAT64)
    value = np.tanh(x * y)
    local = cotangent * (1 - value * value)
    for computed, oracle, spread in zip(
        [value, local * y, (local * x).sum(axis=0)], expected.values, expected.spreads, strict=True
    ):
        assert_within_error_model("float64", computed, oracle, spread, FLOAT64)


@pytest.mark.parametrize(
    ("precision", "relative"), [(FLOAT32, 1e-3), (FLOAT64, 3e-8)], ids=lambda value: getattr(value, "name", value)
)
def test_a_result_off_on_one_element_is_outside(precision, relative):
    """float32 off by 1e-3 relative; float64 off by 3e-8, what a float64 constant rounded through float32 costs
    (leaky_relu's slope 0.01 is 0.009999999776 in float32: 2.2e-8 relative)."""
    expected, actual, _, _ = run_at(TANH, precision)
    for value, spread, result in zip(expected.values, expected.spreads, actual, strict=True):
        wrong = result.astype(np.float64)
        wrong[(0,) * wrong.ndim] *= 1 + relative
        with pytest.raises(AssertionError, match=r"1 of \d+ elements are outside"):
            assert_within_error_model(precision.name, wrong, value, spread, precision)


def test_the_float32_tolerance_grows_with_the_measured_conditioning():
    """The inverse of a nearly singular matrix moves with float32 rounding far more than a well-conditioned one's:
    its spread, and so its tolerance, is larger by about the ratio of their condition numbers."""
    inverse = Op(lambda lib, a: lib.linalg.inv(a), [(2, 2)])
    cotangent = np.ones((2, 2))
    tolerances = []
    for matrix in (np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([[1.0, 1.0], [1.0, 1.0 + 1e-4]])):
        np.random.seed(0)
        with as_shipped():
            expected = Expectation.of(inverse, [matrix], cotangent, FLOAT32)
        pairs = zip(expected.values, expected.spreads, strict=True)
        relative = [tolerance(value, spread, FLOAT32).max() / np.abs(value).max() for value, spread in pairs]
        tolerances.append(max(relative))
    well, ill = tolerances
    assert ill > 1e3 * well


@pytest.mark.parametrize("wrong", FLOAT32_ONLY, ids=lambda wrong: wrong.name)
def test_a_float32_only_mutant_fails_in_the_float32_check_alone(wrong):
    """Its float64 output, gradients and finite differences hold; the float32 check, named so, fails."""
    (entry,) = [entry for entry in CATALOGUE if entry.name == wrong.spec]
    np.random.seed(0)
    with pytest.raises(AssertionError) as failure:
        check_gradients(MUTANTS[wrong.name]("cpu"), entry.op)
    assert checks.failed_in(failure.value) == checks.FLOAT32


@pytest.mark.parametrize(("scale", "check"), [(1.0, checks.SHAPE), (1.5, "")])
def test_a_result_of_another_shape_fails_in_the_shape_check_after_its_values_held(scale, check):
    """``sum`` as ``(1,)``: right values fail in the ``shape`` check, last, so that a known failure restricted to it
    (an engine with no 0-d tensors) covers the shape alone; a wrong value still fails the first order."""
    (entry,) = [entry for entry in CATALOGUE if entry.name == "sum"]
    np.random.seed(0)
    with pytest.raises(AssertionError, match="shape" if check else "differs") as failure:
        check_gradients(OneElementFor0d(scale), entry.op)
    assert checks.failed_in(failure.value) == check


ORACLE_ONLY = """
import sys
from conformance.gradcheck import Oracle, check_gradients
from conformance.operator_catalogue import CATALOGUE

# the oracle's own class as the engine too: torch's forward mode (TorchBackend.jvp) imports torch._dynamo where
# it meets a Python reference (x - y, 3 / x); the oracle's jvp is reverse mode, even without double backward
engine = Oracle("cpu")
names = ("conv2d-stride-padding", "matmul", "tanh", "cross-entropy", "loss-sum-of-difference", "rdiv", "hardsigmoid")
checked = 0
for entry in CATALOGUE:
    if entry.name in names:
        check_gradients(engine, entry.op)
        checked += 1
assert checked == len(names), checked
print(sorted(name for name in ("torch._dynamo", "torch._inductor", "triton") if name in sys.modules))
"""


def test_the_oracle_imports_no_compiler():
    """The float64 oracle, its Jacobian-vector products and its error models run torch's eager operators only:
    they never import torch's compiler stack (torch._dynamo, torch._inductor, triton), whose import after
    TensorFlow's crashed the process."""
    done = subprocess.run(
        [sys.executable, "-c", ORACLE_ONLY], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


def test_the_arguments_an_entry_passes_are_members_it_uses():
    """Every argument ``name(arg=)`` the capability table grants is read from the operators that pass it, so that
    a backend can declare it lacks one (``lacks={POOLING: {"functional.avg_pool2d(ceil_mode=)"}}``) and get
    "unsupported" for that entry alone; an argument the table does not name is no member."""
    uses = {entry.id: entry.uses for entry in CATALOGUE}
    assert "functional.avg_pool2d(ceil_mode=)" in uses["opgrad.avg-pool2d-ceil-mode"]
    assert "functional.cross_entropy(label_smoothing=)" in uses["opgrad.cross-entropy-label-smoothing"]
    assert "std(correction=)" in uses["opgrad.std-dim-correction0"]
    assert any("(pos_weight=)" in member for member in set().union(*uses.values()))
    assert not [member for member in set().union(*uses.values()) if "(" in member and member not in GRANTED_ARGUMENTS]
