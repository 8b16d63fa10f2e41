"""Finetuning: freeze resnet18, replace its classifier model.fc (seeds 000, 001, 002, 003).

The seeds start from pretrained weights; which weights the backbone holds plays no part in what is frozen,
so these specs use resnet18() as it comes (the weights API has its own specs in test_weights.py). Images
are 1×3×64×64, as in the tutorial.
"""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance import nn_oracle
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


@spec(
    "finetune.fc-gradient-from-features",
    sources=["000", "003", "docs:generated/torch.nn.Linear", "docs:generated/torch.optim.SGD"],
    needs=[cap.RESNET18, cap.NN, cap.AUTOGRAD, cap.SGD, cap.HOOKS],
    kind=VALUE,
)
def test_fc_gradient_is_output_gradient_times_features(engine, finetuned):
    """The frozen backbone turns each image into features h that model.fc = nn.Linear(512, 10) maps to
    y = h W^T + b: the gradient of a loss with output gradient g is g^T h for W and the sum of g over the batch
    for b, and optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9) moves fc by -lr * buf with buf carried
    from step to step.

    Two steps on batches of 2 images of 32×32; h is read with a forward pre-hook on model.fc, the gradients and
    the parameters after each step are computed in NumPy from h and g (error model of conformance.nn_oracle),
    independently of the engine's .grad."""
    features = []
    finetuned.fc.register_forward_pre_hook(lambda module, args: features.append(engine.to_numpy(args[0])))
    optimizer = engine.optim.SGD(finetuned.fc.parameters(), lr=LR, momentum=0.9)
    transposed = tuple(finetuned.fc.weight.shape) != (10, 512)  # an engine keeping Linear's weight as (in, out)
    expected = {name: engine.to_numpy(param).astype(np.float64) for name, param in fc_parameters(finetuned).items()}
    buffers, buffer_bounds = {}, {}
    for _ in range(2):
        optimizer.zero_grad()
        images = np.random.random_sample((2, 3, 32, 32)).astype(np.float32)
        g = np.random.standard_normal((2, 10)).astype(np.float32)
        (finetuned(engine.tensor(images)) * engine.tensor(g)).sum().backward()
        h, g = features[-1].astype(np.float64), g.astype(np.float64)
        exact = {"fc.weight": g.T @ h, "fc.bias": g.sum(0)}
        bounds = {"fc.weight": np.abs(g).T @ np.abs(h), "fc.bias": np.abs(g).sum(0)}
        for name, param in fc_parameters(finetuned).items():
            assert param.grad is not None, name
            grad = engine.to_numpy(param.grad)
            nn_oracle.assert_within(
                grad.T if transposed and name == "fc.weight" else grad, exact[name], bounds[name], 2, name
            )
            step, bound = (
                (exact[name], bounds[name]) if not transposed or name == "fc.bias" else (exact[name].T, bounds[name].T)
            )
            buffers[name] = step if name not in buffers else 0.9 * buffers[name] + step
            buffer_bounds[name] = bound if name not in buffer_bounds else 0.9 * buffer_bounds[name] + bound
            expected[name] = expected[name] - LR * buffers[name]
        optimizer.step()
        for name, param in fc_parameters(finetuned).items():
            # the buffer carries the gradients' error bound; the update itself rounds a few times in float32
            moved = LR * buffer_bounds[name]
            nn_oracle.assert_within(
                engine.to_numpy(param), expected[name], moved + np.abs(expected[name]) * 2**-13, 4, name
            )
