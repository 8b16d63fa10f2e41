"""no_grad(): stop tracking inside the block, and only there (seeds 000, 001, 002)."""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec


@spec("no_grad.context", sources=["000", "001", "002"], needs=[cap.AUTOGRAD, cap.GRAD_MODE], kind=VALUE)
def test_results_inside_no_grad_do_not_require_grad(engine):
    """Wrapping code in with torch.no_grad() stops autograd from tracking tensors with requires_grad=True:
    (x ** 2).requires_grad is True before the block, False inside it and True again after it, while
    x.requires_grad itself stays True."""
    x = engine.randn(3, requires_grad=True)
    assert (x**2).requires_grad is True
    with engine.no_grad():
        assert (x**2).requires_grad is False
        assert x.requires_grad is True
    assert (x**2).requires_grad is True


@spec(
    "no_grad.nested",
    sources=["docs:autograd-mechanics#locally-disabling-gradient-computation"],
    needs=[
        cap.AUTOGRAD,
        cap.GRAD_MODE,
    ],
    kind=VALUE,
)
def test_nested_no_grad_blocks(engine):
    """no_grad blocks nest: leaving an inner block inside an outer one keeps gradients off until the outer
    block ends."""
    x = engine.randn(3, requires_grad=True)
    with engine.no_grad():
        with engine.no_grad():
            assert (x**2).requires_grad is False
        assert (x**2).requires_grad is False
    assert (x**2).requires_grad is True


@spec("no_grad.decorator", sources=["docs:torch.no_grad"], needs=[cap.AUTOGRAD, cap.GRAD_MODE], kind=VALUE)
def test_no_grad_as_a_decorator(engine):
    """no_grad also works as a decorator: results computed in the decorated function do not require grad,
    and tracking is back on when it returns."""
    x = engine.randn(3, requires_grad=True)

    @engine.no_grad()
    def evaluate(t):
        return t**2

    assert evaluate(x).requires_grad is False
    assert (x**2).requires_grad is True


def add_in_place(b, w):
    b.add_(w)


def assign_a_slice(b, w):
    b[1:] = w[1:]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(add_in_place, id="b.add_(w)"),
        pytest.param(assign_a_slice, id="b[1:] = w[1:]"),
    ],
)
@spec(
    "no_grad.in-place-not-recorded",
    sources=["002", "docs:autograd-mechanics#locally-disabling-gradient-computation"],
    needs=[cap.AUTOGRAD, cap.GRAD_MODE, cap.INPLACE],
    kind=VALUE,
)
def test_in_place_change_under_no_grad_is_not_recorded(engine, change):
    """Inside no_grad, operations are not recorded, in-place ones included: changing a non-leaf b = a * 2 in
    place with a w that requires grad (b.add_(w), b[1:] = w[1:]) changes b's values, b still requires
    grad, and backward gives a the gradient of a * 2 and w none."""
    values, others = np.random.uniform(0.5, 2.0, (2, 3))
    a = engine.tensor(values.tolist(), requires_grad=True)
    w = engine.tensor(others.tolist(), requires_grad=True)
    b = a * 2
    with engine.no_grad():
        change(b, w)
    assert b.requires_grad is True
    assert not np.allclose(engine.to_numpy(b), 2 * values)
    b.sum().backward()
    np.testing.assert_array_equal(engine.to_numpy(a.grad), [2.0, 2.0, 2.0])
    assert w.grad is None
