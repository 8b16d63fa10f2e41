"""The operator-gradient check fails on wrong gradients, and each catalogue parameter is a spec of its own."""

import numpy as np
import pytest

from backends.mutants import MUTANTS
from backends.mutants.operator_mutants import FLOAT32_ONLY
from conformance import checks
from conformance.catalogue import spec_param
from conformance.gradcheck import (
    ORACLE,
    Float32Expectation,
    Op,
    as_shipped,
    assert_within_error_model,
    check_finite_differences,
    check_gradients,
    float32_tolerance,
    forward,
    gradients,
)
from spec_tests.test_operator_gradients import CATALOGUE

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


def float32_run(op: Op, seed: int = 0):
    """The float64 oracle's expectation and torch's own float32 output and gradients on ``op``'s rounded draws."""
    np.random.seed(seed)
    arrays = [array.astype(np.float32).astype(np.float64) for array in op.draw()]
    cotangent = np.random.standard_normal(forward(ORACLE, op, arrays, np.float64).shape)
    cotangent = cotangent.astype(np.float32).astype(np.float64)
    with as_shipped():
        expected = Float32Expectation.of(op, arrays, cotangent)
    output, grads = gradients(ORACLE, op, arrays, cotangent, np.float32)
    return expected, [output, *grads]


TANH = Op(lambda lib, x, y: (x * y).tanh(), [(3, 4), (4,)])


def test_a_correct_float32_result_is_within_the_error_model():
    expected, actual = float32_run(TANH)
    for value, spread, result in zip(expected.values, expected.spreads, actual, strict=True):
        assert_within_error_model("float32", result, value, spread)


def test_a_float32_result_off_by_a_relative_1e_3_on_one_element_is_outside():
    expected, actual = float32_run(TANH)
    for value, spread, result in zip(expected.values, expected.spreads, actual, strict=True):
        wrong = result.astype(np.float64)
        wrong[(0,) * wrong.ndim] *= 1 + 1e-3
        with pytest.raises(AssertionError, match=r"1 of \d+ elements are outside"):
            assert_within_error_model("float32", wrong, value, spread)


def test_the_float32_tolerance_grows_with_the_measured_conditioning():
    """The inverse of a nearly singular matrix moves with float32 rounding far more than a well-conditioned one's:
    its spread, and so its tolerance, is larger by about the ratio of their condition numbers."""
    inverse = Op(lambda lib, a: lib.linalg.inv(a), [(2, 2)])
    cotangent = np.ones((2, 2))
    tolerances = []
    for matrix in (np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([[1.0, 1.0], [1.0, 1.0 + 1e-4]])):
        np.random.seed(0)
        with as_shipped():
            expected = Float32Expectation.of(inverse, [matrix], cotangent)
        pairs = zip(expected.values, expected.spreads, strict=True)
        relative = [float32_tolerance(value, spread).max() / np.abs(value).max() for value, spread in pairs]
        tolerances.append(max(relative))
    well, ill = tolerances
    assert ill > 1e3 * well


@pytest.mark.parametrize("wrong", FLOAT32_ONLY, ids=lambda wrong: wrong.name)
def test_a_float32_only_mutant_fails_in_the_float32_check_alone(wrong):
    """Its float64 output, gradients and finite differences hold; the float32 check, named so, fails."""
    (param,) = [param for param in CATALOGUE if param.marks[0].args[0].id == f"opgrad.{wrong.spec}"]
    np.random.seed(0)
    with pytest.raises(AssertionError) as failure:
        check_gradients(MUTANTS[wrong.name]("cpu"), param.values[0])
    assert checks.failed_in(failure.value) == checks.FLOAT32
