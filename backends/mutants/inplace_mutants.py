"""In-place mutants: torch with identity, item assignment, the version counter or the right ways to set a leaf's
values broken (see corrupted_tensors)."""

from __future__ import annotations

import torch

from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend, reads


class InPlaceExp(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.exp:
            (tensor,) = args
            cls.call(torch.Tensor.exp_, tensor)
            return tensor
        return cls.call(func, *args, **kwargs)


@mutant("in-place-exp", breaks="inplace.out-of-place-new-object")
class InPlaceExpBackend(CorruptedTensorBackend):
    """exp() overwrites its tensor and returns it instead of a new object, so a = a.exp() keeps id(a)."""

    tensor_type = InPlaceExp


class SetItemOnCopy(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.__setitem__:
            target, *rest = args
            return cls.call(func, cls.call(torch.Tensor.clone, target), *rest, **kwargs)
        return cls.call(func, *args, **kwargs)


@mutant("setitem-on-copy", breaks="inplace.setitem-keeps-identity")
class SetItemOnCopyBackend(CorruptedTensorBackend):
    """Item assignment writes into a copy of the tensor, so a[0] = 10 leaves a's values as they were."""

    tensor_type = SetItemOnCopy


#: the addition functions, as ``__torch_function__`` receives them
ADDITIONS = (torch.Tensor.__add__, torch.Tensor.__radd__, torch.Tensor.add, torch.add)


class AdditionSavesOperands(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func in ADDITIONS:
            # x ** 1 has the value and gradient of x, but its backward node saves x (and so checks its version)
            args = tuple(
                cls.call(torch.pow, arg, 1)
                if isinstance(arg, torch.Tensor) and cls.attribute(arg, "requires_grad")
                else arg
                for arg in args
            )
        return cls.call(func, *args, **kwargs)


@mutant("addition-saves-operands", breaks="inplace.unsaved-tensor-modified")
class AdditionSavesOperandsBackend(CorruptedTensorBackend):
    """Addition saves its operands for backward although its derivative does not depend on them, so modifying
    an addend in place makes backward fail."""

    tensor_type = AdditionSavesOperands


class LeafSetItemUntracked(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.__setitem__ and cls.is_leaf_requiring_grad(args[0]):
            with torch.no_grad():
                return cls.call(func, *args, **kwargs)
        return cls.call(func, *args, **kwargs)


@mutant("leaf-setitem-untracked", breaks="inplace.leaf-slice-assignment-error")
class LeafSetItemUntrackedBackend(CorruptedTensorBackend):
    """Item assignment to a leaf that requires grad (a[:] = 0) silently runs untracked instead of refusing."""

    tensor_type = LeafSetItemUntracked


class CopiedData(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if reads(func, "data"):
            return cls.call(torch.Tensor.clone, result)
        return result


@mutant("copied-data", breaks="inplace.set-leaf-through-data")
class CopiedDataBackend(CorruptedTensorBackend):
    """.data returns a copy of the tensor's values instead of sharing its storage, so a.data.fill_() is lost."""

    tensor_type = CopiedData


class LeafDetachCopied(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if func is torch.Tensor.detach and cls.is_leaf_requiring_grad(args[0]):
            return cls.call(torch.Tensor.clone, result)
        return result


@mutant("leaf-detach-copied", breaks="inplace.set-leaf-through-detach")
class LeafDetachCopiedBackend(CorruptedTensorBackend):
    """detach() of a leaf that requires grad returns a copy instead of sharing its storage, so
    a.detach().fill_() leaves the leaf's values as they were."""

    tensor_type = LeafDetachCopied


class NoGradSetItemDropsRequiresGrad(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.__setitem__ and not torch.is_grad_enabled() and cls.is_leaf_requiring_grad(args[0]):
            result = cls.call(func, *args, **kwargs)
            cls.call(torch.Tensor.requires_grad_, args[0], False)
            return result
        return cls.call(func, *args, **kwargs)


@mutant("no-grad-setitem-drops-requires-grad", breaks="inplace.set-leaf-under-no-grad")
class NoGradSetItemDropsRequiresGradBackend(CorruptedTensorBackend):
    """Item assignment to a leaf under no_grad() sets its values but turns off its requires_grad."""

    tensor_type = NoGradSetItemDropsRequiresGrad
