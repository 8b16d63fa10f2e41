"""Mutants of the training step that compute wrong values silently: zeroed or scaled gradients, zero_grad()
and step() that break their documented contract."""

from __future__ import annotations

import functools
from typing import Any

import torch

from ..torch_backend import TorchBackend
from . import mutant


def _replace_gradients(module: torch.nn.Module, replace) -> torch.nn.Module:
    """``module`` whose parameters' gradients pass through ``replace`` before they reach .grad."""
    for param in module.parameters():
        if param.requires_grad:
            param.register_hook(replace)
    return module


@mutant("resnet18-zero-gradients", breaks="train.backward-fills-every-grad")
class ResNet18ZeroGradients(TorchBackend):
    """resnet18's backward fills every parameter's .grad with zeros of the right shape."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        return _replace_gradients(super()._resnet18(**kwargs), torch.zeros_like)


def _doubled_linear(*args: Any, **kwargs: Any) -> torch.nn.Linear:
    return _replace_gradients(torch.nn.Linear(*args, **kwargs), lambda grad: grad * 2)


@mutant("linear-doubled-gradients", breaks="finetune.only-fc-gets-grad")
class LinearDoubledGradients(TorchBackend):
    """A new nn.Linear (the replaced model.fc) gets twice its gradient in .grad."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Linear = functools.partial(_doubled_linear, device=self._device)


class _HalfStepSGD(torch.optim.SGD):
    """Moves each parameter by half of -lr * buf."""

    @torch.no_grad()
    def step(self, closure=None):
        before = [param.clone() for group in self.param_groups for param in group["params"]]
        loss = super().step(closure)
        for param, old in zip((p for group in self.param_groups for p in group["params"]), before, strict=True):
            param.copy_((param + old) / 2)
        return loss


@mutant("sgd-half-step", breaks="finetune.optimize-only-classifier")
class SGDHalfStep(TorchBackend):
    """optim.SGD's step changes the parameters by half of -lr * buf (a changed model.fc is not the right one)."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _HalfStepSGD


class _ZeroGradDoesNothing(torch.optim.SGD):
    def zero_grad(self, set_to_none: bool = True) -> None:
        pass


@mutant("zero-grad-does-nothing", breaks="train.zero-grad-set-to-none-false")
class ZeroGradDoesNothing(TorchBackend):
    """optimizer.zero_grad() leaves the gradients as they are, so the next backward adds to the old ones."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _ZeroGradDoesNothing


class _ZeroGradZeroes(torch.optim.SGD):
    def zero_grad(self, set_to_none: bool = True) -> None:
        super().zero_grad(set_to_none=False)


@mutant("zero-grad-zeroes", breaks="train.zero-grad-sets-none")
class ZeroGradZeroes(TorchBackend):
    """optimizer.zero_grad() zeroes the gradients instead of setting them to None (torch before 2.0)."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _ZeroGradZeroes


class _StepOverNoneGrad(torch.optim.SGD):
    """Gives every parameter without a gradient a zero one before stepping, so none is skipped."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    param.grad = torch.zeros_like(param)
        return super().step(closure)


@mutant("sgd-steps-none-grad", breaks="train.step-skips-none-grad")
class SGDStepsNoneGrad(TorchBackend):
    """optim.SGD's step treats a None gradient as zero: with momentum, a parameter without gradient moves."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _StepOverNoneGrad


def _halved(grad: torch.Tensor) -> torch.Tensor:
    return grad / 2


@mutant("resnet18-first-block-batchnorm-half-gradients", breaks="train.eval-mode-fills-every-grad")
class ResNet18FirstBlockBatchNormHalfGradients(TorchBackend):
    """resnet18's batch norms in its first block (layer1) get half their gradient in .grad: gradients that one
    image in training mode determines too loosely to check at TF32 (train.backward-fills-every-grad lets this
    pass), and that evaluation mode determines to about 10%."""

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        model = super()._resnet18(**kwargs)
        for module in model.layer1.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                _replace_gradients(module, _halved)
        return model


def _sgd_ignoring(argument: str, default: Any) -> type[torch.optim.SGD]:
    """optim.SGD that keeps ``argument`` in its param groups but steps as if it had its default."""

    class SGDIgnoring(torch.optim.SGD):
        @torch.no_grad()
        def step(self, closure=None):
            kept = [group[argument] for group in self.param_groups]
            for group in self.param_groups:
                group[argument] = default
            try:
                return super().step(closure)
            finally:
                for group, value in zip(self.param_groups, kept, strict=True):
                    group[argument] = value

    return SGDIgnoring


class _SGDIgnoringArgument(TorchBackend):
    ignored: tuple[str, Any]

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _sgd_ignoring(*self.ignored)


@mutant("sgd-ignores-dampening", breaks="train.sgd-update-rule")
class SGDIgnoresDampening(_SGDIgnoringArgument):
    """optim.SGD keeps dampening in its param group but steps with dampening 0: b = momentum * b + g."""

    ignored = ("dampening", 0)


class _SGDDecayingOnlyWithMomentum(torch.optim.SGD):
    """Adds weight_decay * param to the gradient only on the momentum path: plain SGD ignores it."""

    @torch.no_grad()
    def step(self, closure=None):
        kept = [group["weight_decay"] for group in self.param_groups]
        for group in self.param_groups:
            if not group["momentum"]:
                group["weight_decay"] = 0
        try:
            return super().step(closure)
        finally:
            for group, value in zip(self.param_groups, kept, strict=True):
                group["weight_decay"] = value


@mutant("sgd-ignores-weight-decay-without-momentum", breaks="train.sgd-update-rule")
class SGDIgnoresWeightDecayWithoutMomentum(TorchBackend):
    """optim.SGD without momentum never adds weight_decay * param to the gradient (with momentum it does)."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _SGDDecayingOnlyWithMomentum


