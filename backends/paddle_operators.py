"""torch's operator families as paddle's own operators: the ``functional``, ``ops`` and ``linalg`` namespaces of
the paddle backend, on paddle tensors (the backend unwraps and wraps its proxies around them).

paddle 3 mirrors most of torch's API, and many of its functions take torch's keywords (``dim``, ``keepdim``)
beside its own: those are listed by name (:data:`SAME_FUNCTIONAL`, :data:`SAME_OPS`, :data:`SAME_LINALG`). The
others are translations of one call, each naming what differs: paddle's ``axis`` for ``dim``, ``epsilon`` for
``eps``, ``exclusive`` for the inverse of ``count_include_pad``, ``delta``/``is_huber`` for ``beta`` and
``delta``, ``soft_label`` for class probabilities, NumPy's ``axes`` for ``dims``, a list for torch's varargs
tensors, paddle's ``[batch, seq, heads, dim]`` attention layout for torch's ``[batch, heads, seq, dim]``, a
``[1, out]`` bilinear bias for torch's ``[out]``, and torch's defaults where paddle's differ (``align_corners``
False, hardsigmoid's slope exactly 1/6, rms_norm's eps the dtype's epsilon). Nothing here computes an operator
paddle lacks: those are the backend's ``lacks``.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .batching import unbatched
from .contract import import_engine

#: ``nn.functional`` members that are paddle's functions of the same name and positional order
SAME_FUNCTIONAL = (
    "gelu silu softplus elu selu celu leaky_relu relu6 hardswish mish softsign tanhshrink prelu sigmoid tanh "
    "conv1d conv2d conv3d max_pool1d max_pool2d max_pool3d adaptive_avg_pool1d adaptive_avg_pool2d "
    "adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d lp_pool1d lp_pool2d local_response_norm embedding "
    "pixel_shuffle pixel_unshuffle mse_loss l1_loss nll_loss binary_cross_entropy kl_div soft_margin_loss "
    "margin_ranking_loss hinge_embedding_loss cosine_embedding_loss multi_margin_loss relu"
)
#: torch functions of the ``functions`` family that paddle has under the same name and arguments
SAME_OPS = (
    "cat stack hstack vstack dstack where einsum bmm baddbmm addmm mm mv dot outer inner kron cdist cross "
    "broadcast_to atleast_2d column_stack cumulative_trapezoid"
)
#: ``linalg`` members that are ``paddle.linalg``'s of the same name and arguments
SAME_LINALG = "solve inv det cholesky eigvalsh svdvals pinv matrix_power multi_dot matrix_exp"


#: pooling operators by their spatial dimensions: torch's take an unbatched input too, paddle's do not
POOLING_DIMENSIONS = {
    "max_pool1d": 1, "max_pool2d": 2, "max_pool3d": 3, "avg_pool1d": 1, "avg_pool2d": 2, "avg_pool3d": 3,
    "adaptive_avg_pool1d": 1, "adaptive_avg_pool2d": 2, "adaptive_avg_pool3d": 3, "adaptive_max_pool1d": 1,
    "adaptive_max_pool2d": 2, "lp_pool1d": 1, "lp_pool2d": 2,
}  # fmt: skip


def functional() -> dict[str, Callable]:
    """torch's ``nn.functional`` operators as paddle's."""
    paddle = import_engine("paddle")
    F = paddle.nn.functional
    same = {name: getattr(F, name) for name in SAME_FUNCTIONAL.split()}

    def conv_transpose(function: Callable) -> Callable:
        """torch's positional order (..., output_padding, groups, dilation), which paddle's 2-d one swaps."""

        def call(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
            return function(
                input, weight, bias, stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                dilation=dilation,
            )  # fmt: skip

        return call

    def avg_pool(function: Callable) -> Callable:
        """paddle's ``exclusive`` is the inverse of torch's ``count_include_pad`` (and defaults to True)."""

        def call(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
            return function(input, kernel_size, stride, padding, ceil_mode=ceil_mode, exclusive=not count_include_pad)

        return call

    def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
        """A one-dimensional ``size`` as the list paddle wants; torch's ``align_corners`` None is False."""
        size = [size] if isinstance(size, int) else size
        return F.interpolate(input, size, scale_factor, mode, align_corners=bool(align_corners))

    def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False, scale=None):
        """paddle takes ``[batch, seq, heads, dim]`` (a 3-d input one head) where torch takes heads before seq."""
        three_d = query.ndim == 3
        layout = (lambda t: t.unsqueeze(1)) if three_d else (lambda t: t)
        q, k, v = (layout(t).transpose([0, 2, 1, 3]) for t in (query, key, value))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale)
        out = out.transpose([0, 2, 1, 3])
        return out.squeeze(1) if three_d else out

    def rms_norm(input, normalized_shape, weight=None, eps=None):
        """torch's ``eps=None`` is the input dtype's machine epsilon; paddle's default is 1e-5."""
        eps = float(np.finfo(np.dtype(str(input.dtype).removeprefix("paddle.")).type).eps) if eps is None else eps
        return F.rms_norm(input, normalized_shape, weight, eps=eps)

    def instance_norm(
        input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-5
    ):
        """paddle's ``momentum`` weighs the running statistics, torch's the new ones."""
        args = (input, running_mean, running_var, weight, bias, use_input_stats)
        return F.instance_norm(*args, momentum=1 - momentum, eps=eps)

    def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        """Classes along dimension 1 (paddle's ``axis``, -1 by default); float targets are class probabilities
        (paddle's ``soft_label``)."""
        return F.cross_entropy(
            input, target, weight, ignore_index, reduction, soft_label=target.dtype == input.dtype, axis=1,
            label_smoothing=label_smoothing,
        )  # fmt: skip

    translated = same | {
        "hardtanh": lambda input, min_val=-1.0, max_val=1.0: F.hardtanh(input, min_val, max_val),
        "hardsigmoid": lambda input: F.hardsigmoid(input, slope=1 / 6, offset=0.5),
        "logsigmoid": F.log_sigmoid,
        "softshrink": lambda input, lambd=0.5: F.softshrink(input, threshold=lambd),
        "hardshrink": lambda input, lambd=0.5: F.hardshrink(input, threshold=lambd),
        "threshold": lambda input, threshold, value: F.thresholded_relu(input, threshold, value),
        "glu": lambda input, dim=-1: F.glu(input, axis=dim),
        "softmax": lambda input, dim: F.softmax(input, axis=dim),
        "log_softmax": lambda input, dim: F.log_softmax(input, axis=dim),
        "conv_transpose1d": conv_transpose(F.conv1d_transpose),
        "conv_transpose2d": conv_transpose(F.conv2d_transpose),
        "conv_transpose3d": conv_transpose(F.conv3d_transpose),
        "avg_pool1d": avg_pool(F.avg_pool1d),
        "avg_pool2d": avg_pool(F.avg_pool2d),
        "avg_pool3d": avg_pool(F.avg_pool3d),
        "layer_norm": lambda input, normalized_shape, weight=None, bias=None, eps=1e-5: F.layer_norm(
            input, normalized_shape, weight, bias, epsilon=eps
        ),
        "group_norm": lambda input, num_groups, weight=None, bias=None, eps=1e-5: F.group_norm(
            input, num_groups, epsilon=eps, weight=weight, bias=bias
        ),
        "instance_norm": instance_norm,
        "rms_norm": rms_norm,
        "normalize": lambda input, p=2.0, dim=1, eps=1e-12: F.normalize(input, p, axis=dim, epsilon=eps),
        "interpolate": interpolate,
        # torch pads the last len(pad) / 2 dimensions of an unbatched input in the other modes too
        "pad": unbatched(
            lambda input, pad, mode="constant", value=None: F.pad(input, pad, mode, value or 0.0),
            lambda input, pad, mode="constant", value=None: len(pad) // 2 if mode != "constant" else -1,
        ),
        "scaled_dot_product_attention": scaled_dot_product_attention,
        "bilinear": lambda input1, input2, weight, bias=None: F.bilinear(
            input1, input2, weight, None if bias is None else bias.unsqueeze(0)
        ),
        # torch unfolds an unbatched (C, H, W) input too
        "unfold": unbatched(
            lambda input, kernel_size, dilation=1, padding=0, stride=1: F.unfold(
                input, kernel_size, strides=stride, paddings=padding, dilations=dilation
            ),
            2,
        ),
        "fold": lambda input, output_size, kernel_size, dilation=1, padding=0, stride=1: F.fold(
            input, output_size, kernel_size, strides=stride, paddings=padding, dilations=dilation
        ),
        "cosine_similarity": lambda x1, x2, dim=1, eps=1e-8: F.cosine_similarity(x1, x2, axis=dim, eps=eps),
        "pairwise_distance": lambda x1, x2, p=2.0, eps=1e-6, keepdim=False: F.pairwise_distance(
            x1, x2, p, epsilon=eps, keepdim=keepdim
        ),
        "grid_sample": lambda input, grid, mode="bilinear", padding_mode="zeros", align_corners=None: F.grid_sample(
            input, grid, mode, padding_mode, align_corners=bool(align_corners)
        ),
        "affine_grid": lambda theta, size, align_corners=None: F.affine_grid(
            theta, size, align_corners=bool(align_corners)
        ),
        "smooth_l1_loss": lambda input, target, reduction="mean", beta=1.0: F.smooth_l1_loss(
            input, target, reduction, delta=beta, is_huber=False
        ),
        "huber_loss": lambda input, target, reduction="mean", delta=1.0: F.smooth_l1_loss(
            input, target, reduction, delta=delta, is_huber=True
        ),
        "cross_entropy": cross_entropy,
        "binary_cross_entropy_with_logits": lambda input, target, weight=None, reduction="mean", pos_weight=None: (
            F.binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight)
        ),
        "poisson_nll_loss": lambda input, target, log_input=True, full=False, eps=1e-8, reduction="mean": (
            F.poisson_nll_loss(input, target, log_input, full, epsilon=eps, reduction=reduction)
        ),
        "gaussian_nll_loss": lambda input, target, var, full=False, eps=1e-6, reduction="mean": F.gaussian_nll_loss(
            input, target, var, full, epsilon=eps, reduction=reduction
        ),
        "triplet_margin_loss": lambda anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False: (
            F.triplet_margin_loss(anchor, positive, negative, margin, p, epsilon=eps, swap=swap)
        ),
        "multilabel_soft_margin_loss": F.multi_label_soft_margin_loss,
    }
    pools = {name: unbatched(translated[name], dims) for name, dims in POOLING_DIMENSIONS.items()}
    return translated | pools


