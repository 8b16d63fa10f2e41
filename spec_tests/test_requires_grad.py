"""requires_grad: its default, requires_grad_(), and how it propagates ("Exclusion from the DAG", seeds 000,
001, 003)."""

import re

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec


@spec("requires_grad.default-false", sources=["002", "003"], needs=[cap.AUTOGRAD], kind=VALUE)
def test_requires_grad_is_false_by_default(engine):
    """Every tensor has a flag requires_grad, False by default (x = torch.randn(3, 3) # requires_grad=False by
    default)."""
    assert engine.randn(3, 3).requires_grad is False
    assert engine.rand(5, 5).requires_grad is False
    assert engine.tensor([2.0, 3.0]).requires_grad is False
    assert engine.tensor([2.0, 3.0], requires_grad=True).requires_grad is True


@spec(
    "requires_grad.requires-grad-underscore",
    sources=["000"],
    needs=[cap.AUTOGRAD, cap.GRAPH, cap.GRAPH_NAMES],
    kind=VALUE,
)
def test_requires_grad_underscore_switches_tracking_on(engine):
    """x.requires_grad_(True) turns tracking on for x: print(x.requires_grad) shows False, then True, and
    (x * x).sum() has grad_fn <SumBackward0>."""
    x = engine.randn(2, 2)
    assert x.requires_grad is False
    x.requires_grad_(True)
    assert x.requires_grad is True
    y = (x * x).sum()
    assert re.fullmatch(r"SumBackward\d+", y.grad_fn.name())


@spec("requires_grad.propagation", sources=["000", "001", "003"], needs=[cap.AUTOGRAD], kind=VALUE)
def test_output_requires_grad_if_any_input_does(engine):
    """The output tensor of an operation will require gradients even if only a single input tensor has
    requires_grad=True: a = x + y does not require gradients, b = x + z does."""
    x = engine.rand(5, 5)
    y = engine.rand(5, 5)
    z = engine.rand(5, 5, requires_grad=True)
    a = x + y
    assert a.requires_grad is False
    b = x + z
    assert b.requires_grad is True
    assert (z + a).requires_grad is True


def augmented_multiply(x, w):
    x *= w
    return x


def in_place_add(x, w):
    x.add_(w)
    return x


def augmented_add(x, w):
    x += w
    return x


def item_assignment(x, w):
    x[1:] = w[1:]
    return x


@pytest.mark.parametrize(
    "form, gradient_of_w",
    [
        pytest.param(augmented_multiply, lambda x: x, id="x *= w"),
        pytest.param(in_place_add, np.ones_like, id="x.add_(w)"),
        pytest.param(augmented_add, np.ones_like, id="x += w"),
        pytest.param(item_assignment, lambda x: np.array([0.0, 1.0, 1.0]), id="x[1:] = w[1:]"),
    ],
)
@spec(
    "requires_grad.propagation-in-place",
    sources=["000", "003", "docs:autograd-mechanics"],
    needs=[cap.AUTOGRAD, cap.INPLACE],
    kind=VALUE,
)
def test_in_place_operation_with_an_operand_that_requires_grad(engine, form, gradient_of_w):
    """The output of an operation requires gradients if a single input does, in-place operations included: after
    x *= w (x.mul_(w)), x.add_(w), x += w or x[1:] = w[1:] where only w requires grad, x requires grad and the
    gradient reaches w."""
    values = np.random.uniform(0.5, 2.0, 3)
    x = engine.tensor(values.tolist())
    w = engine.tensor([2.0, -1.0, 0.5], requires_grad=True)
    x = form(x, w)
    assert x.requires_grad is True
    x.sum().backward()
    np.testing.assert_allclose(engine.to_numpy(w.grad), gradient_of_w(values), rtol=1e-6)
