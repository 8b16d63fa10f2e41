"""Mutants of the kind a translation to another engine's operators makes: right on the inputs that are easiest
to try, wrong on the others. A pixel shuffle that orders channels as a channels-last engine does (its
depth-to-space) is right for one output channel only; a log-determinant taken from a Cholesky factor is right
for symmetric positive definite matrices only; an activation whose float64 constants went through float32 first
(as TensorFlow's gelu's do) is right to float32's precision only, within a fixed float64 tolerance of 1e-7. The
specs try the other inputs, and float64's own error model (tests/test_mutants.py shows each mutant right where
the specs used to stop)."""

from __future__ import annotations

import math
import types
from collections.abc import Callable

import numpy as np
import torch

from ..torch_backend import TorchBackend
from . import mutant


def pixel_shuffle_channels_last(x: torch.Tensor, upscale_factor: int) -> torch.Tensor:
    """pixel_shuffle with the subpixel offsets before the channel in the input's channels ((r, r, C), as
    depth-to-space orders them), not after ((C, r, r), as torch documents)."""
    n, c, h, w = x.shape
    r = upscale_factor
    return x.reshape(n, r, r, c // (r * r), h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c // (r * r), h * r, w * r)


def pixel_unshuffle_channels_last(x: torch.Tensor, downscale_factor: int) -> torch.Tensor:
    """pixel_unshuffle writing the subpixel offsets before the channel in the output's channels."""
    n, c, h, w = x.shape
    r = downscale_factor
    return x.reshape(n, c, h // r, r, w // r, r).permute(0, 3, 5, 1, 2, 4).reshape(n, r * r * c, h // r, w // r)


def logdet_by_cholesky(a: torch.Tensor) -> torch.Tensor:
    """log det A as twice the log of the diagonal of the Cholesky factor of A's symmetric part (Cholesky needs a
    symmetric matrix): for a matrix that is not symmetric, the log-determinant of another matrix."""
    return 2 * torch.linalg.cholesky((a + a.mT) / 2).diagonal(dim1=-2, dim2=-1).log().sum(-1)


def through_float32(constant: float) -> float:
    """``constant`` rounded to float32 and back: 0.01 becomes 0.009999999776482582."""
    return float(np.float32(constant))


def leaky_relu_float32_slope(x: torch.Tensor, negative_slope: float = 0.01, inplace: bool = False) -> torch.Tensor:
    """leaky_relu with its slope rounded through float32: 2.2e-8 relative below 0 for the default 0.01."""
    return torch.nn.functional.leaky_relu(x, through_float32(negative_slope), inplace)


def gelu_float32_constants(x: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """gelu written out with its constants (1/√2; √(2/π) and 0.044715 for the tanh form) rounded through
    float32."""
    if approximate == "tanh":
        inner = through_float32(math.sqrt(2 / math.pi)) * (x + through_float32(0.044715) * x**3)
        return 0.5 * x * (1 + torch.tanh(inner))
    return 0.5 * x * (1 + torch.erf(x * through_float32(1 / math.sqrt(2))))


class Replacing(TorchBackend):
    """torch with some of its functional and ops members replaced: (name, function) pairs."""

    functional_members: tuple[tuple[str, Callable], ...] = ()
    ops_members: tuple[tuple[str, Callable], ...] = ()

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.functional = types.SimpleNamespace(**{**vars(self.functional), **dict(self.functional_members)})
        self.ops = types.SimpleNamespace(**{**vars(self.ops), **dict(self.ops_members)})


@mutant("pixel-shuffle-channels-last", breaks="opgrad.pixel-shuffle")
class PixelShuffleChannelsLast(Replacing):
    """functional.pixel_shuffle orders the input's channels as a channels-last engine does."""

    functional_members = (("pixel_shuffle", pixel_shuffle_channels_last),)


@mutant("pixel-unshuffle-channels-last", breaks="opgrad.pixel-unshuffle")
class PixelUnshuffleChannelsLast(Replacing):
    """functional.pixel_unshuffle orders the output's channels as a channels-last engine does."""

    functional_members = (("pixel_unshuffle", pixel_unshuffle_channels_last),)


@mutant("logdet-by-cholesky", breaks="opgrad.logdet")
class LogdetByCholesky(Replacing):
    """ops.logdet from a Cholesky factor: right for symmetric positive definite matrices only."""

    ops_members = (("logdet", logdet_by_cholesky),)


@mutant("leaky-relu-float32-slope", breaks="opgrad.leaky-relu")
class LeakyReluFloat32Slope(Replacing):
    """functional.leaky_relu's slope goes through float32 first: wrong in float64 by 2.2e-8 relative."""

    functional_members = (("leaky_relu", leaky_relu_float32_slope),)


@mutant("gelu-tanh-float32-constants", breaks="opgrad.gelu-tanh")
class GeluTanhFloat32Constants(Replacing):
    """functional.gelu's constants go through float32 first: wrong in float64 by about 1e-8 relative."""

    functional_members = (("gelu", gelu_float32_constants),)
