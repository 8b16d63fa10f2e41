"""Holdouts in the engine's tensor methods: in-place forms, version counters, detach and requires_grad
propagation."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from ..mutants.corrupted_tensors import CorruptedTensor, CorruptedTensorBackend, reads
from . import holdout
from .mechanism import INPLACE_ARITHMETIC, is_tensor_requiring_grad, on_backward, plain


def name_of(func: Any) -> str:
    return getattr(func, "__name__", "")


def same_shape(a: Any, b: Any) -> bool:
    return isinstance(b, torch.Tensor) and tuple(a.shape) == tuple(b.shape)


class MulInplaceTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if name_of(func) in ("mul_", "__imul__") and is_tensor_requiring_grad(args[1]) and same_shape(*args[:2]):
            product = plain(result)
            on_backward(result, lambda grads, outputs: (grads[0], outputs[0] * product))
        return result


@holdout("mul-inplace-other-grad", area="in-place", torch_gives=[1.0, 2.0, 3.0])
class MulInplaceOtherGrad(CorruptedTensorBackend):
    """``y.mul_(b)``'s gradient for ``b`` multiplies by ``y``'s new value (the product, which overwrote the ``y``
    the formula saved) instead of its value before the operation; the gradient for ``y`` and out-of-place ``y * b``
    are right.

    Probe: the gradient of ``b`` after ``y = a * 1; y.mul_(b); y.sum().backward()``, ``a = [1, 2, 3]``."""

    tensor_type: ClassVar = MulInplaceTensor

    @staticmethod
    def probe(backend: Any) -> list[float]:
        a = backend.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = backend.tensor([2.0, 3.0, 4.0], requires_grad=True)
        y = a * 1
        y.mul_(b)
        y.sum().backward()
        return backend.to_numpy(b.grad).tolist()


class AddAlphaTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        alpha = kwargs.get("alpha", args[2] if len(args) > 2 else 1)
        if name_of(func) == "add_" and alpha != 1 and is_tensor_requiring_grad(args[1]) and same_shape(*args[:2]):
            on_backward(result, lambda grads, outputs: (grads[0], outputs[0]))
        return result


@holdout("add-inplace-alpha-ignored", area="in-place", torch_gives=[3.0, 3.0])
class AddInplaceAlphaIgnored(CorruptedTensorBackend):
    """``y.add_(b, alpha=k)`` hands ``b`` the incoming gradient unscaled: its derivative formula forgets ``alpha``
    (the forward value is right, as is out-of-place ``add(b, alpha=k)``).

    Probe: the gradient of ``b`` after ``y = a * 1; y.add_(b, alpha=3); y.sum().backward()``."""

    tensor_type: ClassVar = AddAlphaTensor

    @staticmethod
    def probe(backend: Any) -> list[float]:
        a = backend.tensor([1.0, 2.0], requires_grad=True)
        b = backend.tensor([5.0, 7.0], requires_grad=True)
        y = a * 1
        y.add_(b, alpha=3)
        y.sum().backward()
        return backend.to_numpy(b.grad).tolist()


class UntrackedViewTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if name_of(func) in INPLACE_ARITHMETIC and isinstance(args[0], torch.Tensor):
            base = cls.attribute(args[0], "_base")
            if base is not None and not cls.attribute(base, "is_leaf") and cls.attribute(base, "requires_grad"):
                with torch.no_grad():
                    return cls.call(func, *args, **kwargs)
        return cls.call(func, *args, **kwargs)


@holdout("inplace-view-untracked", area="in-place", torch_gives=[3.0, 3.0, 1.0, 1.0])
class InplaceViewUntracked(CorruptedTensorBackend):
    """An in-place arithmetic operation on a view of a non-leaf tensor changes the values but is not recorded in
    the base's graph (the view's rebase onto the base is skipped): the base's gradient misses it. In-place
    operations on the non-leaf itself are right.

    Probe: ``x``'s gradient after ``y = x * 1; y[:2].mul_(3); y.sum().backward()``."""

    tensor_type: ClassVar = UntrackedViewTensor

    @staticmethod
    def probe(backend: Any) -> list[float]:
        x = backend.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        y = x * 1
        y[:2].mul_(3)
        y.sum().backward()
        return backend.to_numpy(x.grad).tolist()


class OwnCounterViewTensor(CorruptedTensor):
    """A view remembers its base's version when it was made and counts its own in-place changes from there."""

    @classmethod
    def corrupt(cls, func, args, kwargs):
        if reads(func, "_version") and "holdout_version" in vars(args[0]):
            return args[0].holdout_version
        result = cls.call(func, *args, **kwargs)
        if isinstance(args[0], torch.Tensor) and result is args[0] and "holdout_version" in vars(result):
            result.holdout_version += 1  # an in-place change through the view itself
        elif isinstance(result, torch.Tensor) and cls.attribute(result, "_base") is not None:
            result.holdout_version = cls.attribute(result, "_version")
        return result


@holdout("view-version-unshared", area="version counters", torch_gives=[1, 1])
class ViewVersionUnshared(CorruptedTensorBackend):
    """A view's ``_version`` counts only the in-place changes made through the view itself: it does not share its
    base's counter, so a change through the base (or a sibling view) leaves it as it was.

    Probe: ``[x._version, v._version]`` after ``v = x[:2]; x.add_(1)``."""

    tensor_type: ClassVar = OwnCounterViewTensor

    @staticmethod
    def probe(backend: Any) -> list[int]:
        x = backend.tensor([1.0, 2.0, 3.0])
        v = x[:2]
        x.add_(1)
        return [x._version, v._version]


