"""The oracle of the resnet18 specs: torch on the CPU, in float64, on a copy of the engine's model and inputs, and
the error model its comparison follows.

The training-step and fine-tuning specs check gradient values, not just that ``.grad`` is set. The expected
values come from torchvision's resnet18 holding the engine's own parameter values (read with
``engine.to_numpy``, matched by torchvision's parameter names and shapes), run on the same image and labels in
float64. Both models are fresh and in training mode, so batch norm uses batch statistics and the running
statistics play no part.

**Error model.** These gradients are ill-conditioned at float32 precision, so no constant tolerance serves: a
ReLU or max-pool whose input lies within rounding of its branch point takes the other branch under any other
correct rounding (TF32 convolutions flip 60 to 90 ReLUs of this step), and batch norm over one image's few
positions, with the loss ``sum(outputs)``, makes the early layers' gradients differences of nearly equal terms.
With cuDNN's TF32 convolutions, torch's documented CUDA default, parameter gradients differ from float64 by up
to 40% in norm (batch norm of the first blocks), with no error in the engine.

So the oracle measures the step's own conditioning (statistical condition estimation): besides the float64
gradients g*, it computes :data:`REPLICAS` float64 replicas whose convolution and matrix-product inputs, forward
and backward, carry independent relative errors of TF32's unit roundoff (:data:`UNIT_ROUNDOFF`, the widest
float32 path torch documents), and takes each parameter's spread s = max over replicas of ||g_replica - g*||.
An engine's gradient g passes when ||g - g*|| <= :data:`SPREAD_FACTOR` * s + :data:`FLOOR` * ||g*||: a gradient
as far from float64 as the step's own sensitivity to rounding explains is accepted; a wrong one, which differs
by its whole size (zeroed, doubled, a path dropped), is not where the step determines the gradient better than
its size. Where it does not (at TF32 most batch-norm and early convolution gradients of this one-image step move
by a third of their norm), the check bounds the gradient's size and no more: a checked quantity cannot be tighter
than the computation that defines it. fc's gradients (the pooled features, and 1) are determined to 1%.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from backends.benign import CONVOLUTIONS, MATMULS, Rounding, on_factors

from .gradcheck import as_shipped
from .margins import observe

#: float64 replicas of the step with TF32-sized input errors: how the spread is measured
REPLICAS = 6
#: the relative error of each convolution and matrix-product input in a replica: TF32's unit roundoff
UNIT_ROUNDOFF = 2.0**-11
#: allowed error as a multiple of the measured spread: a correct TF32 step came within 1.5 times the spread over 12
#: seeds (split-K and float64 accumulation within 0.1 times; README "Benign variants and the separation table")
SPREAD_FACTOR = 3.0
#: allowed error relative to the gradient's norm where rounding moves nothing (fc.bias, whose gradient is 1)
FLOOR = 1e-5


@dataclass(frozen=True)
class Expected:
    """The float64 gradients of each parameter that requires grad, and how far rounding at TF32 moves them."""

    gradients: dict[str, np.ndarray]
    spread: dict[str, float]

    def tolerance(self, name: str) -> float:
        return SPREAD_FACTOR * self.spread[name] + FLOOR * float(np.linalg.norm(self.gradients[name]))


def resnet18_gradients(engine, model, image: np.ndarray, labels: np.ndarray, *, training: bool = True) -> Expected:
    """d loss / d parameter, loss = (model(image) - labels).sum(), for every parameter of the engine's ``model``
    that requires grad, computed by torchvision's resnet18 in float64 holding the engine's parameter values
    (and requires_grad flags), in training mode or, with ``training=False``, evaluation mode (batch norm with the
    running statistics of a fresh model: mean 0, variance 1), with the spread of :data:`REPLICAS` replicas at
    TF32's rounding."""
    with as_shipped():
        oracle = _float64_copy(engine, model, labels.shape[-1]).train(training)
        exact = _gradients(oracle, image, labels)
        replicas = []
        for _ in range(REPLICAS):
            generator = torch.Generator().manual_seed(int(np.random.randint(2**31)))
            with Rounding(_perturbed_inputs(generator), MATMULS + CONVOLUTIONS):
                replicas.append(_gradients(oracle, image, labels))
    spread = {name: max(float(np.linalg.norm(r[name] - value)) for r in replicas) for name, value in exact.items()}
    return Expected(exact, spread)


def _float64_copy(engine, model, classes: int) -> torch.nn.Module:
    import torchvision

    params = dict(model.named_parameters())
    with torch.device("meta"):  # no random initialisation: every value is copied from the engine
        oracle = torchvision.models.resnet18(num_classes=classes)
    oracle = oracle.to_empty(device="cpu").double()
    for module in oracle.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
    for name, param in oracle.named_parameters():
        assert name in params, f"the model has no parameter {name}, as torchvision's resnet18 has"
        value = engine.to_numpy(params[name])
        assert value.shape == tuple(param.shape), f"{name} has shape {value.shape}, not {tuple(param.shape)}"
        with torch.no_grad():
            param.copy_(torch.from_numpy(value.astype(np.float64)))
        param.requires_grad_(params[name].requires_grad is True)
    return oracle


def _gradients(oracle: torch.nn.Module, image: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    for param in oracle.parameters():
        param.grad = None
    loss = (oracle(torch.from_numpy(image.astype(np.float64))) - torch.from_numpy(labels.astype(np.float64))).sum()
    loss.backward()
    return {name: param.grad.numpy().copy() for name, param in oracle.named_parameters() if param.grad is not None}


def _perturbed_inputs(generator: torch.Generator):
    """A :class:`~backends.benign.Rounding` computation: the operator on float64 tensor inputs each multiplied by
    (1 + e), e uniform in [-UNIT_ROUNDOFF, UNIT_ROUNDOFF] per element, where TF32 rounds (the factors of a
    product, not its bias)."""

    def perturb(value):
        if not isinstance(value, torch.Tensor) or value.dtype != torch.float64:
            return value
        noise = torch.rand(value.shape, generator=generator, dtype=torch.float64)
        return value * (1 + UNIT_ROUNDOFF * (2 * noise - 1))

    def compute(func, *args, **kwargs):
        return on_factors(perturb, func, *args, **kwargs)

    return compute


def assert_gradients_match(engine, params: dict, expected: Expected) -> None:
    """Each parameter's ``.grad`` holds the oracle's gradient, within the error model above; a failure names the
    parameter furthest outside it."""
    ratios = {}
    for name, param in params.items():
        assert param.grad is not None, f"{name}.grad is None"
        grad = engine.to_numpy(param.grad)
        assert grad.shape == expected.gradients[name].shape, f"{name}.grad has shape {grad.shape}"
        ratios[name] = float(np.linalg.norm(grad - expected.gradients[name])) / expected.tolerance(name)
    worst = max(ratios, key=ratios.get)
    observe(ratios[worst])
    scale = float(np.linalg.norm(expected.gradients[worst]))
    error = ratios[worst] * expected.tolerance(worst)
    assert ratios[worst] <= 1, (
        f"{worst}.grad differs from the float64 oracle by {error:.3g} in norm ({error / scale:.2%} of its norm); "
        f"rounding at TF32 moves it by at most {expected.spread[worst]:.3g}, the tolerance is "
        f"{expected.tolerance(worst):.3g}; {sum(r > 1 for r in ratios.values())} of {len(ratios)} gradients are "
        "outside their tolerance"
    )
