"""In-place mutants: torch with identity, item assignment, the version counter or the right ways to set a leaf's
values broken (see corrupted_tensors)."""

from __future__ import annotations

import torch

from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend, reads
from .tensor_mutants import IN_PLACE_METHOD


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


def is_in_place(func) -> bool:
    """Whether ``func``, as ``__torch_function__`` receives it, changes its first argument in place."""
    return func is torch.Tensor.__setitem__ or bool(IN_PLACE_METHOD.fullmatch(getattr(func, "__name__", "")))


class UnversionedInPlace(CorruptedTensor):
    """In-place changes of the tensors :meth:`unversioned` picks leave the version counter as it was."""

    @classmethod
    def corrupt(cls, func, args, kwargs):
        if not (is_in_place(func) and cls.unversioned(args[0])):
            return cls.call(func, *args, **kwargs)
        target = args[0]
        version = cls.attribute(target, "_version")
        result = cls.call(func, *args, **kwargs)
        torch._C._autograd._unsafe_set_version_counter((target,), (version,))
        return result

    @classmethod
    def unversioned(cls, tensor: torch.Tensor) -> bool:
        raise NotImplementedError


class ViewInPlaceUnversioned(UnversionedInPlace):
    @classmethod
    def unversioned(cls, tensor):
        return cls.attribute(tensor, "_base") is not None


@mutant("view-in-place-unversioned", breaks="inplace.saved-tensor-modified")
class ViewInPlaceUnversionedBackend(CorruptedTensorBackend):
    """An in-place operation on a view (b[1:].add_(1.)) does not bump the version counter it shares with its
    base, so a backward that saved the base silently uses the modified values (b[0] = 1000. and b.add_() on the
    base itself are still caught)."""

    tensor_type = ViewInPlaceUnversioned


@mutant("view-version-not-shared", breaks="inplace.view-shares-version-counter")
class ViewVersionNotSharedBackend(CorruptedTensorBackend):
    """An in-place operation on a view leaves the base's _version (and its own) unchanged, as if the view had a
    counter of its own that nobody reads."""

    tensor_type = ViewInPlaceUnversioned


class DetachedAliasUnversioned(UnversionedInPlace):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = super().corrupt(func, args, kwargs)
        if func is torch.Tensor.detach:
            result.__dict__["_detached_alias"] = True
        return result

    @classmethod
    def unversioned(cls, tensor):
        return tensor.__dict__.get("_detached_alias", False)


@mutant("detached-alias-unversioned", breaks="detach.shares-version-counter")
class DetachedAliasUnversionedBackend(CorruptedTensorBackend):
    """detach() shares storage, but an in-place change through the detached tensor does not bump the original's
    _version, so a backward that saved the original silently uses the changed values."""

    tensor_type = DetachedAliasUnversioned


class ViewInPlaceUntracked(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if is_in_place(func) and cls.is_view_of_a_non_leaf(args[0]):
            with torch.no_grad():
                return cls.call(func, *args, **kwargs)
        return cls.call(func, *args, **kwargs)

    @classmethod
    def is_view_of_a_non_leaf(cls, tensor: torch.Tensor) -> bool:
        base = cls.attribute(tensor, "_base")
        return base is not None and not cls.attribute(base, "is_leaf")


@mutant("view-in-place-untracked", breaks="inplace.view-of-non-leaf-grad")
class ViewInPlaceUntrackedBackend(CorruptedTensorBackend):
    """An in-place operation on a view of a non-leaf changes the values but is not recorded in the base's graph
    (no CopySlices): the base's gradient ignores it and nothing reaches the other operand."""

    tensor_type = ViewInPlaceUntracked


class InPlaceOperandUntracked(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        target, *operands = args
        if (
            is_in_place(func)
            and not cls.attribute(target, "requires_grad")
            and any(
                isinstance(operand, torch.Tensor) and cls.attribute(operand, "requires_grad") for operand in operands
            )
        ):
            with torch.no_grad():
                return cls.call(func, *args, **kwargs)
        return cls.call(func, *args, **kwargs)


@mutant("in-place-operand-untracked", breaks="requires_grad.propagation-in-place")
class InPlaceOperandUntrackedBackend(CorruptedTensorBackend):
    """An in-place operation whose tensor does not require grad is not recorded when only its other operand
    does: after x *= w, x += w or x[1:] = w[1:] with w requiring grad, x does not require grad."""

    tensor_type = InPlaceOperandUntracked


class InPlaceRecordedUnderNoGrad(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if is_in_place(func) and not torch.is_grad_enabled() and not cls.is_leaf_requiring_grad(args[0]):
            with torch.enable_grad():
                return cls.call(func, *args, **kwargs)
        return cls.call(func, *args, **kwargs)


@mutant("in-place-recorded-under-no-grad", breaks="no_grad.in-place-not-recorded")
class InPlaceRecordedUnderNoGradBackend(CorruptedTensorBackend):
    """Inside no_grad, an in-place operation on a tensor other than a leaf that requires grad is recorded as if
    gradients were on: b.add_(w) makes w's gradient flow through b."""

    tensor_type = InPlaceRecordedUnderNoGrad
