"""torch's operator families as TensorFlow's own operators: the ``functional``, ``ops``, ``linalg`` and ``special``
namespaces
of the TensorFlow backend, and the functions its tensor methods call, on TensorFlow tensors (the backend unwraps
and wraps its proxies around them).

Every operator here is one TensorFlow function (``tf.nn``, ``tf.math``, ``tf.linalg``, ``tf.image``,
``tf.signal`` or TensorFlow's NumPy API, ``tf.experimental.numpy``) called with torch's arguments translated:

- layouts: torch's NC... inputs are TensorFlow's N...C (``tf.nn``'s convolutions and pooling run channels-last
  on the CPU), transposed in and out; torch's OI... convolution weights TensorFlow's ...IO filters, and a
  transposed convolution's ``[in, out/groups, k...]`` weight its ``[k..., out/groups, in]`` filter;
  ``pixel_shuffle``'s channels ``(C, r, r)`` are ``tf.nn.depth_to_space``'s ``(r, r, C)``, and ``unfold``'s
  ``(C, kh, kw)`` ``tf.image.extract_patches``'s ``(kh, kw, C)``;
- padding: torch's zero padding of a convolution (and of an average pooling that counts it) is ``tf.pad``
  before a ``VALID`` operator, a max pooling's is ``tf.pad`` with -inf; ``padding="same"`` is ``SAME`` (both
  put the odd element after); an average pooling that does not count the padding (``count_include_pad=False``,
  or ``ceil_mode``'s overhang) is TensorFlow's ``SAME`` pooling, which never counts it, where ``SAME`` pads
  exactly as torch does; a transposed convolution's padding crops TensorFlow's full (``VALID``) output;
- statistics: ``batch_norm``, ``layer_norm``, ``group_norm`` and ``instance_norm`` are ``tf.nn.moments`` over
  torch's axes and ``tf.nn.batch_normalization`` with torch's weight and bias, as Keras's normalization layers
  call them;
- reductions: torch's ``reduction`` of a loss is ``tf.reduce_mean`` or ``tf.reduce_sum`` of TensorFlow's
  elementwise loss.

An option TensorFlow's function does not have is refused with NotImplementedError naming it; nothing here
computes an operator TensorFlow lacks (those are the backend's ``lacks``).
"""

from __future__ import annotations

import collections
import itertools
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .batching import unbatched
from .contract import import_engine


def _tf() -> types.ModuleType:
    return import_engine("tensorflow")


def _tnp() -> types.ModuleType:
    return _tf().experimental.numpy


#: torch's ``(values, indices)`` of ``max``/``min`` over a dimension, by position or by name
ValuesIndices = collections.namedtuple("ValuesIndices", "values indices")


def refuse(operator: str, option: str, value: Any, default: Any) -> None:
    """NotImplementedError naming TensorFlow's ``operator`` and the ``option`` it lacks, where ``value`` asks for
    it."""
    if value != default:
        raise NotImplementedError(f"TensorFlow's {operator} has no {option!r} (asked for {option}={value!r})")


def spatial(size: Any, dims: int) -> tuple[int, ...]:
    """torch's ``kernel_size=3`` or ``(3, 2)`` of a ``dims``-d operator, as a tuple."""
    return (size,) * dims if isinstance(size, int) else tuple(size)


def sizes(given: tuple) -> tuple:
    """torch's sizes given one by one (``view(2, 3)``) or as one sequence (``view((2, 3))``), as a tuple."""
    return tuple(given[0]) if len(given) == 1 and not isinstance(given[0], int) else tuple(given)


def split_sizes(length: int, split_size_or_sections: Any) -> list[int]:
    """torch's ``split`` by a part size (the last part smaller) or by part sizes, as ``tf.split``'s sizes."""
    if not isinstance(split_size_or_sections, int):
        return list(split_size_or_sections)
    whole, rest = divmod(length, split_size_or_sections)
    return [split_size_or_sections] * whole + ([rest] if rest else [])


