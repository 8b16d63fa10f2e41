"""Type-promotion mutants: torch with one of the documented promotion rules replaced by a plausible other one."""

from __future__ import annotations

import torch

from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend


def dtype_and_dim(value) -> tuple[torch.dtype, int] | None:
    """A tensor's dtype and number of dimensions as torch has them (read past the mutant's interception), or None
    for anything else."""
    if not isinstance(value, torch.Tensor):
        return None
    return CorruptedTensor.attribute(value, "dtype"), CorruptedTensor.call(torch.Tensor.dim, value)


def is_float32(value) -> bool:
    return (dtype_and_dim(value) or (None,))[0] == torch.float32


class PythonFloatsAsFloat64(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if any(type(arg) is float for arg in args) and any(is_float32(arg) for arg in args):
            args = tuple(cls.call(torch.Tensor.double, arg) if is_float32(arg) else arg for arg in args)
        return cls.call(func, *args, **kwargs)


@mutant("python-floats-as-float64", breaks="promotion.python-scalar-keeps-float32")
class PythonFloatsAsFloat64Backend(CorruptedTensorBackend):
    """A Python float operand counts as a float64 tensor, so float32 tensors that meet one are computed, and
    returned, in float64."""

    tensor_type = PythonFloatsAsFloat64


class ZeroDimTensorsPromote(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        kinds = [kind for kind in map(dtype_and_dim, args) if kind is not None]
        if (torch.float64, 0) in kinds and any(dtype == torch.float32 and dim > 0 for dtype, dim in kinds):
            args = tuple(cls.call(torch.Tensor.double, arg) if is_float32(arg) else arg for arg in args)
        return cls.call(func, *args, **kwargs)


@mutant("zero-dim-tensors-promote", breaks="promotion.zero-dim-tensor-does-not-promote")
class ZeroDimTensorsPromoteBackend(CorruptedTensorBackend):
    """A 0-d float64 tensor promotes the dimensioned float32 tensor it meets to float64, as a dimensioned one
    would."""

    tensor_type = ZeroDimTensorsPromote