def ops() -> dict[str, Callable]:
    """torch's top-level functions of the ``functions`` family as paddle's."""
    paddle = import_engine("paddle")
    return {name: getattr(paddle, name) for name in SAME_OPS.split()} | {
        "tensordot": lambda a, b, dims=2: paddle.tensordot(a, b, axes=dims),
        "trapezoid": lambda y, x=None, dx=None, dim=-1: paddle.trapezoid(y, x, dx, axis=dim),
        "block_diag": lambda *tensors: paddle.block_diag(list(tensors)),
        "cartesian_prod": lambda *tensors: paddle.cartesian_prod(list(tensors)),
    }


def linalg() -> dict[str, Callable]:
    """``torch.linalg`` as ``paddle.linalg``: torch's ``ord`` is paddle's ``p``, ``dim`` its ``axis``."""
    paddle = import_engine("paddle")
    la = paddle.linalg
    return {name: getattr(la, name) for name in SAME_LINALG.split()} | {
        "norm": lambda x, ord=None, dim=None, keepdim=False: la.norm(x, ord, axis=dim, keepdim=keepdim),
        "vector_norm": lambda x, ord=2, dim=None, keepdim=False: la.vector_norm(x, ord, axis=dim, keepdim=keepdim),
        "matrix_norm": lambda x, ord="fro", dim=(-2, -1), keepdim=False: la.matrix_norm(
            x, ord, axis=list(dim), keepdim=keepdim
        ),
        "slogdet": paddle.compat.slogdet,
        "cross": lambda x, y, dim=-1: la.cross(x, y, axis=dim),
        "solve_triangular": lambda A, B, *, upper, left=True, unitriangular=False: _solve_triangular(
            la, A, B, upper, left, unitriangular
        ),
        "vecdot": lambda x, y, dim=-1: la.vecdot(x, y, axis=dim),
    }


def _solve_triangular(la: types.ModuleType, A: Any, B: Any, upper: bool, left: bool, unitriangular: bool) -> Any:
    """paddle's ``triangular_solve`` solves A X = B only (torch's ``left=True``)."""
    if not left:
        raise NotImplementedError("paddle's triangular_solve solves A X = B only: linalg.solve_triangular(left=False)")
    return la.triangular_solve(A, B, upper=upper, unitriangular=unitriangular)
