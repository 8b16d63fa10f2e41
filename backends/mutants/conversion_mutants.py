"""Conversion mutants: item() and tolist() that read the right values only from the common tensor (a contiguous
float32 tensor of its own storage)."""

from __future__ import annotations

import numpy as np
import torch

from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend


class ItemFromStorageStart(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.item and cls.call(torch.Tensor.numel, args[0]) == 1:
            return cls.call(func, cls.call(torch.Tensor.as_strided, args[0], (), (), 0))
        return cls.call(func, *args, **kwargs)


@mutant("item-from-storage-start", breaks="conversion.item")
class ItemFromStorageStartBackend(CorruptedTensorBackend):
    """item() reads the first element of the tensor's storage, ignoring its offset: right for a tensor of its own,
    the wrong element for a one-element slice of a larger tensor."""

    tensor_type = ItemFromStorageStart


class ItemThroughFloat32(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        return float(np.float32(result)) if func is torch.Tensor.item else result


@mutant("item-through-float32", breaks="conversion.item")
class ItemThroughFloat32Backend(CorruptedTensorBackend):
    """item() goes through a float32 scalar, so a float64 tensor's value comes back rounded to float32."""

    tensor_type = ItemThroughFloat32


class ToListInStorageOrder(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.tolist:
            tensor = args[0]
            shape, offset = cls.attribute(tensor, "shape"), cls.call(torch.Tensor.storage_offset, tensor)
            return cls.call(func, cls.call(torch.Tensor.as_strided, tensor, shape, torch.empty(shape).stride(), offset))
        return cls.call(func, *args, **kwargs)


@mutant("tolist-in-storage-order", breaks="conversion.tolist")
class ToListInStorageOrderBackend(CorruptedTensorBackend):
    """tolist() reads the elements in the order of its storage, ignoring the strides: right for a contiguous
    tensor, the wrong elements for a strided view."""

    tensor_type = ToListInStorageOrder


class ToListTwoLevels(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.tolist and cls.call(torch.Tensor.dim, args[0]) > 2:
            return cls.call(func, cls.call(torch.Tensor.flatten, args[0], 1))
        return cls.call(func, *args, **kwargs)


@mutant("tolist-two-levels", breaks="conversion.tolist")
class ToListTwoLevelsBackend(CorruptedTensorBackend):
    """tolist() nests two levels at most: a 3-d tensor comes back as a list of flat rows."""

    tensor_type = ToListTwoLevels


class ToListOfZeroDimAsList(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.tolist and cls.call(torch.Tensor.dim, args[0]) == 0:
            return [cls.call(torch.Tensor.item, args[0])]
        return cls.call(func, *args, **kwargs)


@mutant("tolist-of-0d-as-list", breaks="conversion.tolist")
class ToListOfZeroDimAsListBackend(CorruptedTensorBackend):
    """tolist() of a 0-d tensor returns a list of its one number instead of the number."""

    tensor_type = ToListOfZeroDimAsList