def alias_with_own_counter(tensor: torch.Tensor) -> torch.Tensor:
    """A tensor over ``tensor``'s storage with a version counter of its own (``set_`` makes a new tensor)."""
    alias = torch.empty(0, dtype=tensor.dtype, device=tensor.device)
    return alias.set_(tensor.untyped_storage(), tensor.storage_offset(), tensor.size(), tensor.stride())


class OwnCounterDetachTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.detach and not cls.call(torch.Tensor._is_zerotensor, args[0]):
            return cls.call(alias_with_own_counter, args[0])  # a symbolic zero has no storage to alias
        return cls.call(func, *args, **kwargs)


@holdout("detach-alias-own-version", area="version counters", torch_gives=[1, 11.0])
class DetachAliasOwnVersion(CorruptedTensorBackend):
    """``detach()`` returns an alias of the storage with a version counter of its own: an in-place write through
    the alias does not bump the original's version, so autograd does not see that a tensor it saved was changed
    and backward silently uses the new values (torch refuses).

    Probe: ``x._version`` after ``x.detach().add_(10)``, and ``x``'s first value then."""

    tensor_type: ClassVar = OwnCounterDetachTensor

    @staticmethod
    def probe(backend: Any) -> list:
        x = backend.tensor([1.0, 2.0, 3.0])
        x.detach().add_(10)
        return [x._version, float(backend.to_numpy(x)[0])]


class CopyingDetachTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if func is torch.Tensor.detach and not cls.call(torch.Tensor.is_contiguous, args[0]):
            return cls.call(torch.Tensor.clone, result)
        return result


@holdout("detach-noncontiguous-copy", area="detach", torch_gives=100.0)
class DetachNonContiguousCopy(CorruptedTensorBackend):
    """``detach()`` of a non-contiguous tensor (a transpose, a strided slice) returns a copy instead of a tensor
    sharing its storage: writes through it do not reach the original. Contiguous tensors are detached right.

    Probe: ``x[0, 1]`` after ``d = x.t().detach(); d[1, 0] = 100`` for a 2×3 ``x``."""

    tensor_type: ClassVar = CopyingDetachTensor

    @staticmethod
    def probe(backend: Any) -> float:
        x = backend.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        d = x.t().detach()
        d[1, 0] = 100.0
        return float(backend.to_numpy(x)[0, 1])


class CopyingDataTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if reads(func, "data") and cls.attribute(args[0], "requires_grad"):
            return cls.call(torch.Tensor.clone, result)
        return result


@holdout("data-copy-of-tracked", area="detach", torch_gives=[0.0, 0.0])
class DataCopyOfTracked(CorruptedTensorBackend):
    """``.data`` of a tensor that requires grad returns a detached copy instead of a detached alias of its
    storage: ``p.data.zero_()`` (or any write through ``.data``) leaves ``p`` unchanged. ``.data`` of a tensor
    that does not require grad is right.

    Probe: ``p``'s values after ``p.data.zero_()``."""

    tensor_type: ClassVar = CopyingDataTensor

    @staticmethod
    def probe(backend: Any) -> list[float]:
        p = backend.tensor([1.5, -2.0], requires_grad=True)
        p.data.zero_()
        return backend.to_numpy(p).tolist()


class DroppingInplaceTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if (
            name_of(func) in INPLACE_ARITHMETIC
            and isinstance(args[0], torch.Tensor)
            and not cls.attribute(args[0], "requires_grad")
            and any(is_tensor_requiring_grad(arg) for arg in (*args[1:], *kwargs.values()))
        ):
            with torch.no_grad():
                return cls.call(func, *args, **kwargs)
        return cls.call(func, *args, **kwargs)


@holdout("inplace-other-requires-grad-dropped", area="requires_grad", torch_gives=[True, [2.0, 2.0]])
class InplaceOtherRequiresGradDropped(CorruptedTensorBackend):
    """An in-place operation on a tensor that does not require grad, with an operand that does, is not recorded:
    the result keeps ``requires_grad=False`` (the engine decides from ``self`` alone whether to record in-place
    operations). Out-of-place operations are right.

    Probe: ``a.requires_grad`` after ``a.add_(b)`` with only ``b`` requiring grad, and ``b``'s gradient of
    ``(a + b).sum()`` then (with the add_ lost, only the direct term reaches it)."""

    tensor_type: ClassVar = DroppingInplaceTensor

    @staticmethod
    def probe(backend: Any) -> list:
        a = backend.tensor([1.0, 2.0])
        b = backend.tensor([3.0, 4.0], requires_grad=True)
        a.add_(b)
        tracked = bool(a.requires_grad)
        (a + b).sum().backward()
        return [tracked, backend.to_numpy(b.grad).tolist()]


class FirstInputDecidesTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func in (torch.cat, torch.stack) and args and not is_tensor_requiring_grad(args[0][0]):
            with torch.no_grad():
                return cls.call(func, *args, **kwargs)
        return cls.call(func, *args, **kwargs)


@holdout("cat-requires-grad-first-input", area="requires_grad", torch_gives=[True, True])
class CatRequiresGradFirstInput(CorruptedTensorBackend):
    """``cat`` and ``stack`` decide whether to record from their first input only: with a first input that does not
    require grad the result does not either, whatever the others.

    Probe: ``requires_grad`` of ``cat([a, b])`` and ``stack([a, b])`` with only ``b`` requiring grad."""

    tensor_type: ClassVar = FirstInputDecidesTensor

    @staticmethod
    def probe(backend: Any) -> list[bool]:
        a = backend.tensor([1.0, 2.0])
        b = backend.tensor([3.0, 4.0], requires_grad=True)
        return [bool(backend.ops.cat([a, b]).requires_grad), bool(backend.ops.stack([a, b]).requires_grad)]
