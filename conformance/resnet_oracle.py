"""The oracle of the resnet18 specs: torch on the CPU, in float64, on a copy of the engine's model and inputs.

The training-step and fine-tuning specs check gradient values, not just that ``.grad`` is set. The expected
values come from torchvision's resnet18 holding the engine's own parameter values (read with
``engine.to_numpy``, matched by torchvision's parameter names and shapes), run on the same image and labels in float64.
Both models are fresh and in training mode, so batch norm uses batch statistics and the running statistics
play no part.
"""

from __future__ import annotations

import numpy as np
import torch

#: a float32 engine against the float64 oracle: allowed error relative to the largest expected element of
#: each parameter's gradient (torch's own float32 resnet18 stays within 4e-4 on 1×3×64×64)
GRAD_TOLERANCE = 2e-3


def resnet18_gradients(engine, model, image: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """d loss / d parameter, loss = (model(image) - labels).sum(), for every parameter of the engine's ``model``
    that requires grad, computed by torchvision's resnet18 in float64 holding the engine's parameter values
    (and requires_grad flags)."""
    import torchvision

    params = dict(model.named_parameters())
    with torch.device("meta"):  # no random initialisation: every value is copied from the engine
        oracle = torchvision.models.resnet18(num_classes=labels.shape[-1])
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
    loss = (oracle(torch.from_numpy(image.astype(np.float64))) - torch.from_numpy(labels.astype(np.float64))).sum()
    loss.backward()
    return {name: param.grad.numpy() for name, param in oracle.named_parameters() if param.grad is not None}


def assert_gradients_match(engine, params: dict, expected: dict[str, np.ndarray]) -> None:
    """Each parameter's ``.grad`` holds the oracle's gradient, within float32 precision."""
    for name, param in params.items():
        assert param.grad is not None, f"{name}.grad is None"
        scale = float(np.abs(expected[name]).max())
        np.testing.assert_allclose(
            engine.to_numpy(param.grad), expected[name], rtol=0, atol=GRAD_TOLERANCE * scale, err_msg=name
        )
