"""torch.autograd.grad: gradients returned rather than accumulated, and double backward with create_graph."""

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec


@spec(
    "mechanics.autograd-grad",
    sources=["docs:autograd#torch.autograd.grad"],
    needs=[cap.AUTOGRAD, cap.AUTOGRAD_GRAD],
    kind=VALUE,
)
def test_grad_returns_gradients_without_touching_dot_grad(engine):
    """autograd.grad computes and returns the sum of gradients of outputs with respect to the inputs; it
    leaves the inputs' .grad alone, and without create_graph the result is not part of a graph."""
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    (dx,) = engine.autograd.grad((x**3).sum(), [x])
    np.testing.assert_array_equal(engine.to_numpy(dx), [3.0, 12.0])
    assert x.grad is None
    assert dx.requires_grad is False


@spec(
    "mechanics.autograd-grad-create-graph",
    sources=["docs:autograd#torch.autograd.grad", "docs:autograd#higher-order-gradients"],
    needs=[cap.AUTOGRAD, cap.AUTOGRAD_GRAD],
    kind=VALUE,
)
def test_create_graph_allows_double_backward(engine):
    """With create_graph=True, the graph of the derivative is constructed, allowing higher order derivative
    products: the gradient of dy/dx = 3x² is 6x."""
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    (dx,) = engine.autograd.grad((x**3).sum(), [x], create_graph=True)
    (ddx,) = engine.autograd.grad(dx.sum(), [x])
    np.testing.assert_array_equal(engine.to_numpy(ddx), [6.0, 12.0])


@spec(
    "mechanics.autograd-grad-non-leaf-inputs",
    sources=["docs:autograd#torch.autograd.grad"],
    needs=[cap.AUTOGRAD, cap.AUTOGRAD_GRAD],
    kind=VALUE,
)
def test_grad_with_respect_to_non_leaf_inputs_and_grad_outputs(engine):
    """autograd.grad returns the gradients of outputs with respect to the inputs, which may be non-leaf tensors;
    grad_outputs is the "vector" in the vector-Jacobian product: for y = x * x and out = y * c, with grad_outputs
    v, the gradient w.r.t. y is c·v and w.r.t. x is 2x·c·v."""
    x_values, c, v = np.random.uniform(-2.0, 2.0, (3, 4))
    x = engine.tensor(x_values.tolist(), requires_grad=True)
    y = x * x
    out = y * engine.tensor(c.tolist())
    dy, dx = engine.autograd.grad(out, [y, x], grad_outputs=engine.tensor(v.tolist()))
    np.testing.assert_allclose(engine.to_numpy(dy), c * v, rtol=1e-6)
    np.testing.assert_allclose(engine.to_numpy(dx), 2 * x_values * c * v, rtol=1e-5, atol=1e-6)
    assert x.grad is None
