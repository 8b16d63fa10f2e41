"""torch through its functional transforms (``torch.func``) instead of its tape: ``--backend=torch.func``.

The same torch tensors and operators as the torch backend, but gradients come only from ``torch.func.vjp`` and
``torch.func.jvp``, and the backend declares only what a functional engine has (no ``autograd``: no
``requires_grad``, ``.grad`` or ``backward``). torch's transforms thus face the catalogue its tape faces, the
gradient values of every ``opgrad`` spec, forward mode and second derivatives (transforms compose).
"""

from __future__ import annotations

from typing import Any

import torch

from . import capabilities as cap
from .torch_backend import TorchBackend


class TorchFuncBackend(TorchBackend):
    """torch on one device, differentiated by ``torch.func``."""

    engine = "torch.func"
    #: the functional capabilities, and the operators (every family: they are torch's) and precision the
    #: gradient specs use
    FUNCTIONAL_CAPABILITIES = (
        frozenset({cap.VJP, cap.JVP, cap.SECOND_ORDER, cap.FLOAT64, cap.FUNCTIONAL, cap.TENSOR_MATH})
        | cap.OPERATOR_FAMILIES
        | {cap.SPECIAL}
    )
    capabilities = FUNCTIONAL_CAPABILITIES

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name or f"torch.func:{device}")
        self.capabilities = self.FUNCTIONAL_CAPABILITIES

    def vjp(self, fn: Any, primals: Any, cotangent: Any, *, create_graph: bool = False) -> tuple[Any, list]:
        """``torch.func.vjp``; its results are differentiable by an enclosing transform, so ``create_graph``
        has nothing to add."""
        output, pullback = torch.func.vjp(fn, *primals)
        return output, list(pullback(cotangent))

    def jvp(self, fn: Any, primals: Any, tangents: Any) -> tuple[Any, Any]:
        return torch.func.jvp(fn, tuple(primals), tuple(tangents))
