"""Grad-mode mutants: switches that work where the common case puts them and fail when nested."""

from __future__ import annotations

import contextlib

import torch

from ..torch_backend import TorchBackend
from . import mutant


@mutant("set-grad-enabled-yields-to-enable-grad", breaks="mechanics.set-grad-enabled")
class SetGradEnabledYieldsToEnableGrad(TorchBackend):
    """set_grad_enabled(False) does nothing inside an enable_grad block: an explicit enable_grad outranks it, as
    if the outer switch were the stronger one."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.enable_grad_depth = 0

    @contextlib.contextmanager
    def enable_grad(self):
        self.enable_grad_depth += 1
        try:
            with torch.enable_grad():
                yield
        finally:
            self.enable_grad_depth -= 1

    def set_grad_enabled(self, mode: bool):
        if not mode and self.enable_grad_depth:
            return contextlib.nullcontext()
        return torch.set_grad_enabled(mode)
