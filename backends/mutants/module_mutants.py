"""Mutants of the nn modules used alone: a module that hands its operator wrong arguments, or whose gradient is
wrong only for some shapes, while the functional operators stay right (the opgrad specs pass)."""

from __future__ import annotations

import functools
from typing import Any

import torch

from ..torch_backend import TorchBackend
from . import mutant


def _conv2d_swapping_padding(*args: Any, padding: Any = 0, **kwargs: Any) -> torch.nn.Conv2d:
    if isinstance(padding, tuple):
        padding = padding[::-1]
    return torch.nn.Conv2d(*args, padding=padding, **kwargs)


@mutant("conv2d-module-swaps-tuple-padding", breaks="nn.conv2d-module")
class Conv2dModuleSwapsTuplePadding(TorchBackend):
    """nn.Conv2d given padding=(ph, pw) pads by (pw, ph): right for square paddings only."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Conv2d = functools.partial(_conv2d_swapping_padding, device=self._device)


class _LinearWrongFor3d(torch.nn.Linear):
    """Doubles its weight's gradient when the input has more than two dimensions (same forward value)."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if input.dim() <= 2:
            return super().forward(input)
        weight = 2 * self.weight - self.weight.detach()
        return torch.nn.functional.linear(input, weight, self.bias)


@mutant("linear-module-3d-doubled-weight-grad", breaks="nn.linear-module")
class LinearModule3dDoubledWeightGrad(TorchBackend):
    """nn.Linear gives its weight twice the gradient for batched 3-d inputs (2-d inputs are right)."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Linear = functools.partial(_LinearWrongFor3d, device=self._device)


def _biased_running_var(module: torch.nn.Module, args: Any, output: torch.Tensor) -> None:
    """Forward hook: replace the last unbiased update of running_var by the biased variance's."""
    (x,) = args
    if module.training:
        count = x.numel() // x.shape[1]
        with torch.no_grad():
            unbiased = x.var(dim=(0, 2, 3), unbiased=True)
            module.running_var.data.sub_(module.momentum * unbiased / count)


@mutant("batchnorm-biased-running-var", breaks="nn.batchnorm2d-running-stats")
class BatchNormBiasedRunningVar(TorchBackend):
    """resnet18's BatchNorm2d layers update running_var with the batch's biased variance (divided by n, not
    n - 1); their outputs and gradients are right."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        model = super()._resnet18(**kwargs)
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.register_forward_hook(_biased_running_var)
        return model


def _batch_statistics_in_eval(module: torch.nn.BatchNorm2d, args: Any) -> Any:
    """Forward pre-hook: in evaluation mode, normalize with the batch's statistics (as in training), without
    touching the running ones."""
    if not module.training:
        module.kept_running_statistics = (module.running_mean, module.running_var)
        module.running_mean, module.running_var = None, None
    return None


def _restore_running_statistics(module: torch.nn.BatchNorm2d, args: Any, output: Any) -> None:
    kept = getattr(module, "kept_running_statistics", None)
    if kept is not None:
        module.running_mean, module.running_var = kept
        module.kept_running_statistics = None


@mutant("batchnorm-eval-uses-batch-statistics", breaks="nn.batchnorm2d-eval")
class BatchNormEvalUsesBatchStatistics(TorchBackend):
    """resnet18's BatchNorm2d layers normalize with the batch's statistics in evaluation mode too (the running
    statistics are kept, and ignored)."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        model = super()._resnet18(**kwargs)
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.register_forward_pre_hook(_batch_statistics_in_eval)
                module.register_forward_hook(_restore_running_statistics)
        return model


def _halved_input_gradient(module: torch.nn.Module, grad_input: Any, grad_output: Any) -> Any:
    return tuple(None if grad is None else grad / 2 for grad in grad_input)


@mutant("resnet18-maxpool-halves-input-gradient", breaks="nn.resnet18-modules")
class ResNet18MaxPoolHalvesInputGradient(TorchBackend):
    """resnet18's maxpool passes back half the gradient to its input (its forward is right)."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        model = super()._resnet18(**kwargs)
        model.maxpool.register_full_backward_hook(_halved_input_gradient)
        return model


@mutant("batchnorm-train-halves-weight-gradient", breaks="nn.batchnorm2d-train")
class BatchNormTrainHalvesWeightGradient(TorchBackend):
    """resnet18's bn1 gives its weight (gamma) half its gradient; outputs and running statistics are right."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        model = super()._resnet18(**kwargs)
        model.bn1.weight.register_hook(lambda grad: grad / 2)
        return model


class _LinearMarkedFrozen(torch.nn.Linear):
    """Remembers being frozen by module.requires_grad_(False)."""

    frozen_whole = False

    def requires_grad_(self, requires_grad: bool = True) -> torch.nn.Module:
        self.frozen_whole = not requires_grad
        return super().requires_grad_(requires_grad)


class _SequentialCuttingAtFrozenLayers(torch.nn.Sequential):
    """Detaches the input of every layer frozen whole by module.requires_grad_(False), as if nothing before it
    needed a gradient."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        for layer in self:
            input = layer(input.detach() if getattr(layer, "frozen_whole", False) else input)
        return input


@mutant("frozen-layer-blocks-earlier-gradients", breaks="nn.frozen-middle-layer")
class FrozenLayerBlocksEarlierGradients(TorchBackend):
    """nn.Sequential stops the gradient at a layer frozen by module.requires_grad_(False): the layers before it
    get no .grad (freezing parameter by parameter works)."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Linear = functools.partial(_LinearMarkedFrozen, device=self._device)
        self.nn.Sequential = _SequentialCuttingAtFrozenLayers
