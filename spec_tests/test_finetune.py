"""Finetuning: freeze resnet18, replace its classifier model.fc (seeds 000, 001, 002, 003).

The seeds start from pretrained weights; which weights the backbone holds plays no part in what is frozen,
so these specs use resnet18() as it comes (the weights API has its own specs in test_weights.py). Images
are 1×3×64×64, as in the tutorial.
"""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec


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
    requiring = [name for name, param in finetuned.named_parameters() if param.requires_grad]
    assert requiring == ["fc.weight", "fc.bias"]
    assert len(frozen_parameters(finetuned)) > 0


@spec("finetune.only-fc-gets-grad", sources=["001", "003"], needs=[cap.RESNET18, cap.NN, cap.AUTOGRAD], kind=VALUE)
def test_backward_fills_only_fc_grad(engine, finetuned):
    """The loss is computed through the frozen backbone, and backward stores gradients only in model.fc's
    weight and bias: frozen parameters are excluded from the DAG, their .grad stays None."""
    prediction = finetuned(engine.rand(1, 3, 64, 64))
    loss = (prediction - engine.rand(1, 10)).sum()
    assert loss.requires_grad is True
    loss.backward()
    assert [name for name, param in frozen_parameters(finetuned).items() if param.grad is not None] == []
    for param in fc_parameters(finetuned).values():
        assert param.grad is not None
        assert np.any(engine.to_numpy(param.grad) != 0)


def step_and_compare(engine, model, optimizer):
    """One forward/backward/step; returns (frozen weights unchanged?, fc changed?)."""
    before = {name: engine.to_numpy(param) for name, param in model.named_parameters()}
    (model(engine.rand(1, 3, 64, 64)) - engine.rand(1, 10)).sum().backward()
    optimizer.step()
    frozen_kept = all(np.array_equal(engine.to_numpy(p), before[n]) for n, p in frozen_parameters(model).items())
    fc_changed = all(not np.array_equal(engine.to_numpy(p), before[n]) for n, p in fc_parameters(model).items())
    return frozen_kept, fc_changed


@spec(
    "finetune.optimizer-over-all-updates-only-fc",
    sources=["001", "004"],
    needs=[cap.RESNET18, cap.NN, cap.AUTOGRAD, cap.SGD],
    kind=VALUE,
)
def test_optimizer_over_all_parameters_updates_only_fc(engine, finetuned):
    """Although we register all the parameters in the optimizer, the only parameters that are computing
    gradients (and hence updated in gradient descent) are the weights and bias of the classifier."""
    optimizer = engine.optim.SGD(finetuned.parameters(), lr=1e-2, momentum=0.9)
    assert step_and_compare(engine, finetuned, optimizer) == (True, True)


@spec(
    "finetune.optimize-only-classifier",
    sources=["000", "002", "003"],
    needs=[cap.RESNET18, cap.NN, cap.AUTOGRAD, cap.SGD],
    kind=VALUE,
)
def test_optimizer_over_fc_only(engine, finetuned):
    """Optimize only the classifier: optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9) updates the
    fc layer's parameters and leaves every frozen layer as it was."""
    optimizer = engine.optim.SGD(finetuned.fc.parameters(), lr=1e-2, momentum=0.9)
    assert step_and_compare(engine, finetuned, optimizer) == (True, True)
