"""Gradient values: "Differentiation in Autograd" of the gentle introduction (seeds 000, 001, 004)."""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, SURFACE, VALUE, spec
from conformance.refusals import refuses


@spec("grad.external-gradient", sources=["000", "001", "004"], needs=[cap.VJP], kind=VALUE)
def test_external_gradient(engine):
    """Q = 3a³ − b², Q.backward(gradient=external_grad) stores dQ/da = 9a² in a.grad and dQ/db = −2b in
    b.grad (printed as tensor([36., 81.]) and tensor([-12., -8.])).

    Asked through the functional entry point, ``vjp(Q, [a, b], external_grad)``: a tape engine answers it with
    exactly this backward and reads a.grad and b.grad, an engine without a tape with its own transform."""
    a = engine.tensor([2.0, 3.0])
    b = engine.tensor([6.0, 4.0])
    external_grad = engine.tensor([1.0, 1.0])
    Q, (a_grad, b_grad) = engine.vjp(lambda a, b: 3 * a**3 - b**2, [a, b], external_grad)
    np.testing.assert_array_equal(engine.to_numpy(Q), [-12.0, 65.0])
    np.testing.assert_array_equal(engine.to_numpy(a_grad), [36.0, 81.0])
    np.testing.assert_array_equal(engine.to_numpy(b_grad), [-12.0, -8.0])


@spec("grad.scalar-backward", sources=["000", "001"], needs=[cap.AUTOGRAD], kind=VALUE)
def test_scalar_backward_needs_no_gradient(engine):
    """We can also aggregate Q into a scalar and call backward implicitly, like Q.sum().backward()."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    b = engine.tensor([6.0, 4.0], requires_grad=True)
    (3 * a**3 - b**2).sum().backward()
    np.testing.assert_array_equal(engine.to_numpy(a.grad), [36.0, 81.0])
    np.testing.assert_array_equal(engine.to_numpy(b.grad), [-12.0, -8.0])


@spec("grad.vector-backward-needs-gradient", sources=["000", "001"], needs=[cap.AUTOGRAD], kind=REFUSAL)
def test_vector_backward_without_gradient_is_an_error(engine):
    """We need to explicitly pass a gradient argument in Q.backward() because it is a vector: without one,
    backward refuses and no gradient reaches a.grad."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    Q = 3 * a**3
    with refuses("Q.backward() on a vector Q"):
        Q.backward()
    assert a.grad is None


@spec(
    "grad.vector-backward-needs-gradient-torch-error",
    sources=["000", "001"],
    needs=[cap.AUTOGRAD, cap.TORCH_ERRORS],
    kind=SURFACE,
)
def test_vector_backward_without_gradient_is_torchs_runtime_error(engine):
    """backward() on a vector without a gradient raises torch's RuntimeError: "grad can be implicitly created
    only for scalar outputs"."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    with refuses("Q.backward() on a vector Q") as refusal:
        (3 * a**3).backward()
    refusal.with_torch_error(RuntimeError, "grad can be implicitly created only for scalar outputs")


@spec(
    "grad.vector-jacobian-product",
    sources=["001", "docs:autograd-tutorial#vector-calculus"],
    needs=[cap.VJP],
    kind=VALUE,
)
def test_gradient_argument_is_a_vector_jacobian_product(engine):
    """gradient is a tensor of the same shape as Q, and it represents the gradient of Q w.r.t. itself: given a
    vector v, Q.backward(gradient=v) computes the product of v with the Jacobian, so a.grad = 9a²·v and
    b.grad = −2b·v.

    Asked as ``vjp(Q, [a, b], v)`` (a tape engine answers it with ``Q.backward(gradient=v)``)."""
    a = engine.tensor([2.0, 3.0])
    b = engine.tensor([6.0, 4.0])
    v = engine.tensor([0.5, -2.0])
    _, (a_grad, b_grad) = engine.vjp(lambda a, b: 3 * a**3 - b**2, [a, b], v)
    np.testing.assert_allclose(engine.to_numpy(a_grad), [36.0 * 0.5, 81.0 * -2.0])
    np.testing.assert_allclose(engine.to_numpy(b_grad), [-12.0 * 0.5, -8.0 * -2.0])


@spec("grad.check-collected-gradients", sources=["001", "004"], needs=[cap.AUTOGRAD], kind=VALUE)
def test_collected_gradients_equal_the_analytic_ones(engine):
    """Check if collected gradients are correct: 9*a**2 == a.grad and -2*b == b.grad print
    tensor([True, True]).

    A promise of the tape: .grad holds the collected gradients while a and b enter new operations (9*a**2), so
    this spec stays on backward() where grad.external-gradient asks the functional path."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    b = engine.tensor([6.0, 4.0], requires_grad=True)
    Q = 3 * a**3 - b**2
    Q.backward(gradient=engine.tensor([1.0, 1.0]))
    np.testing.assert_array_equal(engine.to_numpy(9 * a**2 == a.grad), [True, True])
    np.testing.assert_array_equal(engine.to_numpy(-2 * b == b.grad), [True, True])


