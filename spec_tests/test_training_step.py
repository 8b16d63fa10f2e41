"""The full training step of the gentle introduction on resnet18 (seeds 000, 001, 004).

resnet18() as it comes stands in for the pretrained model (the weights API has its own specs); one image of
1×3×64×64 and labels of shape (1, 1000), as in the tutorial.
"""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import SURFACE, VALUE, spec
from conformance.resnet_oracle import assert_gradients_match, resnet18_gradients

LR, MOMENTUM = 1e-2, 0.9


@pytest.fixture
def model(engine):
    return engine.models.resnet18()


def backward_pass(engine, model):
    """prediction = model(data); loss = (prediction - labels).sum(); loss.backward(). Returns data and labels,
    for the oracle."""
    data = np.random.random_sample((1, 3, 64, 64)).astype(np.float32)
    labels = np.random.random_sample((1, 1000)).astype(np.float32)
    prediction = model(engine.tensor(data))
    assert tuple(prediction.shape) == (1, 1000)
    loss = (prediction - engine.tensor(labels)).sum()
    loss.backward()
    return data, labels


@spec("train.backward-fills-every-grad", sources=["000", "001", "004"], needs=[cap.RESNET18, cap.AUTOGRAD], kind=VALUE)
def test_backward_stores_every_parameter_gradient(engine, model):
    """Backward propagation is kicked off when we call .backward() on the error tensor. Autograd then
    calculates and stores the gradients for each model parameter in the parameter's .grad attribute.

    The prediction has shape (1, 1000), as the labels. Each .grad is compared with torch's float64 gradient
    of a copy of the same model on the same inputs (conformance.resnet_oracle); d loss / d fc.bias is 1 for
    every output, since loss = (prediction - labels).sum()."""
    assert all(param.grad is None for param in model.parameters())
    data, labels = backward_pass(engine, model)
    params = dict(model.named_parameters())
    assert_gradients_match(engine, params, resnet18_gradients(engine, model, data, labels))
    np.testing.assert_allclose(engine.to_numpy(params["fc.bias"].grad), np.ones(1000), rtol=1e-6)


@spec(
    "train.eval-mode-fills-every-grad",
    sources=["000", "001", "docs:generated/torch.nn.Module#torch.nn.Module.eval"],
    needs=[cap.RESNET18, cap.AUTOGRAD],
    kind=VALUE,
)
def test_backward_in_eval_mode_stores_every_parameter_gradient(engine, model):
    """Autograd calculates and stores the gradients for each model parameter in the parameter's .grad
    attribute, in evaluation mode too: after model.eval(), batch norm normalizes with its running statistics
    (a fresh model's: mean 0, variance 1) instead of the batch's.

    Why a second spec: on one 64x64 image in training mode, batch norm over the last blocks' 2x2 positions makes
    most of resnet18's gradients differences of nearly equal terms, which TF32 convolutions (torch's CUDA default)
    move by up to 40% of their norm, so train.backward-fills-every-grad can bound them only as well as the step
    determines them. In evaluation mode each batch norm is an affine map and every gradient is determined to about
    10% under TF32: here a zeroed, scaled or missing gradient of any parameter fails."""
    model.eval()
    data, labels = backward_pass(engine, model)
    params = dict(model.named_parameters())
    assert_gradients_match(engine, params, resnet18_gradients(engine, model, data, labels, training=False))
    np.testing.assert_allclose(engine.to_numpy(params["fc.bias"].grad), np.ones(1000), rtol=1e-6)


@spec("train.sgd-param-group", sources=["000"], needs=[cap.RESNET18, cap.SGD], kind=VALUE)
def test_sgd_param_group_defaults(engine, model):
    """optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9) has one parameter group with
    dampening: 0, lr: 0.01, momentum: 0.9, nesterov: False, weight_decay: 0.

    Newer torch releases hold more keys (maximize, foreach, differentiable, fused); the spec holds the
    printed ones and that the group holds all of the model's parameters. How the optimizer prints them is
    train.sgd-param-group-repr."""
    optim = engine.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    (group,) = optim.param_groups
    printed = {key: group[key] for key in ("dampening", "lr", "momentum", "nesterov", "weight_decay")}
    assert printed == {"dampening": 0, "lr": 0.01, "momentum": 0.9, "nesterov": False, "weight_decay": 0}
    assert len(group["params"]) == len(list(model.parameters()))


