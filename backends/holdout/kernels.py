"""Holdouts in kernels: one dtype's backward formula, and shapes that take another code path (non-square, batched,
broadcast second operand, 0-d operand, a reduction without keepdim)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch

from ..mutants.corrupted_tensors import CorruptedTensor, CorruptedTensorBackend
from . import holdout
from .mechanism import KernelBackend, aten, backward_node, is_tensor_requiring_grad, on_backward, plain

TANH_AT = (0.5, -1.0, 2.0)
SIGMOID_AT = (0.3, -0.7)


@holdout("tanh-backward-float32", area="dtypes", torch_gives=[1 - math.tanh(x) ** 2 for x in TANH_AT])
class TanhBackwardFloat32(KernelBackend):
    """The float32 kernel of tanh's backward multiplies the incoming gradient by ``1 - y`` instead of ``1 - y²``
    (the square dropped in the vectorised float32 path); float64 is right.

    Probe: the gradient of ``tanh(x).sum()`` at float32 ``x``."""

    def kernel(self, func: Any, args: tuple, kwargs: dict) -> Any:
        if func is aten.tanh_backward.default and args[1].dtype == torch.float32:
            grad, y = args
            return grad * (1 - y)
        return func(*args, **kwargs)

    @staticmethod
    def probe(backend: Any) -> list[float]:
        x = backend.tensor(list(TANH_AT), requires_grad=True)
        x.tanh().sum().backward()
        return backend.to_numpy(x.grad).tolist()


@holdout(
    "sigmoid-backward-float64",
    area="dtypes",
    torch_gives=[3 * s * (1 - s) for s in (1 / (1 + math.exp(-x)) for x in SIGMOID_AT)],
)
class SigmoidBackwardFloat64(KernelBackend):
    """The float64 kernel of sigmoid's backward returns ``y * (1 - y)`` without multiplying by the incoming
    gradient: right when the gradient is ones (``sigmoid(x).sum()``), wrong for any other; float32 is right.

    Probe: the gradient of ``(3 * sigmoid(x)).sum()`` at float64 ``x``."""

    def kernel(self, func: Any, args: tuple, kwargs: dict) -> Any:
        if func is aten.sigmoid_backward.default and args[1].dtype == torch.float64:
            _, y = args
            return y * (1 - y)
        return func(*args, **kwargs)

    @staticmethod
    def probe(backend: Any) -> list[float]:
        x = backend.tensor64(list(SIGMOID_AT), requires_grad=True)
        (3 * x.sigmoid()).sum().backward()
        return backend.to_numpy(x.grad).tolist()


MM_A = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
MM_B = np.arange(1, 13, dtype=np.float32).reshape(3, 4) / 4


def transposed_non_square(operand: torch.Tensor) -> bool:
    """A non-square matrix that is the transpose of a contiguous one (a backward's ``other.t()``)."""
    return (
        operand.dim() == 2
        and operand.shape[0] != operand.shape[1]
        and not operand.is_contiguous()
        and operand.t().is_contiguous()
    )


def read_row_major(operand: torch.Tensor) -> torch.Tensor:
    """``operand``'s storage read in row-major order, its transposed strides ignored."""
    return torch.as_strided(operand, operand.shape, (operand.shape[1], 1), operand.storage_offset())


@holdout(
    "mm-backward-nonsquare-strides",
    area="shapes",
    torch_gives=[(np.ones((2, 4)) @ MM_B.T).tolist(), (MM_A.T @ np.ones((2, 4))).tolist()],
)
class MmBackwardNonSquareStrides(KernelBackend):
    """In backward, the matrix-product kernel reads a transposed non-square operand (``other.t()``) as if it were
    row-major, ignoring its strides (a reshape where a transpose was meant); square operands take another path and
    are right, as is every forward product.

    Probe: the gradients of ``(a @ b).sum()`` for a 2×3 ``a`` and a 3×4 ``b``."""

    def kernel(self, func: Any, args: tuple, kwargs: dict) -> Any:
        if func is aten.mm.default and backward_node() is not None:
            args = tuple(read_row_major(arg) if transposed_non_square(arg) else arg for arg in args)
        return func(*args, **kwargs)

    @staticmethod
    def probe(backend: Any) -> list:
        a = backend.tensor(MM_A, requires_grad=True)
        b = backend.tensor(MM_B, requires_grad=True)
        (a @ b).sum().backward()
        return [backend.to_numpy(a.grad).tolist(), backend.to_numpy(b.grad).tolist()]


BATCH_X = np.arange(12, dtype=np.float32).reshape(2, 2, 3) / 6
BATCH_Y = np.arange(12, dtype=np.float32).reshape(2, 3, 2) / 4 - 1


@holdout(
    "bmm-backward-first-batch",
    area="shapes",
    torch_gives=[
        (np.ones((2, 2, 2)) @ BATCH_Y.transpose(0, 2, 1)).tolist(),
        (BATCH_X.transpose(0, 2, 1) @ np.ones((2, 2, 2))).tolist(),
    ],
)
class BmmBackwardFirstBatch(KernelBackend):
    """In backward, the batched matrix-product kernel multiplies every batch by the first batch's left operand
    (its batch stride taken as 0); a single matrix (no batch) and every forward product are right.

    Probe: the gradients of ``(x @ y).sum()`` for batched ``x`` (2×2×3) and ``y`` (2×3×2)."""

    def kernel(self, func: Any, args: tuple, kwargs: dict) -> Any:
        if func is aten.bmm.default and backward_node() is not None and args[0].shape[0] > 1:
            left, right = args
            return func(left[:1].expand_as(left), right)
        return func(*args, **kwargs)

    @staticmethod
    def probe(backend: Any) -> list:
        x = backend.tensor(BATCH_X, requires_grad=True)
        y = backend.tensor(BATCH_Y, requires_grad=True)
        (x @ y).sum().backward()
        return [backend.to_numpy(x.grad).tolist(), backend.to_numpy(y.grad).tolist()]


MEAN_X = np.arange(6, dtype=np.float32).reshape(2, 3)


@holdout("mean-dim-divisor", area="shapes", torch_gives=MEAN_X.mean(axis=0).tolist())
class MeanDimDivisor(KernelBackend):
    """``mean(dim)`` without keepdim divides the sum by the size of the last dimension instead of the reduced
    one's (the output shape's bookkeeping, which drops the reduced dimension, read one step late); right when the
    reduced dimension is the last, or as long as the last; with ``keepdim=True``; and in backward.

    Probe: ``x.mean(dim=0)`` of a 2×3 ``x``."""

    def kernel(self, func: Any, args: tuple, kwargs: dict) -> Any:
        if func is aten.mean.dim and backward_node() is None:
            x, dims, *rest = args
            keepdim = rest[0] if rest else kwargs.get("keepdim", False)
            if not keepdim and x.dim() >= 2 and dims:
                return aten.sum.dim_IntList(x, dims, False, **kwargs) / x.shape[-1]
        return func(*args, **kwargs)

    @staticmethod
    def probe(backend: Any) -> list[float]:
        x = backend.tensor(MEAN_X)
        return backend.to_numpy(x.mean(dim=0)).tolist()


BROADCAST_A = np.arange(1, 7, dtype=np.float32).reshape(3, 2)
#: the binary operators whose second operand may broadcast: the gradient reaching it is summed over the copies
BROADCASTING = frozenset({"add", "sub", "mul", "div", "__add__", "__sub__", "__mul__", "__truediv__"})


class BroadcastTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        name = getattr(func, "__name__", "")
        if name in BROADCASTING and len(args) > 1 and is_tensor_requiring_grad(args[1]) and args[1].numel():
            copies = result.numel() // args[1].numel()
            if copies > 1:
                on_backward(result, lambda grads, _: (grads[0], grads[1] / copies))
        return result


@holdout("broadcast-other-grad-mean", area="shapes", torch_gives=BROADCAST_A.sum(axis=0).tolist())
class BroadcastOtherGradMean(CorruptedTensorBackend):
    """When the second operand of ``+ - * /`` was broadcast, its gradient is averaged over the copies instead of
    summed (the reduction to its shape uses the mean kernel); a broadcast first operand is right.

    Probe: the gradient of ``(a * b).sum()`` for a 3×2 ``a`` and ``b`` of shape (2,)."""

    tensor_type: ClassVar = BroadcastTensor

    @staticmethod
    def probe(backend: Any) -> list[float]:
        a = backend.tensor(BROADCAST_A)
        b = backend.tensor([0.5, -1.0], requires_grad=True)
        (a * b).sum().backward()
        return backend.to_numpy(b.grad).tolist()


class ZeroDimTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if getattr(func, "__name__", "") in ("mul", "__mul__", "__rmul__") and len(args) > 1:
            operands = args[:2]
            for index, (scalar, other) in enumerate((operands, operands[::-1])):
                if (
                    is_tensor_requiring_grad(scalar)
                    and isinstance(other, torch.Tensor)
                    and scalar.dim() == 0
                    and other.numel() > 1
                ):
                    cls.first_element_only(result, index, plain(other))
        return result

    @staticmethod
    def first_element_only(result: torch.Tensor, index: int, other: torch.Tensor) -> None:
        def replace(grads: tuple, grad_outputs: tuple) -> tuple:
            grads = list(grads)
            grads[index] = (grad_outputs[0] * other).reshape(-1)[0]
            return tuple(grads)

        on_backward(result, replace)


@holdout("zero-dim-mul-grad", area="shapes", torch_gives=6.0)
class ZeroDimMulGrad(CorruptedTensorBackend):
    """The gradient of a 0-d tensor multiplied into a larger one is the first element of ``grad * other`` instead
    of its sum (the 0-d operand taken as an ordinary size-1 operand that needs no reduction); a 0-d times 0-d
    product and operands of one shape are right.

    Probe: the gradient of ``(x * s).sum()`` for 0-d ``s`` and ``x = [1, 2, 3]``."""

    tensor_type: ClassVar = ZeroDimTensor

    @staticmethod
    def probe(backend: Any) -> float:
        s = backend.tensor(2.0, requires_grad=True)
        x = backend.tensor([1.0, 2.0, 3.0])
        (x * s).sum().backward()
        return backend.to_numpy(s.grad).item()