@spec("grad.accumulates", sources=["000", "001", "docs:autograd-mechanics"], needs=[cap.AUTOGRAD], kind=VALUE)
def test_gradients_accumulate_in_grad(engine):
    """Autograd calculates and stores the gradients for each parameter in the parameter's .grad attribute; a
    second backward adds its gradients to what .grad already holds."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    (3 * a**3).sum().backward()
    np.testing.assert_array_equal(engine.to_numpy(a.grad), [36.0, 81.0])
    (3 * a**3).sum().backward()
    np.testing.assert_array_equal(engine.to_numpy(a.grad), [72.0, 162.0])


@pytest.mark.parametrize(
    "leaf_shape",
    [
        pytest.param((3, 1), id="(3,1)"),
        pytest.param((1, 4), id="(1,4)"),
        pytest.param((4,), id="(4,)"),
    ],
)
@spec(
    "grad.broadcast-reduced",
    sources=["docs:notes/broadcasting", "000"],
    needs=[cap.AUTOGRAD, cap.TENSOR_MATH],
    kind=VALUE,
)
def test_gradient_of_a_broadcast_leaf_has_the_leaf_shape(engine, leaf_shape):
    """A leaf broadcast against a larger tensor gets a gradient of its own shape, the sum of the output
    gradient over the dimensions it was broadcast along: a (3, 1) leaf times a (3, 4) tensor has a (3, 1)
    .grad."""
    leaf_values = np.random.uniform(-1.0, 1.0, leaf_shape)
    other = np.random.uniform(-1.0, 1.0, (3, 4))
    upstream = np.random.uniform(-1.0, 1.0, (3, 4))
    leaf = engine.tensor(leaf_values.tolist(), requires_grad=True)
    (leaf * engine.tensor(other.tolist())).backward(engine.tensor(upstream.tolist()))
    expected = (other * upstream).sum(axis=tuple(range(2 - len(leaf_shape))), keepdims=False)
    expected = expected.sum(axis=tuple(d for d, n in enumerate(leaf_shape) if n == 1), keepdims=True)
    assert tuple(leaf.grad.shape) == leaf_shape
    np.testing.assert_allclose(engine.to_numpy(leaf.grad), expected, rtol=1e-5, atol=1e-6)


@spec("grad.zero-dim-leaf", sources=["000", "001"], needs=[cap.AUTOGRAD, cap.TENSOR_MATH], kind=VALUE)
def test_zero_dim_leaf_gets_a_zero_dim_gradient(engine):
    """A 0-d leaf (a scalar tensor) gets a 0-d gradient: (a * a).backward() on the scalar loss gives a.grad = 2a,
    and a used against a (3, 4) tensor gets the sum of the output gradient times that tensor."""
    value, other, upstream = np.random.uniform(0.5, 2.0), *np.random.uniform(-1.0, 1.0, (2, 3, 4))
    a = engine.tensor(value, requires_grad=True)
    (a * a).backward()
    assert tuple(a.grad.shape) == ()
    np.testing.assert_allclose(engine.to_numpy(a.grad), 2 * value, rtol=1e-6)
    b = engine.tensor(value, requires_grad=True)
    (b * engine.tensor(other.tolist())).backward(engine.tensor(upstream.tolist()))
    assert tuple(b.grad.shape) == ()
    np.testing.assert_allclose(engine.to_numpy(b.grad), (other * upstream).sum(), rtol=1e-5, atol=1e-6)


@spec("grad.external-gradient-float64", sources=["000", "001", "004"], needs=[cap.VJP, cap.FLOAT64], kind=VALUE)
def test_external_gradient_in_float64(engine):
    """Q = 3a³ − b², Q.backward(gradient=external_grad) stores dQ/da = 9a² in a.grad and dQ/db = −2b in
    b.grad, in float64 as in float32, here on a (2, 3) batch drawn at random.

    Asked as ``vjp(Q, [a, b], external_grad)`` on ``tensor64`` inputs; the expectation is the closed form in
    NumPy's float64, so the tolerance is float64 rounding of a few operations."""
    a, b, v = (np.random.uniform(-2.0, 2.0, (2, 3)) for _ in range(3))
    Q, (a_grad, b_grad) = engine.vjp(
        lambda a, b: 3 * a**3 - b**2, [engine.tensor64(a), engine.tensor64(b)], engine.tensor64(v)
    )
    np.testing.assert_allclose(engine.to_numpy(Q), 3 * a**3 - b**2, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(engine.to_numpy(a_grad), 9 * a**2 * v, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(engine.to_numpy(b_grad), -2 * b * v, rtol=1e-13, atol=1e-13)
    assert engine.to_numpy(a_grad).dtype == np.float64