@spec("train.sgd-param-group-repr", sources=["000"], needs=[cap.RESNET18, cap.SGD, cap.TORCH_ERRORS], kind=SURFACE)
def test_sgd_prints_its_param_group_as_torch_does(engine, model):
    """print(optim) shows "Parameter Group 0" and, one per line indented by four spaces, dampening: 0,
    lr: 0.01, momentum: 0.9, nesterov: False, weight_decay: 0."""
    text = repr(engine.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9))
    assert "Parameter Group 0" in text
    for line in ("dampening: 0", "lr: 0.01", "momentum: 0.9", "nesterov: False", "weight_decay: 0"):
        assert f"    {line}\n" in text, text


@spec("train.sgd-momentum-step", sources=["000", "001", "004"], needs=[cap.RESNET18, cap.AUTOGRAD, cap.SGD], kind=VALUE)
def test_sgd_step_follows_momentum_rule(engine, model):
    """Finally, we call .step() to initiate gradient descent. The optimizer adjusts each parameter by its
    gradient stored in .grad: with momentum, buf = grad on the first step, buf = momentum * buf + grad
    afterwards, and param -= lr * buf.

    The rule is torch's documented SGD (dampening 0, no nesterov, no weight decay); checked over two steps
    with the gradients read before each step, and on fc.bias, whose gradient is 1, against the rule alone."""
    optim = engine.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    params = dict(model.named_parameters())
    expected = {name: engine.to_numpy(param) for name, param in params.items()}
    fc_bias = expected["fc.bias"]
    buffers = {}
    for _ in range(2):
        optim.zero_grad()
        backward_pass(engine, model)
        for name, param in params.items():
            grad = engine.to_numpy(param.grad)
            buffers[name] = grad if name not in buffers else MOMENTUM * buffers[name] + grad
            expected[name] = expected[name] - LR * buffers[name]
        optim.step()
        for name, param in params.items():
            np.testing.assert_allclose(engine.to_numpy(param), expected[name], rtol=1e-5, atol=1e-6, err_msg=name)
    # d loss / d fc.bias is 1: buf is 1, then 0.9 * 1 + 1, so fc.bias moved by -lr * 2.9 in all
    np.testing.assert_allclose(engine.to_numpy(params["fc.bias"]), fc_bias - LR * (1 + MOMENTUM + 1), rtol=1e-5)


ZERO_GRAD = "docs:optim#torch.optim.Optimizer.zero_grad"


def two_layers(engine):
    """Two nn.Linear(3, 2) and one SGD optimizer with momentum over both."""
    first, second = engine.nn.Linear(3, 2), engine.nn.Linear(3, 2)
    params = {f"first.{n}": p for n, p in first.named_parameters()} | {
        f"second.{n}": p for n, p in second.named_parameters()
    }
    return first, second, params, engine.optim.SGD(params.values(), lr=LR, momentum=MOMENTUM)


def values(engine, tensors: dict) -> dict:
    return {name: engine.to_numpy(tensor) for name, tensor in tensors.items()}


@spec("train.zero-grad-sets-none", sources=[ZERO_GRAD], needs=[cap.NN, cap.AUTOGRAD, cap.SGD], kind=VALUE)
def test_zero_grad_sets_gradients_to_none(engine):
    """optimizer.zero_grad() resets the gradients of all optimized tensors: with set_to_none=True, the
    default, it sets them to None instead of setting them to zero.

    The default became True in torch 2.0; earlier releases zeroed the gradients."""
    first, second, params, optimizer = two_layers(engine)
    x = engine.rand(4, 3)
    (first(x) + second(x)).sum().backward()
    assert [name for name, param in params.items() if param.grad is None] == []
    optimizer.zero_grad()
    assert [name for name, param in params.items() if param.grad is not None] == []


