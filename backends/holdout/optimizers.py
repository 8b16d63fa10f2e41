"""Holdouts in the engine's SGD: the update rule of one option, or the momentum buffer across steps."""

from __future__ import annotations

import types
from typing import Any, ClassVar

import torch

from ..torch_backend import TorchBackend
from . import holdout


class SGD(torch.optim.SGD):
    """SGD stepped parameter by parameter with torch's documented update rule; a holdout overrides one part."""

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for parameter in group["params"]:
                if parameter.grad is not None:
                    parameter.add_(self.update(parameter, group), alpha=-group["lr"])
        self.after_step()
        return loss

    def update(self, parameter: torch.Tensor, group: dict) -> torch.Tensor:
        grad = -parameter.grad if group["maximize"] else parameter.grad
        grad = self.decayed(grad, parameter, group["weight_decay"])
        if group["momentum"]:
            buffer = self.momentum_buffer(parameter, grad, group)
            grad = grad.add(buffer, alpha=group["momentum"]) if self.nesterov(group) else buffer
        return grad

    def decayed(self, grad: torch.Tensor, parameter: torch.Tensor, weight_decay: float) -> torch.Tensor:
        return grad.add(parameter, alpha=weight_decay) if weight_decay else grad

    def momentum_buffer(self, parameter: torch.Tensor, grad: torch.Tensor, group: dict) -> torch.Tensor:
        state = self.state[parameter]
        buffer = state.get("momentum_buffer")
        if buffer is None:
            buffer = state["momentum_buffer"] = self.first_buffer(grad, group)
        else:
            buffer.mul_(group["momentum"]).add_(grad, alpha=1 - group["dampening"])
        return buffer

    def first_buffer(self, grad: torch.Tensor, group: dict) -> torch.Tensor:
        return torch.clone(grad).detach()

    def nesterov(self, group: dict) -> bool:
        return group["nesterov"]

    def after_step(self) -> None:
        """What the optimizer does once every parameter is updated."""


class SGDBackend(TorchBackend):
    """torch whose ``optim.SGD`` is the holdout's class."""

    sgd: ClassVar[type[SGD]]

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.optim = types.SimpleNamespace(SGD=self.sgd)


def trajectory(backend: Any, grads: list[float], **options: Any) -> list[float]:
    """The values of a one-element parameter (from 1.0) after an SGD step with each of ``grads`` set as its
    gradient."""
    parameter = backend.tensor([1.0], requires_grad=True)
    optimizer = backend.optim.SGD([parameter], **options)
    values = []
    for grad in grads:
        parameter.grad = backend.tensor([grad])
        optimizer.step()
        values.append(float(backend.to_numpy(parameter)[0]))
    return values


class MomentumResetSGD(SGD):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.steps = 0

    def after_step(self) -> None:
        self.steps += 1
        if self.steps == 2:
            for state in self.state.values():
                state.pop("momentum_buffer", None)


@holdout("sgd-momentum-reset", area="optimizers", torch_gives=[0.9, 0.71, 0.439])
class SGDMomentumReset(SGDBackend):
    """SGD with momentum drops its momentum buffers after the second step (the state re-initialised when the step
    counter wraps a two-step warm-up), so the third step starts a new buffer from the gradient. Two steps are
    right.

    Probe: the parameter after each of three steps with gradient 1, lr 0.1, momentum 0.9 (buffers 1, 1.9, 2.71)."""

    sgd = MomentumResetSGD

    @staticmethod
    def probe(backend: Any) -> list[float]:
        return trajectory(backend, [1.0, 1.0, 1.0], lr=0.1, momentum=0.9)


class DecayAfterMomentumSGD(SGD):
    def decayed(self, grad: torch.Tensor, parameter: torch.Tensor, weight_decay: float) -> torch.Tensor:
        return grad

    def update(self, parameter: torch.Tensor, group: dict) -> torch.Tensor:
        return super().update(parameter, group).add(parameter, alpha=group["weight_decay"])


@holdout("sgd-weight-decay-after-momentum", area="optimizers", torch_gives=[0.85, 0.5725])
class SGDWeightDecayAfterMomentum(SGDBackend):
    """SGD adds the weight decay term to the update after the momentum buffer instead of to the gradient before
    it, so the decay never accumulates in the buffer (right without momentum, wrong from the second step with).

    Probe: the parameter after two steps with gradient 1, lr 0.1, momentum 0.9, weight decay 0.5."""

    sgd = DecayAfterMomentumSGD

    @staticmethod
    def probe(backend: Any) -> list[float]:
        return trajectory(backend, [1.0, 1.0], lr=0.1, momentum=0.9, weight_decay=0.5)


class PlainMomentumSGD(SGD):
    def nesterov(self, group: dict) -> bool:
        return False


@holdout("sgd-nesterov-ignored", area="optimizers", torch_gives=[0.81, 0.539])
class SGDNesterovIgnored(SGDBackend):
    """SGD with ``nesterov=True`` steps with plain momentum (the option stored in the group but never read).

    Probe: the parameter after two steps with gradient 1, lr 0.1, momentum 0.9, nesterov."""

    sgd = PlainMomentumSGD

    @staticmethod
    def probe(backend: Any) -> list[float]:
        return trajectory(backend, [1.0, 1.0], lr=0.1, momentum=0.9, nesterov=True)


class DampedFirstStepSGD(SGD):
    def first_buffer(self, grad: torch.Tensor, group: dict) -> torch.Tensor:
        return grad * (1 - group["dampening"])


@holdout("sgd-dampening-first-step", area="optimizers", torch_gives=[0.9, 0.76])
class SGDDampeningFirstStep(SGDBackend):
    """SGD applies ``dampening`` on the first step too (the momentum buffer starts at ``(1 - dampening) * grad``
    instead of the gradient, as the update of an existing buffer is written); without dampening it is right.

    Probe: the parameter after two steps with gradient 1, lr 0.1, momentum 0.9, dampening 0.5."""

    sgd = DampedFirstStepSGD

    @staticmethod
    def probe(backend: Any) -> list[float]:
        return trajectory(backend, [1.0, 1.0], lr=0.1, momentum=0.9, dampening=0.5)


class MinimisingSGD(SGD):
    def update(self, parameter: torch.Tensor, group: dict) -> torch.Tensor:
        return super().update(parameter, {**group, "maximize": False})


@holdout("sgd-maximize-ignored", area="optimizers", torch_gives=[1.1, 1.2])
class SGDMaximizeIgnored(SGDBackend):
    """SGD with ``maximize=True`` descends the gradient (the option accepted and stored, never applied).

    Probe: the parameter after two steps with gradient 1, lr 0.1, maximize."""

    sgd = MinimisingSGD

    @staticmethod
    def probe(backend: Any) -> list[float]:
        return trajectory(backend, [1.0, 1.0], lr=0.1, maximize=True)
