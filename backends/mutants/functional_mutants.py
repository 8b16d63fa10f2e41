"""Mutants of the functional gradient path beyond first-order vjp: forward mode and second derivatives.

The ``opgrad`` specs check them only on an engine that declares ``jvp`` or ``vjp.second-order``, as torch does;
these mutants prove that those checks can fail.
"""

from __future__ import annotations

from typing import Any

import torch

from ..torch_backend import TorchBackend
from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend


@mutant("forward-mode-doubled", breaks="opgrad.tanh")
class ForwardModeDoubled(TorchBackend):
    """jvp returns twice the Jacobian-vector product: forward mode disagrees with reverse mode."""

    def jvp(self, fn: Any, primals: Any, tangents: Any) -> tuple[torch.Tensor, torch.Tensor]:
        output, tangent = super().jvp(fn, primals, tangents)
        return output, tangent * 2


class CreateGraphDroppedTensor(CorruptedTensor):
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        super().backward(gradient, retain_graph=retain_graph, create_graph=False, inputs=inputs)


@mutant("second-order-dropped", breaks="opgrad.sigmoid")
class SecondOrderDropped(CorruptedTensorBackend):
    """backward(create_graph=True) records nothing, so a vjp of a vjp finds second derivatives of zero."""

    tensor_type = CreateGraphDroppedTensor
