"""Conv2d in a Sequential: which tensors require grad, freezing layers and no_grad for evaluation (seed 002).

The seed's input is 8×3×50×100; the specs use a batch of 2 (same channels and size) to stay fast: the
batch size plays no part in the behaviour.
"""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance import nn_oracle
from conformance.catalogue import VALUE, spec


def conv_net(engine):
    return engine.nn.Sequential(engine.nn.Conv2d(3, 16, 3, 1), engine.nn.Conv2d(16, 32, 3, 1))


@spec("nn.input-does-not-require-grad", sources=["002"], needs=[cap.AUTOGRAD], kind=VALUE)
def test_input_does_not_require_grad(engine):
    """input = torch.randn(8, 3, 50, 100) prints input.requires_grad as False: network inputs need no
    gradients."""
    assert engine.randn(2, 3, 50, 100).requires_grad is False


@spec("nn.parameters-require-grad", sources=["002"], needs=[cap.NN, cap.AUTOGRAD], kind=VALUE)
def test_parameters_and_output_require_grad(engine):
    """Every parameter of nn.Sequential(nn.Conv2d(3, 16, 3, 1), nn.Conv2d(16, 32, 3, 1)) requires grad
    (0.weight True, 0.bias True, 1.weight True, 1.bias True), so the output requires grad."""
    net = conv_net(engine)
    named = {name: param.requires_grad is True for name, param in net.named_parameters()}
    assert named == {"0.weight": True, "0.bias": True, "1.weight": True, "1.bias": True}
    assert net(engine.randn(2, 3, 50, 100)).requires_grad is True


@spec("nn.frozen-network", sources=["002"], needs=[cap.NN, cap.AUTOGRAD], kind=VALUE)
def test_frozen_network_output_does_not_require_grad(engine):
    """Setting requires_grad = False on every parameter freezes the network: its output does not require
    grad."""
    net = conv_net(engine)
    for _, param in net.named_parameters():
        param.requires_grad = False
    assert [param.requires_grad is False for param in net.parameters()] == [True] * 4
    assert net(engine.randn(2, 3, 50, 100)).requires_grad is False


@spec("nn.no-grad-evaluation", sources=["002"], needs=[cap.NN, cap.AUTOGRAD, cap.GRAD_MODE], kind=VALUE)
def test_no_grad_for_evaluation(engine):
    """When evaluating, wrap the inference code in with torch.no_grad(): the output does not require grad
    inside the block, and does again after it."""
    net = conv_net(engine)
    input = engine.randn(2, 3, 50, 100)
    with engine.no_grad():
        assert net(input).requires_grad is False
    assert net(input).requires_grad is True


def as_out_in(engine, linear, out_features: int) -> np.ndarray:
    """nn.Linear's weight A as (out_features, in_features), torch's layout, whichever layout the engine keeps."""
    weight = engine.to_numpy(linear.weight).astype(np.float64)
    return weight if weight.shape[0] == out_features else weight.T


def freeze(module, how: str) -> None:
    if how == "module.requires_grad_(False)":
        module.requires_grad_(False)
    else:
        for param in module.parameters():
            param.requires_grad = False


@pytest.mark.parametrize("how", ["module.requires_grad_(False)", "param.requires_grad = False"])
@spec(
    "nn.frozen-middle-layer",
    sources=["002", "docs:notes/autograd#setting-requires-grad"],
    needs=[cap.NN, cap.AUTOGRAD, cap.SGD],
    kind=VALUE,
)
def test_frozen_middle_layer_passes_gradient_to_earlier_layers(engine, how):
    """Setting requires_grad = False on a module's parameters (or module.requires_grad_(False)) excludes them from
    the gradient computation: after backward their .grad stays None and SGD leaves them as they are, while an
    operation with an input that requires grad still records it, so the layers before the frozen one get their
    full gradient through it.

    nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 5), nn.Linear(5, 2)) with the middle layer frozen; the
    gradients of Σ(output · c) are compared with NumPy's chain rule through the frozen layer (error model of
    conformance.nn_oracle)."""
    first, middle, last = engine.nn.Linear(3, 4), engine.nn.Linear(4, 5), engine.nn.Linear(5, 2)
    net = engine.nn.Sequential(first, middle, last)
    freeze(middle, how)
    assert [param.requires_grad for param in middle.parameters()] == [False, False]
    weights = [as_out_in(engine, layer, out) for layer, out in ((first, 4), (middle, 5), (last, 2))]
    biases = [engine.to_numpy(layer.bias).astype(np.float64) for layer in (first, middle, last)]
    x = np.random.standard_normal((6, 3)).astype(np.float32)
    c = np.random.standard_normal((6, 2)).astype(np.float32)
    input = engine.tensor(x)
    assert middle(engine.ones(6, 4)).requires_grad is False  # frozen layer, input without grad
    assert middle(first(input)).requires_grad is True  # frozen layer, input that requires grad
    (net(input) * engine.tensor(c)).sum().backward()
    assert [param.grad is None for param in middle.parameters()] == [True, True]

    def chain(x, c, a1, b1, a2, b2, a3):
        hidden1 = x @ a1.T + b1
        hidden2 = hidden1 @ a2.T + b2
        grad_hidden2 = c @ a3
        grad_hidden1 = grad_hidden2 @ a2
        return {"first": (grad_hidden1.T @ x, grad_hidden1.sum(0)), "last": (c.T @ hidden2, c.sum(0))}

    operands = (x.astype(np.float64), c.astype(np.float64), weights[0], biases[0], weights[1], biases[1], weights[2])
    exact, bound = chain(*operands), chain(*(np.abs(a) for a in operands))
    for name, layer, out in (("first", first, 4), ("last", last, 2)):
        assert layer.weight.grad is not None and layer.bias.grad is not None, f"{name} got no gradient"
        weight_grad = engine.to_numpy(layer.weight.grad)
        oriented = weight_grad if weight_grad.shape[0] == out else weight_grad.T
        nn_oracle.assert_within(oriented, exact[name][0], bound[name][0], 20, f"{name}.weight.grad")
        nn_oracle.assert_within(
            engine.to_numpy(layer.bias.grad), exact[name][1], bound[name][1], 20, f"{name}.bias.grad"
        )
    before = {name: engine.to_numpy(param) for name, param in net.named_parameters()}
    engine.optim.SGD(net.parameters(), lr=0.1).step()
    for name, param in net.named_parameters():
        if name.startswith("1."):
            np.testing.assert_array_equal(engine.to_numpy(param), before[name], err_msg=name)
        else:
            expected = before[name] - 0.1 * engine.to_numpy(param.grad)
            np.testing.assert_allclose(engine.to_numpy(param), expected, rtol=1e-6, atol=1e-7, err_msg=name)