@spec("train.zero-grad-set-to-none-false", sources=[ZERO_GRAD], needs=[cap.NN, cap.AUTOGRAD, cap.SGD], kind=VALUE)
def test_zero_grad_set_to_none_false_zeroes_gradients(engine):
    """optimizer.zero_grad(set_to_none=False) sets the gradients to zero: each .grad is a tensor of zeros of
    its parameter's shape, and the next backward stores just the new gradient in it."""
    first, second, params, optimizer = two_layers(engine)
    x = engine.rand(4, 3)
    (first(x) + second(x)).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    for name, param in params.items():
        assert param.grad is not None, name
        np.testing.assert_array_equal(engine.to_numpy(param.grad), np.zeros(tuple(param.shape)), err_msg=name)
    (2 * first(x)).sum().backward()
    # d/d bias of 2 * (x @ W.T + b).sum() is 2 per sample: 8 for a batch of 4; second got a zero gradient
    np.testing.assert_allclose(engine.to_numpy(params["first.bias"].grad), [8.0, 8.0], rtol=1e-6)
    np.testing.assert_array_equal(engine.to_numpy(params["second.bias"].grad), [0.0, 0.0])


@spec(
    "train.step-skips-none-grad",
    sources=[ZERO_GRAD, "docs:optim#torch.optim.SGD"],
    needs=[cap.NN, cap.AUTOGRAD, cap.SGD],
    kind=VALUE,
)
def test_step_skips_parameters_whose_grad_is_none(engine):
    """torch.optim optimizers have a different behavior if the gradient is 0 or None: in one case it does
    the step with a gradient of 0 and in the other it skips the step altogether.

    With momentum the difference shows: a parameter whose .grad is None keeps its value and its momentum
    buffer; one whose .grad is 0 still moves by -lr * momentum * buf. zero_grad(set_to_none=False) zeroes
    only the gradients that exist: a None stays None."""
    first, second, params, optimizer = two_layers(engine)
    x = engine.rand(4, 3)
    (first(x) + second(x)).sum().backward()
    buffers = values(engine, {name: param.grad for name, param in params.items()})
    optimizer.step()
    optimizer.zero_grad()
    second(x).sum().backward()  # first's parameters keep .grad None
    before, grads = values(engine, params), values(engine, {n: p.grad for n, p in params.items() if "second" in n})
    optimizer.step()
    after = values(engine, params)
    for name in params:
        if name in grads:
            buffers[name] = MOMENTUM * buffers[name] + grads[name]
            expected = before[name] - LR * buffers[name]
        else:
            expected = before[name]  # skipped: grad is None
        np.testing.assert_allclose(after[name], expected, rtol=1e-5, atol=1e-7, err_msg=name)
    optimizer.zero_grad(set_to_none=False)  # zeroes second's gradients; first's stay None
    optimizer.step()
    for name, value in values(engine, params).items():
        if name in grads:
            buffers[name] = MOMENTUM * buffers[name]
            expected = after[name] - LR * buffers[name]
        else:
            expected = after[name]
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-7, err_msg=name)


SGD_RULE = "docs:generated/torch.optim.SGD"


