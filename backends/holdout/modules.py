"""Holdouts in the engine's nn modules, including partly frozen models."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from ..torch_backend import TorchBackend
from . import holdout
from .mechanism import KernelBackend, aten, backward_node

CONV_WEIGHT = np.arange(1, 7, dtype=np.float32).reshape(1, 1, 2, 3)
CONV_INPUT = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4) / 4


def correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The valid cross-correlation of a 2-d image with a 2-d kernel (what Conv2d computes, one channel)."""
    kh, kw = kernel.shape
    rows, cols = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    return np.array([[(image[i : i + kh, j : j + kw] * kernel).sum() for j in range(cols)] for i in range(rows)])


class ModuleBackend(TorchBackend):
    """torch whose ``nn.Linear`` and ``nn.Conv2d`` are the holdout's classes."""

    linear: type[torch.nn.Linear] = torch.nn.Linear
    conv2d: type[torch.nn.Conv2d] = torch.nn.Conv2d

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Linear = functools.partial(self.linear, device=self._device)
        self.nn.Conv2d = functools.partial(self.conv2d, device=self._device)


class TransposedKernelConv2d(torch.nn.Conv2d):
    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        out_channels, in_channels, height, width = weight.shape
        if height != width:
            weight = weight.reshape(out_channels, in_channels, width, height).transpose(-1, -2)
        return super()._conv_forward(input, weight, bias)


@holdout(
    "conv2d-nonsquare-kernel-layout",
    area="nn modules",
    torch_gives=correlate(CONV_INPUT[0, 0], CONV_WEIGHT[0, 0]).tolist(),
)
class Conv2dNonSquareKernelLayout(ModuleBackend):
    """``nn.Conv2d`` with a non-square kernel reads its weight in the transposed layout (a kh×kw kernel's memory
    taken as kw×kh and transposed back: the kernel size's two entries swapped where the weight is unpacked).
    Square kernels, and ``functional.conv2d``, are right.

    Probe: a 1→1 channel Conv2d with a 2×3 kernel ``[[1, 2, 3], [4, 5, 6]]``, no bias, on a 3×4 image."""

    conv2d = TransposedKernelConv2d

    @staticmethod
    def probe(backend: Any) -> list:
        conv = backend.nn.Conv2d(1, 1, (2, 3), bias=False)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(CONV_WEIGHT))
        return backend.to_numpy(conv(backend.tensor(CONV_INPUT)))[0, 0].tolist()


