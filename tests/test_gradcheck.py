"""The operator-gradient check fails on wrong gradients, and each catalogue parameter is a spec of its own."""

import numpy as np
import pytest

from conformance.catalogue import spec_param
from conformance.gradcheck import ORACLE, Op, check_finite_differences, gradients

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
