"""Benign variants: correct torch backends that round differently, the dual of the mutants.

A value spec must fail every engine that computes a wrong value, and pass every engine that computes the right
one on another correct numerical path. These backends are torch on one device with one documented default or
valid algorithm changed, selectable as ``--backend=benign:<name>[:<device>]``:

- ``tf32``: the float32 inputs of every matrix product and convolution, forward and backward, rounded to TF32
  (10 explicit mantissa bits, round to nearest even), as tensor cores compute them: torch's default for cuDNN
  convolutions on NVIDIA GPUs since Ampere (``torch.backends.cudnn.allow_tf32``), and what
  ``torch.backends.cuda.matmul.allow_tf32 = True`` does to matrix products;
- ``split-k``: every matrix product, convolution (forward and backward) and sum reduced in two halves whose
  partial results are added, as split-K GEMM kernels, other convolution algorithms and parallel reductions do:
  another summation order, at the dtype's own rounding;
- ``float64-accumulation``: the same float32 operations accumulated in float64 and rounded once, as a more
  accurate algorithm (a compensated or wider accumulator) gives them.

Each is a :class:`~torch.utils._python_dispatch.TorchDispatchMode` held open around each spec's call
(:meth:`~backends.contract.Backend.spec_scope`); the oracles of ``conformance`` run outside it (they are torch
as shipped, not the engine under test). The project's tests prove every spec passes on every variant while
every mutant is still caught: the margin on both sides of a value spec's tolerance.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from .contract import UnknownBackend
from .torch_backend import TorchBackend

aten = torch.ops.aten
#: the operators a variant changes: matrix products, convolutions and their backward, sums
MATMULS = (aten.mm.default, aten.addmm.default, aten.bmm.default, aten.baddbmm.default)
CONVOLUTIONS = (aten.convolution.default, aten.convolution_backward.default)
SUMS = (aten.sum.default, aten.sum.dim_IntList)


def round_to_tf32(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` with each float32 value rounded to TF32's 10 explicit mantissa bits, to nearest even; other
    dtypes, infinities and NaNs as they are."""
    if not isinstance(tensor, torch.Tensor) or tensor.dtype != torch.float32:
        return tensor
    bits = tensor.contiguous().view(torch.int32)
    rounded = ((bits + 0xFFF + ((bits >> 13) & 1)) & ~0x1FFF).view(torch.float32).view(tensor.shape)
    return torch.where(torch.isfinite(tensor), rounded, tensor)


#: the operands a product multiplies, by operator: a bias (convolution's, addmm's and baddbmm's added matrix) is
#: added at full precision, as tensor cores add it; every tensor operand of the others is a factor
FACTORS = {aten.convolution.default: (0, 1), aten.addmm.default: (1, 2), aten.baddbmm.default: (1, 2)}


def on_factors(transform: Callable, func: Callable, *args: Any, **kwargs: Any) -> Any:
    """``func`` with ``transform`` applied to each operand it multiplies (see :data:`FACTORS`)."""
    factors = FACTORS.get(func, range(len(args)))
    return func(*(transform(arg) if i in factors else arg for i, arg in enumerate(args)), **kwargs)


