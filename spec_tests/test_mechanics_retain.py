"""Keeping what backward frees: retain_grad() on non-leaf tensors and backward(retain_graph=True)."""

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, SURFACE, VALUE, spec
from conformance.refusals import refuses


@spec(
    "mechanics.retain-grad",
    sources=["docs:tensors#torch.Tensor.retain_grad"],
    needs=[cap.AUTOGRAD, cap.GRAPH, cap.RETAIN_GRAD],
    kind=VALUE,
)
def test_retain_grad_populates_a_non_leaf_grad(engine):
    """retain_grad() enables this Tensor to have their grad populated during backward()."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    b = a * a
    b.retain_grad()
    (3 * b).sum().backward()
    assert b.is_leaf is False
    np.testing.assert_array_equal(engine.to_numpy(b.grad), [3.0, 3.0])
    np.testing.assert_array_equal(engine.to_numpy(a.grad), [12.0, 18.0])


@spec(
    "mechanics.retain-graph-second-backward-fails",
    sources=["docs:autograd-mechanics#saved-tensors", "docs:tensors#torch.Tensor.backward"],
    needs=[cap.AUTOGRAD],
    kind=REFUSAL,
)
def test_second_backward_through_a_freed_graph_is_an_error(engine):
    """With retain_graph=False (the default) the graph used to compute the grads is freed, so a second
    backward through it is an error ("Trying to backward through the graph a second time"), which adds
    nothing to .grad."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    y = (a * a).sum()
    y.backward()
    with refuses("a second backward through a freed graph"):
        y.backward()
    np.testing.assert_array_equal(engine.to_numpy(a.grad), [4.0, 6.0])


@spec(
    "mechanics.retain-graph-second-backward-torch-error",
    sources=["docs:autograd-mechanics#saved-tensors", "docs:tensors#torch.Tensor.backward"],
    needs=[cap.AUTOGRAD, cap.TORCH_ERRORS],
    kind=SURFACE,
)
def test_second_backward_through_a_freed_graph_is_torchs_runtime_error(engine):
    """A second backward through a freed graph raises torch's RuntimeError: "Trying to backward through the
    graph a second time"."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    y = (a * a).sum()
    y.backward()
    with refuses("a second backward through a freed graph") as refusal:
        y.backward()
    refusal.with_torch_error(RuntimeError, "backward through the graph a second time")


@spec(
    "mechanics.retain-graph",
    sources=["docs:autograd-mechanics#saved-tensors", "docs:tensors#torch.Tensor.backward"],
    needs=[cap.AUTOGRAD, cap.RETAIN_GRAPH],
    kind=VALUE,
)
def test_retain_graph_allows_a_second_backward(engine):
    """backward(retain_graph=True) keeps the graph, so a second backward works and accumulates into .grad."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    y = (a * a).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(engine.to_numpy(a.grad), [8.0, 12.0])


@spec(
    "mechanics.retain-grad-accumulates",
    sources=["docs:tensors#torch.Tensor.retain_grad", "docs:autograd-mechanics"],
    needs=[cap.AUTOGRAD, cap.RETAIN_GRAD, cap.RETAIN_GRAPH],
    kind=VALUE,
)
def test_retained_non_leaf_grad_accumulates(engine):
    """The .grad that retain_grad() populates on a non-leaf is the gradient with respect to that intermediate,
    and like a leaf's it accumulates: a second backward adds to it."""
    values, weights = np.array([2.0, 3.0]), np.random.uniform(-2.0, 2.0, 2)
    a = engine.tensor(values.tolist(), requires_grad=True)
    b = a * a
    b.retain_grad()
    y = (b * engine.tensor(weights.tolist())).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(engine.to_numpy(b.grad), weights, rtol=1e-6)
    y.backward()
    np.testing.assert_allclose(engine.to_numpy(b.grad), 2 * weights, rtol=1e-6)
    np.testing.assert_allclose(engine.to_numpy(a.grad), 2 * weights * 2 * values, rtol=1e-6)


@spec(
    "mechanics.retain-grad-after-tensor-hooks",
    sources=["docs:autograd-mechanics#backward-hooks-execution", "docs:tensors#torch.Tensor.retain_grad"],
    needs=[cap.AUTOGRAD, cap.RETAIN_GRAD, cap.HOOKS],
    kind=VALUE,
)
def test_retained_grad_holds_the_gradient_the_tensor_hooks_returned(engine):
    """The hooks registered to a tensor are executed before the .grad field is updated for tensors that
    retain_grad, whichever was registered first: a non-leaf's retained .grad is the gradient its hooks
    returned, for a hook registered after retain_grad() as for one registered before it."""
    weights = np.random.uniform(-2.0, 2.0, 2)
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    retained_first, hooked_first = a * a, a * a
    retained_first.retain_grad()
    retained_first.register_hook(lambda grad: grad * 3)
    hooked_first.register_hook(lambda grad: grad * 3)
    hooked_first.retain_grad()
    ((retained_first + hooked_first) * engine.tensor(weights.tolist())).sum().backward()
    np.testing.assert_allclose(engine.to_numpy(hooked_first.grad), 3 * weights, rtol=1e-6)
    np.testing.assert_allclose(engine.to_numpy(retained_first.grad), 3 * weights, rtol=1e-6)