def section_sizes(length: int, sections: Any) -> list[int]:
    """torch's ``tensor_split`` into ``sections`` parts (the first ``length % sections`` one longer) or at
    indices, as ``tf.split``'s sizes."""
    if isinstance(sections, int):
        size, longer = divmod(length, sections)
        return [size + 1] * longer + [size] * (sections - longer)
    bounds = [0, *sections, length]
    return [high - low for low, high in itertools.pairwise(bounds)]


def channels_last(x: Any) -> Any:
    """torch's N C ... layout as TensorFlow's N ... C."""
    return _tf().transpose(x, [0, *range(2, x.shape.rank), 1])


def channels_first(x: Any) -> Any:
    """TensorFlow's N ... C layout as torch's N C ...."""
    return _tf().transpose(x, [0, x.shape.rank - 1, *range(1, x.shape.rank - 1)])


def padded(x: Any, pads: Sequence[tuple[int, int]], value: float = 0.0) -> Any:
    """``tf.pad`` of the spatial dimensions of a channels-last ``x`` by (low, high) pairs."""
    if not any(low or high for low, high in pads):
        return x
    return _tf().pad(x, [(0, 0), *pads, (0, 0)], constant_values=value)


def coordinates(index: Any, dim: int) -> Any:
    """The positions ``tf.tensor_scatter_nd_*`` takes for torch's ``index`` along ``dim``: each element of
    ``index`` at its own position in the other dimensions."""
    tf = _tf()
    grids = tf.meshgrid(*(tf.range(size, dtype=index.dtype) for size in index.shape), indexing="ij")
    grids[dim % index.shape.rank] = index
    return tf.stack(grids, axis=-1)


def leading(x: Any, shape: Sequence[int]) -> Any:
    """The leading ``shape`` part of ``x`` (torch's gather and scatter read only that part of every dimension)."""
    return x[tuple(slice(0, size) for size in shape)]


def along(index: Any, dim: int, shape: Sequence[int]) -> Any:
    """Positions of the slices ``index`` picks along ``dim`` of a tensor of ``shape``, for torch's ``index_*``
    methods: ``index`` broadcast along ``dim`` of the updates' shape (``shape`` with ``len(index)`` there)."""
    tf = _tf()
    dim %= len(shape)
    updates = [*shape[:dim], int(index.shape[0]), *shape[dim + 1 :]]
    along_dim = tf.reshape(index, [-1 if d == dim else 1 for d in range(len(shape))])
    return coordinates(tf.broadcast_to(along_dim, updates), dim)


def clamp(x: Any, min: Any = None, max: Any = None) -> Any:
    """``tf.clip_by_value``; with one bound ``tf.maximum`` or ``tf.minimum`` (its bounds broadcast as torch's)."""
    tf = _tf()
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    if max is None:
        return tf.maximum(x, min)
    if min is None:
        return tf.minimum(x, max)
    return tf.clip_by_value(x, min, max)


def reduced(loss: Any, reduction: str) -> Any:
    """torch's ``reduction`` of an elementwise loss."""
    tf = _tf()
    if reduction == "none":
        return loss
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return tf.reduce_mean(loss) if reduction == "mean" else tf.reduce_sum(loss)