def tf32_inputs(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """``func`` on TF32-rounded factors."""
    return on_factors(round_to_tf32, func, *args, **kwargs)


def halves(size: int) -> tuple[slice, slice] | None:
    return (slice(0, size // 2), slice(size // 2, size)) if size >= 2 else None


def split_k(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """``func`` reduced in two halves whose partial results are added: a matrix product over halves of its inner
    dimension, a convolution over halves of its input channels (backward: of the output gradient's rows), a sum
    over halves of its first reduced dimension."""
    if func in (aten.mm.default, aten.bmm.default):
        a, b = args
        if split := halves(a.shape[-1]):
            return sum(func(a[..., part], b[..., part, :]) for part in split)
    elif func in (aten.addmm.default, aten.baddbmm.default):
        bias, a, b = args
        if split := halves(a.shape[-1]):
            alpha = kwargs.get("alpha", 1)
            product = aten.mm.default if func is aten.addmm.default else aten.bmm.default
            first = func(bias, a[..., split[0]], b[..., split[0], :], **kwargs)
            return first + alpha * product(a[..., split[1]], b[..., split[1], :])
    elif func is aten.convolution.default:
        x, weight, bias, *rest = args
        channel_dim = 0 if rest[3] else 1  # a transposed convolution's weight has its input channels first
        if split := halves(weight.shape[channel_dim]):
            masks = [torch.zeros_like(weight) for _ in split]
            for mask, part in zip(masks, split, strict=True):
                mask.narrow(channel_dim, part.start, part.stop - part.start).fill_(1)
            return func(x, weight * masks[0], bias, *rest) + func(x, weight * masks[1], None, *rest)
    elif func is aten.convolution_backward.default:
        grad_output = args[0]
        if grad_output.dim() > 2 and (split := halves(grad_output.shape[2])):
            parts = []
            for part in split:
                mask = torch.zeros_like(grad_output)
                mask[:, :, part] = 1
                parts.append(func(grad_output * mask, *args[1:], **kwargs))
            return tuple(None if a is None else a + b for a, b in zip(*parts, strict=True))
    elif func in SUMS and args[0].is_floating_point():
        x, dims = args[0], (args[1] if len(args) > 1 else None)
        if not dims:  # every dimension: the flattened values in two halves
            flat = x.reshape(-1)
            if split := halves(flat.shape[0]):
                total = sum(func(flat[part], *args[1:], **kwargs) for part in split)
                return total.reshape(total.shape[:0] if total.dim() == 0 else (1,) * x.dim())
        else:
            dim = next((d % x.dim() for d in dims if x.shape[d] >= 2), None)
            if dim is not None:
                index = (slice(None),) * dim
                return sum(func(x[(*index, part)], *args[1:], **kwargs) for part in halves(x.shape[dim]))
    return func(*args, **kwargs)


def float64_accumulation(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """``func`` on float32 arguments computed in float64, its results rounded once to float32 (or to the dtype the
    call asks for)."""
    if not any(isinstance(arg, torch.Tensor) and arg.dtype == torch.float32 for arg in args):
        return func(*args, **kwargs)
    wide_args = (arg.double() if isinstance(arg, torch.Tensor) and arg.is_floating_point() else arg for arg in args)
    wide_kwargs = {key: torch.float64 if value == torch.float32 else value for key, value in kwargs.items()}
    wide = func(*wide_args, **wide_kwargs)
    dtype = kwargs.get("dtype") or torch.float32  # what the operator gives: float32, or the dtype asked for
    if isinstance(wide, tuple):
        return tuple(None if out is None else out.to(dtype) for out in wide)
    return wide.to(dtype)


class Rounding(TorchDispatchMode):
    """Sends each operator of ``ops`` through ``compute`` (``compute(func, *args, **kwargs)``); every other operator
    runs as it is."""

    def __init__(self, compute: Callable, ops: tuple) -> None:
        super().__init__()
        self.compute, self.ops = compute, frozenset(ops)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.ops:
            return self.compute(func, *args, **kwargs)
        return func(*args, **kwargs)


class BenignBackend(TorchBackend):
    """torch on one device, its matrix products, convolutions or sums computed another correct way."""

    variant: ClassVar[str]
    compute: ClassVar[Callable]
    operators: ClassVar[tuple]

    @contextlib.contextmanager
    def spec_scope(self) -> Iterator[None]:
        with Rounding(type(self).compute, self.operators):
            yield


class TF32(BenignBackend):
    """float32 matrix products and convolutions on TF32-rounded inputs, forward and backward."""

    engine = "torch (benign tf32)"
    variant, compute, operators = "tf32", tf32_inputs, MATMULS + CONVOLUTIONS


class SplitK(BenignBackend):
    """Matrix products, convolutions and sums reduced in two halves: another summation order."""

    engine = "torch (benign split-k)"
    variant, compute, operators = "split-k", split_k, MATMULS + CONVOLUTIONS + SUMS


class Float64Accumulation(BenignBackend):
    """float32 matrix products, convolutions and sums accumulated in float64 and rounded once."""

    engine = "torch (benign float64-accumulation)"
    variant, compute, operators = "float64-accumulation", float64_accumulation, MATMULS + CONVOLUTIONS + SUMS


VARIANTS: dict[str, type[BenignBackend]] = {cls.variant: cls for cls in (TF32, SplitK, Float64Accumulation)}


def parse(spelling: str) -> BenignBackend:
    """The backend for ``benign:<name>[:<device>]``."""
    _, _, rest = spelling.partition(":")
    variant, _, device = rest.partition(":")
    if variant not in VARIANTS:
        raise UnknownBackend(f"unknown benign variant {variant!r}; known: {', '.join(sorted(VARIANTS))}")
    return VARIANTS[variant](device or "cpu")