def sgd_rule(param, grad, buffer, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """torch.optim.SGD's documented update of one parameter, in float64: returns the new value and buffer.

    g = -grad if maximize; g += weight_decay * param; b = g on the first step, momentum * b + (1 - dampening) * g
    after; g = g + momentum * b with nesterov, b without; param - lr * g."""
    g = (-grad if maximize else grad) + weight_decay * param
    if momentum:
        buffer = g if buffer is None else momentum * buffer + (1 - dampening) * g
        g = g + momentum * buffer if nesterov else buffer
    return param - lr * g, buffer


def assert_sgd_steps(engine, layer, optimizer, lrs, **arguments) -> None:
    """Steps optimizer over layer's parameters once per learning rate in lrs (set in param_groups[0]["lr"]
    before each step), each after a backward of a new random loss, and checks every parameter after each step
    against sgd_rule computed from the .grad values the step read. Relative tolerance: float32 rounding of a
    handful of operations per element."""
    params = dict(layer.named_parameters())
    expected = {name: engine.to_numpy(param).astype(np.float64) for name, param in params.items()}
    buffers = dict.fromkeys(params)
    for lr in lrs:
        optimizer.zero_grad()
        x, c = np.random.standard_normal((4, 3)), np.random.standard_normal((4, 2))
        (layer(engine.tensor(x.astype(np.float32))) * engine.tensor(c.astype(np.float32))).sum().backward()
        optimizer.param_groups[0]["lr"] = lr
        for name, param in params.items():
            grad = engine.to_numpy(param.grad).astype(np.float64)
            expected[name], buffers[name] = sgd_rule(expected[name], grad, buffers[name], lr, **arguments)
        optimizer.step()
        for name, param in params.items():
            np.testing.assert_allclose(engine.to_numpy(param), expected[name], rtol=1e-5, atol=1e-6, err_msg=name)


@spec(
    "train.sgd-momentum-across-steps",
    sources=["000", SGD_RULE, "docs:optim#per-parameter-options"],
    needs=[cap.NN, cap.AUTOGRAD, cap.SGD],
    kind=VALUE,
)
def test_sgd_momentum_buffer_carries_across_steps(engine):
    """SGD with momentum keeps one buffer per parameter across steps: b_1 = g_1, then b_t = momentum * b_{t-1}
    + g_t and param -= lr * b_t; a learning rate changed in optimizer.param_groups between steps is the one the
    next step uses.

    Four steps of nn.Linear(3, 2) with momentum 0.9, the learning rate 0.1, 0.1, 0.05, 0.02."""
    layer = engine.nn.Linear(3, 2)
    optimizer = engine.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    assert_sgd_steps(engine, layer, optimizer, (0.1, 0.1, 0.05, 0.02), momentum=0.9)


SGD_ARGUMENTS = {
    "dampening": {"momentum": 0.9, "dampening": 0.5},
    "weight-decay": {"weight_decay": 0.1},
    "weight-decay-momentum": {"momentum": 0.9, "weight_decay": 0.1},
    "nesterov": {"momentum": 0.9, "nesterov": True},
    "maximize": {"momentum": 0.9, "maximize": True},
}


@pytest.mark.parametrize("case", SGD_ARGUMENTS)
@spec("train.sgd-update-rule", sources=[SGD_RULE], needs=[cap.NN, cap.AUTOGRAD, cap.SGD], kind=VALUE)
def test_sgd_arguments_follow_the_documented_rule(engine, case):
    """optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov, maximize) updates each parameter
    by the documented algorithm: g = ∇ (-∇ if maximize); if weight_decay ≠ 0, g = g + weight_decay * θ; if
    momentum ≠ 0, b = g on the first step and b = momentum * b + (1 - dampening) * g after, then g = g +
    momentum * b if nesterov, else g = b; θ = θ - lr * g.

    Each argument over three steps of nn.Linear(3, 2) at lr 0.1. maximize is not combined with weight decay,
    where torch releases' documentation and code have differed in where the sign applies."""
    arguments = SGD_ARGUMENTS[case]
    layer = engine.nn.Linear(3, 2)
    optimizer = engine.optim.SGD(layer.parameters(), lr=0.1, **arguments)
    assert_sgd_steps(engine, layer, optimizer, (0.1, 0.1, 0.1), **arguments)


@spec(
    "train.frozen-middle-block",
    sources=["001", "002", "docs:notes/autograd#setting-requires-grad"],
    needs=[cap.RESNET18, cap.AUTOGRAD],
    kind=VALUE,
)
def test_frozen_middle_block_passes_gradient_to_earlier_layers(engine, model):
    """Freezing a block of the network in the middle (model.layer2.requires_grad_(False)) excludes only its
    parameters from the gradient computation: their .grad stays None, while conv1, layer1 and every layer
    after layer2 get their gradients, the earlier ones through the frozen block.

    In evaluation mode, where every gradient of the step is determined (train.eval-mode-fills-every-grad), each
    trainable parameter's .grad is compared with the float64 oracle of the same partly frozen model."""
    model.eval()
    model.layer2.requires_grad_(False)
    data, labels = backward_pass(engine, model)
    params = dict(model.named_parameters())
    assert [name for name, param in params.items() if name.startswith("layer2.") and param.grad is not None] == []
    trainable = {name: param for name, param in params.items() if not name.startswith("layer2.")}
    assert [name for name, param in trainable.items() if param.grad is None] == []
    assert_gradients_match(engine, trainable, resnet18_gradients(engine, model, data, labels, training=False))
