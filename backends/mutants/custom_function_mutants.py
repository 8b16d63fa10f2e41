"""Custom-function mutants: autograd.Function that routes what backward returns wrongly."""

from __future__ import annotations

import torch

from ..torch_backend import TorchBackend
from . import mutant


class FirstGradientOnlyFunction(torch.autograd.Function):
    """A Function base whose subclasses' backward hands on the gradient of the first input only, as an engine
    written for one-input functions would: every other input gets no gradient."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        backward = cls.backward

        def first_gradient_only(ctx, *grad_outputs):
            gradients = backward(ctx, *grad_outputs)
            if not isinstance(gradients, tuple):
                return gradients
            return gradients[:1] + (None,) * (len(gradients) - 1)

        cls.backward = staticmethod(first_gradient_only)


@mutant("custom-function-first-gradient-only", breaks="mechanics.custom-function-several-inputs")
class CustomFunctionFirstGradientOnly(TorchBackend):
    """A custom Function's backward reaches its first input only; the gradients it returns for the others are
    dropped (their .grad stays None)."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.autograd.Function = FirstGradientOnlyFunction
