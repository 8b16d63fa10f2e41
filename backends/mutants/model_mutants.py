"""Mutants of the model-level behaviours: nn modules, finetuning, the SGD training step and the weights API."""

from __future__ import annotations

import functools
import itertools
import warnings
from typing import Any

import torch

from ..torch_backend import TorchBackend
from . import mutant


class _MomentumlessSGD(torch.optim.SGD):
    """Reports the momentum it was given but steps as plain SGD."""

    @torch.no_grad()
    def step(self, closure=None):
        kept = [group["momentum"] for group in self.param_groups]
        for group in self.param_groups:
            group["momentum"] = 0
        try:
            return super().step(closure)
        finally:
            for group, momentum in zip(self.param_groups, kept, strict=True):
                group["momentum"] = momentum


@mutant("sgd-ignores-momentum", breaks="train.sgd-momentum-step")
class SGDIgnoresMomentum(TorchBackend):
    """optim.SGD keeps momentum=0.9 in its param group but step() ignores it: param -= lr * grad."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _MomentumlessSGD


def _sgd_with_wrong_lr(params: Any, lr: float = 1e-3, **kwargs: Any) -> torch.optim.SGD:
    return torch.optim.SGD(params, lr=lr * 10, **kwargs)


@mutant("sgd-wrong-lr", breaks="train.sgd-param-group")
class SGDWrongLearningRate(TorchBackend):
    """optim.SGD stores (and prints) ten times the learning rate it was given: lr 0.1 instead of 0.01."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _sgd_with_wrong_lr


class _SGDTouchingFrozen(torch.optim.SGD):
    """Decays the parameters that have no gradient, as if a frozen parameter were still trained."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    param.mul_(1 - group["lr"])
        return super().step(closure)


@mutant("sgd-updates-frozen", breaks="finetune.optimizer-over-all-updates-only-fc")
class SGDUpdatesFrozenParameters(TorchBackend):
    """optim.SGD changes registered parameters that compute no gradient (frozen ones)."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _SGDTouchingFrozen


def _frozen(module_class: type[torch.nn.Module], *args: Any, **kwargs: Any) -> torch.nn.Module:
    return module_class(*args, **kwargs).requires_grad_(False)


@mutant("linear-created-frozen", breaks="finetune.new-fc-unfrozen")
class LinearCreatedFrozen(TorchBackend):
    """A new nn.Linear's parameters do not require grad (newly constructed modules should be unfrozen)."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Linear = functools.partial(_frozen, torch.nn.Linear, device=self._device)


@mutant("conv2d-created-frozen", breaks="nn.parameters-require-grad")
class Conv2dCreatedFrozen(TorchBackend):
    """A new nn.Conv2d's parameters do not require grad."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Conv2d = functools.partial(_frozen, torch.nn.Conv2d, device=self._device)


class _AlwaysTrackingSequential(torch.nn.Sequential):
    """Marks its output as requiring grad whenever grad mode is on, frozen parameters or not."""

    def forward(self, input):
        output = super().forward(input)
        if torch.is_grad_enabled() and not output.requires_grad:
            output.requires_grad_(True)
        return output


@mutant("freezing-does-not-propagate", breaks="nn.frozen-network")
class FreezingDoesNotPropagate(TorchBackend):
    """A network whose parameters are all frozen still returns an output that requires grad."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Sequential = _AlwaysTrackingSequential


class _GradModeIgnoringSequential(torch.nn.Sequential):
    """Runs its layers with grad enabled even inside no_grad()."""

    def forward(self, input):
        with torch.enable_grad():
            return super().forward(input)


@mutant("modules-ignore-no-grad", breaks="nn.no-grad-evaluation")
class ModulesIgnoreNoGrad(TorchBackend):
    """nn.Sequential records history inside no_grad(), so evaluation outputs still require grad."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Sequential = _GradModeIgnoringSequential


@mutant("randn-requires-grad", breaks="nn.input-does-not-require-grad")
class RandnRequiresGrad(TorchBackend):
    """randn() returns tensors that require grad unless asked otherwise (the default is False)."""

    def randn(self, *shape: int, requires_grad: bool = True) -> torch.Tensor:
        return super().randn(*shape, requires_grad=True)