class _SGDDecayingOutsideMomentum(torch.optim.SGD):
    """Applies weight decay beside the momentum buffer, param -= lr * (buf + weight_decay * param), instead of
    adding it to the gradient the buffer accumulates: the same step without momentum."""

    @torch.no_grad()
    def step(self, closure=None):
        decays = [group["weight_decay"] for group in self.param_groups]
        olds = [[param.clone() for param in group["params"]] for group in self.param_groups]
        for group in self.param_groups:
            group["weight_decay"] = 0
        try:
            loss = super().step(closure)
        finally:
            for group, decay in zip(self.param_groups, decays, strict=True):
                group["weight_decay"] = decay
        for group, old in zip(self.param_groups, olds, strict=True):
            for param, before in zip(group["params"], old, strict=True):
                if param.grad is not None:
                    param.sub_(group["lr"] * group["weight_decay"] * before)
        return loss


@mutant("sgd-weight-decay-outside-momentum", breaks="train.sgd-update-rule")
class SGDWeightDecayOutsideMomentum(TorchBackend):
    """optim.SGD with momentum applies weight decay beside the buffer instead of accumulating it in the buffer."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _SGDDecayingOutsideMomentum


@mutant("sgd-ignores-nesterov", breaks="train.sgd-update-rule")
class SGDIgnoresNesterov(_SGDIgnoringArgument):
    """optim.SGD keeps nesterov=True in its param group but steps with plain momentum."""

    ignored = ("nesterov", False)


@mutant("sgd-ignores-maximize", breaks="train.sgd-update-rule")
class SGDIgnoresMaximize(_SGDIgnoringArgument):
    """optim.SGD keeps maximize=True in its param group but descends the gradient instead of ascending it."""

    ignored = ("maximize", False)


class _SGDForgettingMomentum(torch.optim.SGD):
    """Drops every momentum buffer before its fourth step, so the buffer restarts from the gradient."""

    steps = 0

    @torch.no_grad()
    def step(self, closure=None):
        self.steps += 1
        if self.steps == 4:
            for state in self.state.values():
                state.pop("momentum_buffer", None)
        return super().step(closure)


@mutant("sgd-momentum-buffer-resets-after-three-steps", breaks="train.sgd-momentum-across-steps")
class SGDMomentumBufferResetsAfterThreeSteps(TorchBackend):
    """optim.SGD's momentum buffer is right for three steps, then restarts from the gradient at the fourth."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _SGDForgettingMomentum


class _SGDWithFixedLearningRate(torch.optim.SGD):
    """Steps with the learning rate it was built with, whatever param_groups says now."""

    @torch.no_grad()
    def step(self, closure=None):
        current = [group["lr"] for group in self.param_groups]
        for group in self.param_groups:
            group["lr"] = self.defaults["lr"]
        try:
            return super().step(closure)
        finally:
            for group, lr in zip(self.param_groups, current, strict=True):
                group["lr"] = lr


@mutant("sgd-ignores-changed-lr", breaks="train.sgd-momentum-across-steps")
class SGDIgnoresChangedLearningRate(TorchBackend):
    """optim.SGD ignores a learning rate changed in param_groups after construction: it steps with the first."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim.SGD = _SGDWithFixedLearningRate


class _LinearStaleAfterFirstForward(torch.nn.Linear):
    """Right on its first forward; from the second on, its weight gets twice its gradient (same values)."""

    forwards = 0

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self.forwards += 1
        weight = self.weight if self.forwards == 1 else 2 * self.weight - self.weight.detach()
        return torch.nn.functional.linear(input, weight, self.bias)


@mutant("linear-doubled-weight-gradient-after-first-step", breaks="finetune.fc-gradient-from-features")
class LinearDoubledWeightGradientAfterFirstStep(TorchBackend):
    """A new nn.Linear (the replaced model.fc) gets the right gradient on its first backward and twice its weight's
    gradient on every later one: a one-step check passes, and a check of .grad against the step (not against the
    features) cannot tell."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Linear = functools.partial(_LinearStaleAfterFirstForward, device=self._device)
