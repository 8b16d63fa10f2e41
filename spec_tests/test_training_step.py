"""The full training step of the gentle introduction on resnet18 (seeds 000, 001, 004).

resnet18() as it comes stands in for the pretrained model (the weights API has its own specs); one image of
1×3×64×64 and labels of shape (1, 1000), as in the tutorial.
"""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import SURFACE, VALUE, spec

LR, MOMENTUM = 1e-2, 0.9


@pytest.fixture
def model(engine):
    return engine.models.resnet18()


def backward_pass(engine, model):
    """prediction = model(data); loss = (prediction - labels).sum(); loss.backward()."""
    prediction = model(engine.rand(1, 3, 64, 64))
    loss = (prediction - engine.rand(1, 1000)).sum()
    loss.backward()


@spec("train.backward-fills-every-grad", sources=["000", "001", "004"], needs=[cap.RESNET18, cap.AUTOGRAD], kind=VALUE)
def test_backward_stores_every_parameter_gradient(engine, model):
    """Backward propagation is kicked off when we call .backward() on the error tensor. Autograd then
    calculates and stores the gradients for each model parameter in the parameter's .grad attribute."""
    assert all(param.grad is None for param in model.parameters())
    backward_pass(engine, model)
    without_grad = [
        name for name, param in model.named_parameters() if param.grad is None or param.grad.shape != param.shape
    ]
    assert without_grad == []


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
    with the gradients read before each step."""
    optim = engine.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    params = dict(model.named_parameters())
    expected = {name: engine.to_numpy(param) for name, param in params.items()}
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