@mutant("resnet18-frozen-batchnorm", breaks="train.backward-fills-every-grad")
class ResNet18FrozenBatchNorm(TorchBackend):
    """resnet18's first batch norm layer comes frozen, so backward leaves its .grad unset."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        model = super()._resnet18(**kwargs)
        model.bn1.requires_grad_(False)
        return model


@mutant("resnet18-ignores-weights", breaks="weights.default")
class ResNet18IgnoresWeights(TorchBackend):
    """models.resnet18(weights=...) drops the weights argument and returns a randomly initialised model."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        kwargs.pop("weights", None)
        kwargs.pop("pretrained", None)
        return super()._resnet18(**kwargs)


def _zero_frozen_grads(model: torch.nn.Module, module: torch.nn.Module, args: Any, output: torch.Tensor) -> None:
    """Forward hook: when the gradient reaches the output, give every frozen parameter a .grad of zeros."""

    def fill(grad: torch.Tensor) -> None:
        for param in model.parameters():
            if not param.requires_grad and param.grad is None:
                param.grad = torch.zeros_like(param)

    if output.requires_grad:
        output.register_hook(fill)


@mutant("frozen-parameters-get-zero-grad", breaks="finetune.only-fc-gets-grad")
class FrozenParametersGetZeroGrad(TorchBackend):
    """Backward through resnet18 gives its frozen parameters a .grad of zeros instead of leaving it None."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        model = super()._resnet18(**kwargs)
        model.register_forward_hook(functools.partial(_zero_frozen_grads, model))
        return model


class _SGDLosingFirstParameter(torch.optim.SGD):
    """Peeks at the first parameter to tell tensors from param groups, and loses it when it is a tensor."""

    def __init__(self, params: Any, *args: Any, **kwargs: Any) -> None:
        params = iter(params)
        first = next(params, None)
        if isinstance(first, dict):
            params = itertools.chain([first], params)
        super().__init__(params, *args, **kwargs)


@mutant("sgd-loses-first-parameter", breaks="finetune.optimize-only-classifier")
class SGDLosesFirstParameter(TorchBackend):
    """optim.SGD drops the first parameter it is given: over model.fc.parameters() it never updates fc.weight."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _SGDLosingFirstParameter


@mutant("pretrained-true-ignored", breaks="weights.pretrained-deprecated")
class PretrainedTrueIgnored(TorchBackend):
    """models.resnet18(pretrained=True) warns that pretrained is deprecated but returns a randomly initialised
    model."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        if "pretrained" in kwargs:
            kwargs["pretrained"] = False
        return super()._resnet18(**kwargs)


class _SGDWithItsOwnRepr(torch.optim.SGD):
    """torch's SGD, printed on one line in words of its own."""

    def __repr__(self) -> str:
        (group,) = self.param_groups
        return f"SGD(lr={group['lr']}, momentum={group['momentum']}, {len(group['params'])} parameters)"


@mutant("sgd-own-repr", breaks="train.sgd-param-group-repr", keeps=("train.sgd-param-group",))
class SGDOwnRepr(TorchBackend):
    """optim.SGD holds the right param group but prints it on one line of its own, without "Parameter Group 0"."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _SGDWithItsOwnRepr


@mutant(
    "pretrained-warns-in-own-words",
    breaks="weights.pretrained-deprecation-warning",
    keeps=("weights.pretrained-deprecated",),
)
class PretrainedWarnsInOwnWords(TorchBackend):
    """models.resnet18(pretrained=True) loads the pretrained weights, and warns that the argument is going away,
    but not in torchvision's words."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        if "pretrained" not in kwargs:
            return super()._resnet18(**kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = super()._resnet18(**kwargs)
        warnings.warn("pretrained=True will go away: pass weights= instead", FutureWarning, stacklevel=2)
        return model


def _detach_if_frozen(module: torch.nn.Module, args: tuple) -> tuple:
    """Forward pre-hook: a module whose parameters are all frozen gets its input detached."""
    if not any(param.requires_grad for param in module.parameters()):
        return tuple(arg.detach() for arg in args)
    return args


@mutant("resnet18-frozen-block-blocks-earlier-gradients", breaks="train.frozen-middle-block")
class ResNet18FrozenBlockBlocksEarlierGradients(TorchBackend):
    """resnet18's layer2, once frozen, detaches its input: conv1, bn1 and layer1 get no gradient (the layers
    after it, model.fc among them, are right)."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        model = super()._resnet18(**kwargs)
        model.layer2.register_forward_pre_hook(_detach_if_frozen)
        return model
