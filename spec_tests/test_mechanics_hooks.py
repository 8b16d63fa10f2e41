"""Hooks: tensor backward hooks and module forward, forward-pre and backward hooks, with removable handles."""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec


@spec(
    "mechanics.tensor-hook",
    sources=["docs:tensors#torch.Tensor.register_hook", "docs:autograd-mechanics#backward-hooks-execution"],
    needs=[cap.AUTOGRAD, cap.HOOKS],
    kind=VALUE,
)
def test_tensor_hook_sees_and_may_replace_the_gradient(engine):
    """A tensor hook is called every time a gradient with respect to the tensor is computed; it may return a
    new gradient, used in place of grad."""
    seen = []
    v = engine.tensor([0.0, 0.0, 0.0], requires_grad=True)
    v.register_hook(lambda grad: seen.append(engine.to_numpy(grad)) or grad * 2)
    v.backward(engine.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(seen, [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(engine.to_numpy(v.grad), [2.0, 4.0, 6.0])


@spec(
    "mechanics.tensor-hook-remove",
    sources=["docs:tensors#torch.Tensor.register_hook"],
    needs=[cap.AUTOGRAD, cap.HOOKS],
    kind=VALUE,
)
def test_removed_tensor_hook_is_not_called(engine):
    """register_hook returns a handle with a method handle.remove() that removes the hook."""
    calls = []
    v = engine.tensor([1.0, 2.0], requires_grad=True)
    handle = v.register_hook(calls.append)
    handle.remove()
    (v * v).sum().backward()
    assert calls == []
    np.testing.assert_array_equal(engine.to_numpy(v.grad), [2.0, 4.0])


@spec(
    "mechanics.module-hooks",
    sources=[
        "docs:nn#torch.nn.Module.register_forward_pre_hook",
        "docs:nn#torch.nn.Module.register_forward_hook",
        "docs:nn#torch.nn.Module.register_full_backward_hook",
    ],
    needs=[cap.AUTOGRAD, cap.HOOKS, cap.NN],
    kind=VALUE,
)
def test_module_hooks_run_around_forward_and_in_backward(engine):
    """A forward pre-hook is called before forward(), a forward hook after it with the output, and a full
    backward hook every time the gradients with respect to the module are computed."""
    events = []
    layer = engine.nn.Linear(3, 2)
    layer.register_forward_pre_hook(lambda module, args: events.append("pre"))
    layer.register_forward_hook(lambda module, args, output: events.append(("forward", tuple(output.shape))))
    layer.register_full_backward_hook(
        lambda module, grad_input, grad_output: events.append(("backward", engine.to_numpy(grad_output[0])))
    )
    x = engine.rand(4, 3, requires_grad=True)
    layer(x).sum().backward()
    assert events[:2] == ["pre", ("forward", (4, 2))]
    assert len(events) == 3 and events[2][0] == "backward"
    np.testing.assert_array_equal(events[2][1], np.ones((4, 2)))


@spec(
    "mechanics.tensor-hook-non-leaf",
    sources=["docs:tensors#torch.Tensor.register_hook", "docs:autograd-mechanics#backward-hooks-execution"],
    needs=[cap.AUTOGRAD, cap.HOOKS],
    kind=VALUE,
)
def test_non_leaf_hook_replaces_the_gradient_that_flows_upstream(engine):
    """A hook on a non-leaf tensor is called with the gradient with respect to it; the gradient it returns is
    used in place of grad, so it is what flows on to the tensors it was computed from and into their .grad."""
    values, weights = np.random.uniform(0.5, 2.0, 3), np.array([1.0, -2.0, 0.5])
    seen = []
    a = engine.tensor(values.tolist(), requires_grad=True)
    y = a * a
    y.register_hook(lambda grad: seen.append(engine.to_numpy(grad)) or grad * 10)
    (y * engine.tensor(weights.tolist())).sum().backward()
    np.testing.assert_allclose(seen, [weights], rtol=1e-6)
    np.testing.assert_allclose(engine.to_numpy(a.grad), 10 * weights * 2 * values, rtol=1e-6)


@pytest.mark.parametrize("on", ["leaf", "non-leaf"])
@spec(
    "mechanics.tensor-hooks-in-order",
    sources=["docs:autograd-mechanics#backward-hooks-execution", "docs:tensors#torch.Tensor.register_hook"],
    needs=[cap.AUTOGRAD, cap.HOOKS],
    kind=VALUE,
)
def test_several_hooks_run_in_registration_order(engine, on):
    """Several hooks on one tensor, leaf or non-leaf, run in the order they were registered, each given the
    gradient the previous one returned: hooks g + 1 then 3g turn a gradient g into 3(g + 1)."""
    seen = []
    v = engine.tensor([1.0, 2.0], requires_grad=True)
    hooked = v if on == "leaf" else v * 1
    hooked.register_hook(lambda grad: seen.append(("first", engine.to_numpy(grad))) or grad + 1)
    hooked.register_hook(lambda grad: seen.append(("second", engine.to_numpy(grad))) or grad * 3)
    hooked.backward(engine.tensor([1.0, -1.0]))
    assert [name for name, _ in seen] == ["first", "second"]
    np.testing.assert_array_equal(seen[1][1], [2.0, 0.0])
    np.testing.assert_array_equal(engine.to_numpy(v.grad), [6.0, 0.0])