def functional() -> dict[str, Callable]:
    """torch's ``nn.functional`` operators as TensorFlow's (see the module docstring)."""
    tf = _tf()
    nn = tf.nn

    def renamed(function: Callable, **names: str) -> Callable:
        """torch's ``fn(input, **options)`` as TensorFlow's ``function(x, **options)``, options renamed."""
        return lambda input, *args, **options: function(
            input, *args, **{names.get(k, k): v for k, v in options.items()}
        )

    def gelu(input: Any, approximate: str = "none") -> Any:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")
        return nn.gelu(input, approximate=approximate == "tanh")

    def elu(input: Any, alpha: float = 1.0) -> Any:
        if alpha != 1.0:
            raise NotImplementedError(f"TensorFlow's tf.nn.elu has no alpha (it is 1), not {alpha}")
        return nn.elu(input)

    def convolution(dims: int) -> Callable:
        """torch's ``conv{dims}d`` as ``tf.nn.convolution`` (channels last; a grouped convolution is a filter of
        ``in/groups`` input channels, as TensorFlow takes it)."""

        def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Any:
            x = channels_last(input)
            if isinstance(padding, str):
                mode = padding.upper()
            else:
                mode = "VALID"
                x = padded(x, [(p, p) for p in spatial(padding, dims)])
            if x.shape[-1] != weight.shape[1] * groups:  # TensorFlow would take the groups the shapes imply
                raise ValueError(f"weight {weight.shape} does not fit {groups} groups of {x.shape[-1]} channels")
            filters = tf.transpose(weight, [*range(2, dims + 2), 1, 0])
            out = nn.convolution(x, filters, spatial(stride, dims), mode, dilations=spatial(dilation, dims))
            return channels_first(out if bias is None else nn.bias_add(out, bias))

        return conv

    def transposed_convolution(dims: int) -> Callable:
        """torch's ``conv_transpose{dims}d`` as ``tf.nn.conv_transpose`` with ``VALID`` padding (TensorFlow's full
        output, longer by torch's ``output_padding`` where it exceeds ``padding``), from which torch's padding is
        cropped."""

        def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
            x = channels_last(input)
            kernel, strides = weight.shape[2:], spatial(stride, dims)
            dilations, pads, extras = spatial(dilation, dims), spatial(padding, dims), spatial(output_padding, dims)
            shapes = zip(x.shape[1:-1], strides, dilations, kernel, strict=True)
            base = [(size - 1) * s + d * (k - 1) + 1 for size, s, d, k in shapes]
            full = [size + max(0, extra - p) for size, p, extra in zip(base, pads, extras, strict=True)]
            channels = weight.shape[1] * groups
            filters = tf.transpose(weight, [*range(2, dims + 2), 1, 0])
            out = nn.conv_transpose(x, filters, [x.shape[0], *full, channels], strides, "VALID", dilations=dilations)
            crop = [slice(p, size - p + extra) for size, p, extra in zip(base, pads, extras, strict=True)]
            out = out[(slice(None), *crop, slice(None))]
            return channels_first(out if bias is None else nn.bias_add(out, bias))

        return conv_transpose

    def max_pool(dims: int) -> Callable:
        """torch's ``max_pool{dims}d`` as ``tf.nn.pool`` with ``MAX``, after ``tf.pad`` with -inf."""

        def pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
            refuse("tf.nn.pool", "ceil_mode", ceil_mode, False)
            refuse("tf.nn.pool", "return_indices", return_indices, False)
            kernel = spatial(kernel_size, dims)
            x = padded(channels_last(input), [(p, p) for p in spatial(padding, dims)], -np.inf)
            strides = spatial(stride, dims) if stride else kernel
            out = nn.pool(x, kernel, "MAX", strides, "VALID", dilations=spatial(dilation, dims))
            return channels_first(out)

        return pool

    def avg_pool(dims: int) -> Callable:
        """torch's ``avg_pool{dims}d`` as ``tf.nn.pool`` with ``AVG``: ``VALID`` without padding, after zero
        ``tf.pad`` where torch counts the padding, and TensorFlow's ``SAME`` (which never counts it) where torch
        does not count it (``count_include_pad=False``, ``ceil_mode``'s overhang) and ``SAME`` pads exactly as
        torch does."""

        def pool(
            input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
        ):
            refuse("tf.nn.pool", "divisor_override", divisor_override, None)
            kernel = spatial(kernel_size, dims)
            strides, pads = (spatial(stride, dims) if stride else kernel), spatial(padding, dims)
            x = channels_last(input)
            torch_sizes = [
                _pooled_size(size, k, s, p, ceil_mode)
                for size, k, s, p in zip(x.shape[1:-1], kernel, strides, pads, strict=True)
            ]
            exact = [
                (size + 2 * p - k) // s + 1 for size, k, s, p in zip(x.shape[1:-1], kernel, strides, pads, strict=True)
            ]
            if torch_sizes == exact and (count_include_pad or not any(pads)):
                return channels_first(nn.pool(padded(x, [(p, p) for p in pads]), kernel, "AVG", strides, "VALID"))
            same = [
                (-(-size // s), max((-(-size // s) - 1) * s + k - size, 0) // 2)
                for size, k, s in zip(x.shape[1:-1], kernel, strides, strict=True)
            ]
            if same != list(zip(torch_sizes, pads, strict=True)) or (count_include_pad and any(pads)):
                raise NotImplementedError(
                    f"TensorFlow's tf.nn.pool has no 'ceil_mode' and counts padding only as VALID over tf.pad: "
                    f"padding={padding}, ceil_mode={ceil_mode}, count_include_pad={count_include_pad} of "
                    f"{tuple(x.shape[1:-1])} is neither"
                )
            return channels_first(nn.pool(x, kernel, "AVG", strides, "SAME"))

        return pool

    def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
        """``tf.nn.avg_pool2d`` with the window and stride an output size that divides the input implies
        (TensorFlow has no adaptive pooling: other sizes are refused)."""
        (height, width), (out_h, out_w) = input.shape[2:], spatial(output_size, 2)
        if height % out_h or width % out_w:
            raise NotImplementedError(
                f"TensorFlow has no adaptive pooling; the adapter pools {height}x{width} only to an output size that "
                f"divides it, not {out_h}x{out_w}"
            )
        window = (height // out_h, width // out_w)
        return channels_first(nn.avg_pool2d(channels_last(input), window, window, "VALID"))

    def normalized(x: Any, axes: Sequence[int], eps: float, weight: Any, bias: Any, shape: Sequence[int]) -> Any:
        """``tf.nn.moments`` of ``x`` over ``axes`` and ``tf.nn.batch_normalization`` by them, with torch's
        ``weight`` and ``bias`` seen in ``shape``."""
        mean, variance = nn.moments(x, list(axes), keepdims=True)
        scale = None if weight is None else tf.reshape(weight, shape)
        offset = None if bias is None else tf.reshape(bias, shape)
        return nn.batch_normalization(x, mean, variance, offset, scale, eps)

    def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
        """In training mode the batch's ``tf.nn.moments`` (TensorFlow tensors are immutable: running statistics
        to update are refused); in eval mode ``tf.nn.batch_normalization`` by the running statistics."""
        shape = [1, -1] + [1] * (input.shape.rank - 2)
        if training:
            if running_mean is not None or running_var is not None:
                raise NotImplementedError("TensorFlow tensors are immutable: no running statistics to update in place")
            return normalized(input, [0, *range(2, input.shape.rank)], eps, weight, bias, shape)
        scale = None if weight is None else tf.reshape(weight, shape)
        offset = None if bias is None else tf.reshape(bias, shape)
        mean, variance = tf.reshape(running_mean, shape), tf.reshape(running_var, shape)
        return nn.batch_normalization(input, mean, variance, offset, scale, eps)

    def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Any:
        shape = spatial(normalized_shape, 1)
        return normalized(input, range(input.shape.rank - len(shape), input.shape.rank), eps, weight, bias, shape)

    def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5) -> Any:
        """Over each group of channels and the spatial dimensions: the input seen as (N, groups, C/groups, ...)."""
        channels, rest = input.shape[1], input.shape[2:]
        grouped = tf.reshape(input, [input.shape[0], num_groups, channels // num_groups, *rest])
        shape = [1, num_groups, channels // num_groups] + [1] * len(rest)
        axes = range(2, grouped.shape.rank)
        return tf.reshape(normalized(grouped, axes, eps, weight, bias, shape), input.shape)

    def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                      momentum=0.1, eps=1e-5) -> Any:  # fmt: skip
        refuse("tf.nn.moments", "use_input_stats", use_input_stats, True)
        if running_mean is not None or running_var is not None:
            raise NotImplementedError("TensorFlow tensors are immutable: no running statistics to update in place")
        shape = [1, -1] + [1] * (input.shape.rank - 2)
        return normalized(input, range(2, input.shape.rank), eps, weight, bias, shape)

    def linear(input: Any, weight: Any, bias: Any = None) -> Any:
        """``tf.linalg.matmul`` by the transpose of torch's ``[out, in]`` weight, ``tf.nn.bias_add``."""
        out = tf.linalg.matmul(input, weight, transpose_b=True)
        return out if bias is None else nn.bias_add(out, bias)

    def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                  sparse=False) -> Any:  # fmt: skip
        """``tf.nn.embedding_lookup`` of the weight's rows."""
        refuse("tf.nn.embedding_lookup", "padding_idx", padding_idx, None)
        refuse("tf.nn.embedding_lookup", "max_norm", max_norm, None)  # TensorFlow's clips, torch's renormalises
        refuse("tf.nn.embedding_lookup", "scale_grad_by_freq", scale_grad_by_freq, False)
        return nn.embedding_lookup(weight, input)

    def pixel_shuffle(input: Any, upscale_factor: int) -> Any:
        """``tf.nn.depth_to_space``: torch's channel ``c·r² + i·r + j`` is its depth ``(i·r + j)·C + c``."""
        n, depth, height, width = input.shape
        r = upscale_factor
        x = tf.reshape(input, [n, depth // r**2, r * r, height, width])
        x = tf.reshape(tf.transpose(x, [0, 3, 4, 2, 1]), [n, height, width, depth])
        return channels_first(nn.depth_to_space(x, r))

    def pixel_unshuffle(input: Any, downscale_factor: int) -> Any:
        """``tf.nn.space_to_depth``, its depth ``(i·r + j)·C + c`` as torch's channel ``c·r² + i·r + j``."""
        n, channels = input.shape[:2]
        r = downscale_factor
        x = nn.space_to_depth(channels_last(input), r)
        height, width = x.shape[1:3]
        x = tf.transpose(tf.reshape(x, [n, height, width, r * r, channels]), [0, 4, 3, 1, 2])
        return tf.reshape(x, [n, channels * r * r, height, width])

    def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
        """``tf.image.extract_patches`` (im2col) after zero ``tf.pad``: its patches' ``(kh, kw, C)`` order as
        torch's ``(C, kh, kw)``, the output positions in one dimension."""
        (kh, kw), channels = spatial(kernel_size, 2), input.shape[1]
        x = padded(channels_last(input), [(p, p) for p in spatial(padding, 2)])
        patches = tf.image.extract_patches(
            x, [1, kh, kw, 1], [1, *spatial(stride, 2), 1], [1, *spatial(dilation, 2), 1], "VALID"
        )
        n, positions = patches.shape[0], patches.shape[1] * patches.shape[2]
        patches = tf.transpose(tf.reshape(patches, [n, positions, kh * kw, channels]), [0, 3, 2, 1])
        return tf.reshape(patches, [n, channels * kh * kw, positions])

    def cross_entropy(input: Any, target: Any) -> Any:
        """The training step's: ``tf.nn.sparse_softmax_cross_entropy_with_logits`` of class indices, averaged."""
        return tf.reduce_mean(nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=input))

    def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
        """``tf.math.squared_difference``, reduced."""
        return reduced(tf.math.squared_difference(input, target), reduction)

    def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None) -> Any:
        """``tf.nn.sigmoid_cross_entropy_with_logits``, or ``tf.nn.weighted_cross_entropy_with_logits`` with
        ``pos_weight``, reduced."""
        refuse("tf.nn.sigmoid_cross_entropy_with_logits", "weight", weight, None)
        if pos_weight is None:
            loss = nn.sigmoid_cross_entropy_with_logits(labels=target, logits=input)
        else:
            loss = nn.weighted_cross_entropy_with_logits(labels=target, logits=input, pos_weight=pos_weight)
        return reduced(loss, reduction)

    def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean") -> Any:
        """``tf.nn.log_poisson_loss`` (``exp(input) - target·input``; ``compute_full_loss`` adds Stirling's term
        for targets above 1, as torch's ``full`` does), reduced."""
        refuse("tf.nn.log_poisson_loss", "log_input", log_input, True)
        return reduced(nn.log_poisson_loss(target, input, compute_full_loss=full), reduction)

    def multilabel_soft_margin_loss(input, target, weight=None, reduction="mean") -> Any:
        """``tf.nn.sigmoid_cross_entropy_with_logits`` averaged over the classes, then reduced."""
        refuse("tf.nn.sigmoid_cross_entropy_with_logits", "weight", weight, None)
        loss = nn.sigmoid_cross_entropy_with_logits(labels=target, logits=input)
        return reduced(tf.reduce_mean(loss, axis=-1), reduction)

    def pool(function: Callable, dims: int) -> Callable:
        """A pool (or unfold) of torch's unbatched input too, on a batch of one."""
        return unbatched(function, dims, add=lambda x: tf.expand_dims(x, 0), drop=lambda x: tf.squeeze(x, [0]))

    return {
        # nn.functional.activations
        "gelu": gelu,
        "silu": nn.silu,
        "elu": elu,
        "selu": nn.selu,
        "leaky_relu": lambda input, negative_slope=0.01: nn.leaky_relu(input, alpha=negative_slope),
        "relu6": nn.relu6,
        "logsigmoid": tf.math.log_sigmoid,
        "softsign": nn.softsign,
        "sigmoid": nn.sigmoid,
        "tanh": nn.tanh,
        "softmax": renamed(nn.softmax, dim="axis"),
        "log_softmax": renamed(nn.log_softmax, dim="axis"),
        # nn.functional (the training step's operators)
        "relu": nn.relu,
        "conv2d": convolution(2),
        "batch_norm": batch_norm,
        "max_pool2d": pool(max_pool(2), 2),
        "adaptive_avg_pool2d": pool(adaptive_avg_pool2d, 2),
        "linear": linear,
        "cross_entropy": cross_entropy,
        # nn.functional.conv
        "conv1d": convolution(1),
        "conv3d": convolution(3),
        "conv_transpose1d": transposed_convolution(1),
        "conv_transpose2d": transposed_convolution(2),
        "conv_transpose3d": transposed_convolution(3),
        # nn.functional.pooling
        "avg_pool1d": pool(avg_pool(1), 1),
        "avg_pool2d": pool(avg_pool(2), 2),
        "avg_pool3d": pool(avg_pool(3), 3),
        "max_pool1d": pool(max_pool(1), 1),
        "max_pool3d": pool(max_pool(3), 3),
        # nn.functional.normalization
        "layer_norm": layer_norm,
        "group_norm": group_norm,
        "instance_norm": instance_norm,
        # nn.functional.layers
        "embedding": embedding,
        "pixel_shuffle": pixel_shuffle,
        "pixel_unshuffle": pixel_unshuffle,
        "unfold": pool(unfold, 2),  # torch unfolds an unbatched (C, H, W) input too
        # nn.functional.losses
        "mse_loss": mse_loss,
        "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
        "poisson_nll_loss": poisson_nll_loss,
        "multilabel_soft_margin_loss": multilabel_soft_margin_loss,
    }


def _pooled_size(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """torch's pooled length: with ``ceil_mode`` the last partial window counts unless it starts in the padding."""
    windows = (size + 2 * padding - kernel + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (windows - 1) * stride >= size + padding:
        windows -= 1
    return windows


def cross(input: Any, other: Any, dim: int | None = None) -> Any:
    """``tf.linalg.cross`` of the inputs as given (TensorFlow's, of the last dimension only; torch's ``dim`` None is
    the first of size 3)."""
    if dim is None or dim % input.shape.rank != input.shape.rank - 1:
        raise NotImplementedError(f"TensorFlow's tf.linalg.cross crosses the last dimension only, not dim={dim}")
    return _tf().linalg.cross(input, other)


def ops() -> dict[str, Callable]:
    """torch's top-level functions of the ``functions`` family as TensorFlow's."""
    tf, tnp = _tf(), _tnp()

    def block_diag(*tensors: Any) -> Any:
        """``tf.linalg.LinearOperatorBlockDiag`` of the blocks, as a dense matrix."""
        blocks = [tf.reshape(t, [1, -1]) if t.shape.rank < 2 else t for t in tensors]
        return tf.linalg.LinearOperatorBlockDiag(list(map(tf.linalg.LinearOperatorFullMatrix, blocks))).to_dense()

    return {
        "cat": lambda tensors, dim=0: tf.concat(list(tensors), axis=dim),
        "stack": lambda tensors, dim=0: tf.stack(list(tensors), axis=dim),
        "hstack": tnp.hstack,
        "vstack": tnp.vstack,
        "dstack": tnp.dstack,
        "where": tf.where,
        "einsum": tf.einsum,
        "bmm": tf.linalg.matmul,
        "mm": tf.linalg.matmul,
        "mv": tf.linalg.matvec,
        "dot": tnp.dot,
        "outer": tnp.outer,
        "inner": tnp.inner,
        "kron": tnp.kron,
        "tensordot": lambda a, b, dims=2: tf.tensordot(a, b, axes=dims),
        "cross": cross,
        "block_diag": block_diag,
        "broadcast_to": tf.broadcast_to,
        "atleast_2d": tnp.atleast_2d,
        "clamp": clamp,
    }


def linalg() -> dict[str, Callable]:
    """``torch.linalg`` as ``tf.linalg`` (``tf.norm`` for the norms)."""
    tf = _tf()
    la = tf.linalg

    def cholesky(A: Any, *, upper: bool = False) -> Any:
        """``tf.linalg.cholesky`` reads the lower triangle, as torch does; it gives the lower factor only."""
        refuse("tf.linalg.cholesky", "upper", upper, False)
        return la.cholesky(A)

    def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False) -> Any:
        """``tf.norm``: torch's default the 2-norm of every element (TensorFlow's ``euclidean``); another order
        of a matrix is a matrix norm over its last two dimensions, as torch's."""
        if ord is None:
            return tf.norm(A, "euclidean", axis=dim, keepdims=keepdim)
        if dim is None and A.shape.rank == 2:
            dim = (-2, -1)
        return tf.norm(A, ord, axis=dim, keepdims=keepdim)

    def vector_norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False) -> Any:
        """``tf.norm`` of a vector order (every element when ``dim`` is None, as a vector)."""
        if dim is not None and not isinstance(dim, int):
            raise NotImplementedError("TensorFlow's tf.norm of two axes is a matrix norm, not a vector norm")
        return tf.norm(x, "euclidean" if ord == 2 else ord, axis=dim, keepdims=keepdim)

    def eigvalsh(A: Any, UPLO: str = "L") -> Any:
        """``tf.linalg.eigvalsh`` reads the lower triangle."""
        refuse("tf.linalg.eigvalsh", "UPLO", UPLO, "L")
        return la.eigvalsh(A)

    def pinv(A: Any, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Any:
        """``tf.linalg.pinv`` with torch's default cutoff of small singular values (``rtol`` the precision's epsilon
        times the larger dimension; TensorFlow's ``rcond`` defaults to ten times that); it has no absolute cutoff."""
        refuse("tf.linalg.pinv", "atol", atol, None)
        refuse("tf.linalg.pinv", "hermitian", hermitian, False)
        if rtol is None:
            rtol = np.finfo(A.dtype.as_numpy_dtype).eps * max(A.shape[-2:])
        return la.pinv(A, rcond=rtol)

    def solve_triangular(A: Any, B: Any, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Any:
        """``tf.linalg.triangular_solve`` with ``lower=not upper``; it solves AX = B only."""
        refuse("tf.linalg.triangular_solve", "left", left, True)
        refuse("tf.linalg.triangular_solve", "unitriangular", unitriangular, False)
        return la.triangular_solve(A, B, lower=not upper)

    return {
        "solve": la.solve,
        "inv": la.inv,
        "det": la.det,
        "slogdet": la.slogdet,
        "cholesky": cholesky,
        "norm": norm,
        "vector_norm": vector_norm,
        "eigvalsh": eigvalsh,
        "svdvals": lambda A: la.svd(A, compute_uv=False),
        "pinv": pinv,
        "matrix_exp": la.expm,
        "cross": lambda input, other, dim=-1: cross(input, other, dim),
        "solve_triangular": solve_triangular,
    }


def special() -> dict[str, Callable]:
    """``torch.special``'s Bessel functions as ``tf.math.special``'s (its ``bessel_i0`` is torch's
    ``modified_bessel_i0``, and so on)."""
    functions = _tf().math.special
    return {
        **{name: getattr(functions, name) for name in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1")},
        **{
            f"modified_{name}": getattr(functions, name)
            for name in ("bessel_i0", "bessel_i1", "bessel_k0", "bessel_k1")
        },
    }