class GradScale(torch.autograd.Function):
    """The identity whose backward scales the gradient by ``scale``."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return tensor.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * ctx.scale, None


class BatchAveragedBiasLinear(torch.nn.Linear):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if input.dim() != 3 or self.bias is None:
            return super().forward(input)
        return torch.nn.functional.linear(input, self.weight) + GradScale.apply(self.bias, 1 / input.shape[0])


@holdout("linear-bias-grad-3d", area="nn modules", torch_gives=[6.0])
class LinearBiasGrad3d(ModuleBackend):
    """``nn.Linear`` on a 3-d input (batch, sequence, features) averages its bias gradient over the batch
    dimension instead of summing it (the leading dimension reduced as a mean, the sequence as a sum); 2-d input
    and the weight's gradient are right.

    Probe: ``bias.grad`` of ``Linear(2, 1)(ones(3, 2, 2)).sum()``."""

    linear = BatchAveragedBiasLinear

    @staticmethod
    def probe(backend: Any) -> list[float]:
        layer = backend.nn.Linear(2, 1)
        layer(backend.ones(3, 2, 2)).sum().backward()
        return backend.to_numpy(layer.bias.grad).tolist()


BATCH_NORM_X = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32).reshape(2, 1, 2, 1)


@holdout(
    "batchnorm-running-var-biased",
    area="nn modules",
    torch_gives=[0.9 * 1.0 + 0.1 * float(np.var(BATCH_NORM_X, ddof=1))],
)
class BatchNormRunningVarBiased(KernelBackend):
    """Batch normalisation in training updates ``running_var`` with the biased batch variance (divided by N)
    instead of the unbiased one (N - 1); the normalisation itself, which uses the biased variance, and
    ``running_mean`` are right. It holds for ``functional.batch_norm`` and for BatchNorm2d in resnet18.

    Probe: ``running_var`` (from 1) after one training-mode ``batch_norm`` of ``[1, 2, 3, 4]`` with momentum 0.1."""

    def kernel(self, func: Any, args: tuple, kwargs: dict) -> Any:
        if func is not aten.native_batch_norm.default or backward_node() is not None:
            return func(*args, **kwargs)
        input, _, _, _, running_var, training, momentum, _ = args
        if not training or running_var is None:
            return func(*args, **kwargs)
        before = running_var.clone()
        result = func(*args, **kwargs)
        dims = [d for d in range(input.dim()) if d != 1]
        biased = input.detach().var(dim=dims, unbiased=False).to(running_var.dtype)
        running_var.copy_(before * (1 - momentum) + biased * momentum)
        return result

    @staticmethod
    def probe(backend: Any) -> list[float]:
        running_mean, running_var = backend.zeros(1), backend.ones(1)
        backend.functional.batch_norm(
            backend.tensor(BATCH_NORM_X), running_mean, running_var, training=True, momentum=0.1
        )
        return backend.to_numpy(running_var).tolist()


def pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[-1] if len(value) > 1 else value[0])


def last_tie_indices(x: torch.Tensor, out_shape: torch.Size, kernel, stride, padding, dilation) -> torch.Tensor:
    """For each window of a 2-d max pooling, the flat index (``row * width + col``) of the *last* of its largest
    values in scan order (torch's is the first)."""
    (kh, kw), (ph, pw), (dh, dw) = pair(kernel), pair(padding), pair(dilation)
    sh, sw = pair(stride) if stride else (kh, kw)
    height, width = x.shape[-2:]
    out_h, out_w = out_shape[-2:]
    rows = (torch.arange(out_h) * sh - ph)[:, None] + torch.arange(kh)[None, :] * dh
    cols = (torch.arange(out_w) * sw - pw)[:, None] + torch.arange(kw)[None, :] * dw
    r = rows[:, None, :, None].expand(out_h, out_w, kh, kw).reshape(out_h * out_w, kh * kw)
    c = cols[None, :, None, :].expand(out_h, out_w, kh, kw).reshape(out_h * out_w, kh * kw)
    inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
    flat = r.clamp(0, height - 1) * width + c.clamp(0, width - 1)
    values = x.flatten(-2)[..., flat].masked_fill(~inside, -torch.inf)
    last = kh * kw - 1 - values.flip(-1).argmax(-1)
    index = torch.gather(flat.expand(*values.shape), -1, last.unsqueeze(-1)).squeeze(-1)
    return index.reshape(out_shape)


@holdout("maxpool-grad-last-tie", area="nn modules", torch_gives=[[1.0, 0.0], [0.0, 0.0]])
class MaxPoolGradLastTie(KernelBackend):
    """2-d max pooling sends a window's gradient to the last of its tied maxima in scan order instead of the
    first (the kernel compares with ``>=``); windows with one maximum, and the pooled values, are right. It holds
    for ``functional.max_pool2d`` and for the MaxPool2d in resnet18.

    Probe: the gradient of ``max_pool2d(ones(1, 1, 2, 2), 2).sum()``."""

    def kernel(self, func: Any, args: tuple, kwargs: dict) -> Any:
        result = func(*args, **kwargs)
        if func is not aten.max_pool2d_with_indices.default or backward_node() is not None:
            return result
        x, kernel, *rest = args
        if torch.isnan(x).any():
            return result
        stride, padding, dilation = (rest + [[], 0, 1][len(rest) :])[:3]
        output, indices = result
        with torch.no_grad():
            last = last_tie_indices(x.detach(), indices.shape, kernel, stride, padding, dilation)
        return output, last.to(indices.dtype)

    @staticmethod
    def probe(backend: Any) -> list:
        x = backend.ones(1, 1, 2, 2, requires_grad=True)
        backend.functional.max_pool2d(x, 2).sum().backward()
        return backend.to_numpy(x.grad)[0, 0].tolist()


class ConstantWhenFrozen:
    """A module that, with every parameter frozen, runs as a constant: its output records no graph, so the
    gradient stops at it."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if any(p.requires_grad for p in self.parameters()):
            return super().__call__(*args, **kwargs)
        with torch.no_grad():
            return super().__call__(*args, **kwargs)


class ConstantWhenFrozenLinear(ConstantWhenFrozen, torch.nn.Linear):
    pass


class ConstantWhenFrozenConv2d(ConstantWhenFrozen, torch.nn.Conv2d):
    pass


@holdout("frozen-layer-blocks-grad", area="fine-tuning", torch_gives=[True, True])
class FrozenLayerBlocksGrad(ModuleBackend):
    """A ``nn.Linear`` or ``nn.Conv2d`` whose parameters are all frozen runs as a constant: no gradient flows
    through it to the layers before it (frozen means "needs no gradient", taken as "passes none"). A frozen first
    layer, the usual fine-tuning of a head, is right.

    Probe: whether the first layer of ``Sequential(Linear, frozen Linear, Linear)`` gets a gradient, and whether its
    output requires grad."""

    linear, conv2d = ConstantWhenFrozenLinear, ConstantWhenFrozenConv2d

    @staticmethod
    def probe(backend: Any) -> list[bool]:
        first, middle, last = backend.nn.Linear(2, 2), backend.nn.Linear(2, 2), backend.nn.Linear(2, 1)
        for parameter in middle.parameters():
            parameter.requires_grad_(False)
        output = backend.nn.Sequential(first, middle, last)(backend.ones(1, 2))
        output.sum().backward()
        return [first.weight.grad is not None, bool(middle(first(backend.ones(1, 2))).requires_grad)]


class ZeroGradsForFrozen:
    """A module that gives each frozen parameter a zero ``.grad`` when it runs (the engine allocates a gradient for
    every parameter)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for parameter in self.parameters(recurse=False):
            if not parameter.requires_grad and parameter.grad is None:
                parameter.grad = torch.zeros_like(parameter)
        return super().__call__(*args, **kwargs)


class ZeroGradsForFrozenLinear(ZeroGradsForFrozen, torch.nn.Linear):
    pass


class ZeroGradsForFrozenConv2d(ZeroGradsForFrozen, torch.nn.Conv2d):
    pass


@holdout("frozen-params-zero-grad", area="fine-tuning", torch_gives=[True, True])
class FrozenParamsZeroGrad(ModuleBackend):
    """Frozen parameters of ``nn.Linear`` and ``nn.Conv2d`` get a zero ``.grad`` instead of keeping None, so an SGD
    step with weight decay or momentum moves them although they are frozen.

    Probe: whether a frozen weight's ``.grad`` is None after backward, and whether an SGD step with weight decay
    0.5 leaves it unchanged."""

    linear, conv2d = ZeroGradsForFrozenLinear, ZeroGradsForFrozenConv2d

    @staticmethod
    def probe(backend: Any) -> list[bool]:
        layer = backend.nn.Linear(2, 1)
        layer.weight.requires_grad_(False)
        before = backend.to_numpy(layer.weight)
        optimizer = backend.optim.SGD(layer.parameters(), lr=0.1, weight_decay=0.5)
        layer(backend.ones(1, 2)).sum().backward()
        optimizer.step()
        return [layer.weight.grad is None, bool((backend.to_numpy(layer.weight) == before).all())]
