"""Hooks: tensor backward hooks and module forward, forward-pre and backward hooks, with removable handles."""

import numpy as np

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
