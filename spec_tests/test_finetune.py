"""Finetuning: freeze resnet18, replace its classifier model.fc (seeds 000, 001, 002, 003).

The seeds start from pretrained weights; which weights the backbone holds plays no part in what is frozen,
so these specs use resnet18() as it comes (the weights API has its own specs in test_weights.py). Images
are 1×3×64×64, as in the tutorial.
"""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec
from conformance.resnet_oracle import assert_gradients_match, resnet18_gradients

LR = 1e-2


@pytest.fixture
def finetuned(engine):
    """resnet18 with every parameter frozen and model.fc replaced by a new nn.Linear(512, 10)."""
    model = engine.models.resnet18()
    for param in model.parameters():
        param.requires_grad = False
    model.fc = engine.nn.Linear(512, 10)
    return model


def frozen_parameters(model):
    return {name: param for name, param in model.named_parameters() if not name.startswith("fc.")}


def fc_parameters(model):
    return {name: param for name, param in model.named_parameters() if name.startswith("fc.")}


def forward_backward(engine, model):
    """loss = (model(image) - labels).sum() on a 1×3×64×64 image, then loss.backward(); returns the image and
    labels, for the oracle."""
    image = np.random.random_sample((1, 3, 64, 64)).astype(np.float32)
    labels = np.random.random_sample((1, 10)).astype(np.float32)
    prediction = model(engine.tensor(image))
    assert tuple(prediction.shape) == (1, 10)
    loss = (prediction - engine.tensor(labels)).sum()
    assert loss.requires_grad is True
    loss.backward()
    return image, labels


@spec(
    "finetune.new-fc-unfrozen",
    sources=["000", "001", "002", "003"],
    needs=[cap.RESNET18, cap.NN, cap.AUTOGRAD],
    kind=VALUE,
)
def test_only_new_fc_requires_grad(engine, finetuned):
    """Parameters of newly constructed modules have requires_grad=True by default: after freezing all
    parameters and replacing model.fc, the only parameters that compute gradients are the weights and bias
    of model.fc."""
    flags = {name: param.requires_grad for name, param in finetuned.named_parameters()}
    assert [name for name, flag in flags.items() if flag is True] == ["fc.weight", "fc.bias"]
    assert [name for name, flag in flags.items() if flag is not True and flag is not False] == []
    assert len(frozen_parameters(finetuned)) > 0


@spec("finetune.only-fc-gets-grad", sources=["001", "003"], needs=[cap.RESNET18, cap.NN, cap.AUTOGRAD], kind=VALUE)
def test_backward_fills_only_fc_grad(engine, finetuned):
    """The loss is computed through the frozen backbone, and backward stores gradients only in model.fc's
    weight and bias: frozen parameters are excluded from the DAG, their .grad stays None.

    model.fc's gradients are compared with torch's float64 gradients of a copy of the same model on the same
    inputs (conformance.resnet_oracle); d loss / d fc.bias is 1 for each of the 10 outputs."""
    image, labels = forward_backward(engine, finetuned)
    assert [name for name, param in frozen_parameters(finetuned).items() if param.grad is not None] == []
    fc = fc_parameters(finetuned)
    assert_gradients_match(engine, fc, resnet18_gradients(engine, finetuned, image, labels))
    np.testing.assert_allclose(engine.to_numpy(fc["fc.bias"].grad), np.ones(10), rtol=1e-6)


def step_and_compare(engine, model, optimizer):
    """One forward/backward/step: frozen parameters keep their values, and model.fc's move by -lr * grad
    (the first step's momentum buffer is the gradient itself), fc.bias by -lr since its gradient is 1."""
    before = {name: engine.to_numpy(param) for name, param in model.named_parameters()}
    forward_backward(engine, model)
    fc_grads = {name: engine.to_numpy(param.grad) for name, param in fc_parameters(model).items()}
    optimizer.step()
    for name, param in frozen_parameters(model).items():
        np.testing.assert_array_equal(engine.to_numpy(param), before[name], err_msg=f"frozen {name} changed")
    for name, param in fc_parameters(model).items():
        expected = before[name] - LR * fc_grads[name]
        np.testing.assert_allclose(engine.to_numpy(param), expected, rtol=1e-5, atol=1e-7, err_msg=name)
    np.testing.assert_allclose(engine.to_numpy(fc_parameters(model)["fc.bias"]), before["fc.bias"] - LR, rtol=1e-5)


@spec(
    "finetune.optimizer-over-all-updates-only-fc",
    sources=["001", "004"],
    needs=[cap.RESNET18, cap.NN, cap.AUTOGRAD, cap.SGD],
    kind=VALUE,
)
def test_optimizer_over_all_parameters_updates_only_fc(engine, finetuned):
    """Although we register all the parameters in the optimizer, the only parameters that are computing
    gradients (and hence updated in gradient descent) are the weights and bias of the classifier."""
    optimizer = engine.optim.SGD(finetuned.parameters(), lr=LR, momentum=0.9)
    step_and_compare(engine, finetuned, optimizer)


@spec(
    "finetune.optimize-only-classifier",
    sources=["000", "002", "003"],
    needs=[cap.RESNET18, cap.NN, cap.AUTOGRAD, cap.SGD],
    kind=VALUE,
)
def test_optimizer_over_fc_only(engine, finetuned):
    """Optimize only the classifier: optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9) updates the
    fc layer's parameters and leaves every frozen layer as it was."""
    optimizer = engine.optim.SGD(finetuned.fc.parameters(), lr=LR, momentum=0.9)
    step_and_compare(engine, finetuned, optimizer)
