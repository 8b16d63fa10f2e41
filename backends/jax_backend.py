"""JAX behind the contract (CPU): a functional engine, differentiated by ``jax.vjp`` and ``jax.jvp``.

JAX has no tape: no ``requires_grad``, no ``.grad``, no ``backward()``. It declares what it has, the functional
gradient path (``vjp``, ``jvp`` and, since its transforms compose, ``vjp.second-order``), ``float64``, the
tensor math, ``nn.functional`` (resnet18's operators), the unary and binary tensor operators (all but ``frac``,
``lerp``, ``addcmul`` and ``addcdiv``, which JAX has no function for) and five ``nn.functional`` families:
activations, convolutions, pooling, normalization and layers, each with the members it lacks listed in
``lacks`` (:data:`FUNCTIONAL_LACKS`). The tape's specs, and ``nn.functional.losses`` (JAX has no loss functions:
they live in optax, which is not JAX), are "unsupported".

Translations: ``vjp`` and ``jvp`` are ``jax.vjp`` and ``jax.jvp`` of the spec's function seen on proxies;
``log``/``sin``/``tanh``/... are ``jax.numpy``'s functions, ``sigmoid`` is ``jax.nn.sigmoid``, reductions
take ``axis``/``keepdims``. ``nn.functional`` is JAX's own operators with torch's signatures and layouts
(NC... inputs, OI... weights, ``[out, in]`` linear weights):

- activations are ``jax.nn``'s (``hardswish`` is ``hard_swish``, ``logsigmoid`` ``log_sigmoid``, ``softsign``
  ``soft_sign``; ``gelu``'s ``approximate="tanh"`` is ``approximate=True``; ``dim`` is ``axis``);
- ``conv1d/2d/3d`` are ``lax.conv_general_dilated`` (``groups`` is ``feature_group_count``, ``dilation``
  ``rhs_dilation``, ``padding="same"`` its ``"SAME"``); ``conv_transpose1d/2d/3d`` are the same operator with
  ``lhs_dilation``, JAX's transposed convolution (``lax.conv_transpose`` computes it so but has no groups): the
  weight goes from torch's ``[in, out/groups, k...]`` layout to ``[out, in/groups, k...]``, spatially flipped;
- ``max_pool*`` is ``lax.reduce_window`` with ``max`` (padding with -inf, ``dilation`` as
  ``window_dilation``), ``avg_pool*`` with ``add``, divided by the count torch divides by (a
  ``reduce_window`` of ones: zero padding counted unless ``count_include_pad=False``, never the overhang of
  ``ceil_mode``, whose last partial window is ``reduce_window``'s high padding); ``adaptive_avg_pool2d`` a mean
  over the windows an output size that divides the input implies (others are refused);
- ``batch_norm``, ``layer_norm``, ``group_norm`` (over ``(N, groups, -1)``) and ``instance_norm`` are
  ``jax.nn.standardize`` over torch's axes (two-pass variance, as torch's), then torch's elementwise
  ``weight`` and ``bias``; ``batch_norm`` in eval mode passes the running statistics as its ``mean`` and
  ``variance`` (JAX arrays are immutable: running statistics are not updated);
- ``embedding`` is ``jnp.take`` of the weight's rows; ``pad`` is ``jnp.pad`` (torch's flat pairs from the last
  dimension back; ``replicate`` is ``edge``, ``circular`` ``wrap``); ``scaled_dot_product_attention`` is
  ``jax.nn.dot_product_attention`` on torch's ``(..., L, E)`` as ``(batch, L, 1 head, E)``, a float mask as its
  ``bias``, a boolean one as its ``mask``; ``unfold`` is ``lax.conv_general_dilated_patches`` (im2col);
- ``cross_entropy`` (the training step's, class indices only) is ``jax.nn.log_softmax`` at the class indices,
  averaged.

Lacked, as JAX has no operator for them (composing one from arithmetic would imitate it): ``softplus`` with
``beta``/``threshold`` (``jax.nn.softplus`` has neither), ``tanhshrink``, ``softshrink``, ``hardshrink``,
``threshold``, ``prelu``, ``softmin``; adaptive pooling (JAX has none: the training step's
``adaptive_avg_pool2d`` to a size that divides the input is a mean over reshaped windows, other sizes are
refused), ``lp_pool*``; ``rms_norm``, ``local_response_norm``, ``normalize``; ``bilinear``, ``pixel_shuffle``/
``pixel_unshuffle``, ``fold``, ``cosine_similarity``, ``pairwise_distance``, ``grid_sample``, ``affine_grid``;
and ``interpolate``, one member for every mode: ``jax.image.resize`` has no ``align_corners`` (an entry needs it)
and its ``nearest`` is torch's ``nearest-exact``, not torch's ``nearest`` (they differ at non-integer scales;
its ``linear``, ``bicubic-pytorch`` without antialiasing and ``area`` agree with torch's modes of those names).

float64 needs ``jax_enable_x64``: the backend turns it on when it is built (float32 stays the default of
:meth:`JaxBackend.tensor`, which asks for it), and :meth:`JaxBackend.global_state` guards it, so a spec that
changes it fails.
"""

from __future__ import annotations

import importlib
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import capabilities as cap
from .contract import Backend, import_engine
from .proxy import TensorProxy, numpy_spelling, pair, translate


def _jax() -> types.ModuleType:
    return import_engine("jax")


class JaxTensor(TensorProxy):
    """A JAX array (or a tracer inside a transform) seen through torch's names."""

    keepdim_keyword = "keepdims"

    @classmethod
    def engine_tensor_type(cls) -> type:
        return _jax().Array

    def _unary(self, name: str) -> Any:
        jax = _jax()
        return (jax.nn.sigmoid if name == "sigmoid" else getattr(jax.numpy, name))(self.wrapped)

    def polygamma(self, n: int) -> JaxTensor:
        """torch's ``x.polygamma(n)`` is ``jax.scipy.special.polygamma(n, x)``."""
        return JaxTensor(importlib.import_module("jax.scipy.special").polygamma(n, self.wrapped))

    def mvlgamma(self, p: int) -> JaxTensor:
        """torch's ``x.mvlgamma(p)`` is ``jax.scipy.special.multigammaln(x, d=p)``."""
        return JaxTensor(importlib.import_module("jax.scipy.special").multigammaln(self.wrapped, p))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> JaxTensor:
        """JAX's ``ravel`` flattens every dimension; torch's dims are a ``reshape``."""
        shape = self.shape
        end = end_dim % len(shape) if shape else 0
        return JaxTensor(self.wrapped.reshape(*shape[:start_dim], -1, *shape[end + 1 :]))


#: torch's elementwise tensor methods that are JAX functions, by torch's name: ``module:function``
ELEMENTWISE = {
    **{
        name: f"jax.numpy:{numpy_spelling(name)}"
        for name in [
            "cos",
            "tan",
            "sinh",
            "cosh",
            "abs",
            "sqrt",
            "expm1",
            "log1p",
            "log2",
            "log10",
            "exp2",
            "sinc",
            "reciprocal",
            "square",
            "deg2rad",
            "rad2deg",
            "nan_to_num",
            "clip",
            "maximum",
            "minimum",
            "fmax",
            "fmin",
            "hypot",
            "fmod",
            "remainder",
            "copysign",
            "logaddexp",
            "logaddexp2",
            "float_power",
            "asin",
            "acos",
            "atan",
            "asinh",
            "acosh",
            "atanh",
            "atan2",
            "neg",
        ]
    },
    "clamp": "jax.numpy:clip",
    "rsqrt": "jax.lax:rsqrt",
    "relu": "jax.nn:relu",
    **{name: f"jax.scipy.special:{name}" for name in ["erf", "erfc", "erfinv", "digamma", "logit", "i0", "xlogy"]},
    "lgamma": "jax.scipy.special:gammaln",
}


def _function(path: str) -> Any:
    module, _, name = path.partition(":")
    _jax()
    return getattr(importlib.import_module(module), name)


translate(JaxTensor, _function, ELEMENTWISE)


def _spatial(size: Any, dims: int) -> tuple[int, ...]:
    """torch's ``kernel_size=3`` or ``(3, 2)`` of a ``dims``-d operator, as the tuple JAX's operators take."""
    return (size,) * dims if isinstance(size, int) else tuple(size)


def _pool_padding(shape: tuple[int, ...], kernel: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool):
    """torch's symmetric pooling ``padding`` as ``(low, high)`` pairs of ``lax.reduce_window``: with ``ceil_mode``
    the high side grows to take in the last partial window, unless it would start in the padding (torch's rule)."""
    pads = []
    for size, k, s, p, d in zip(shape, kernel, stride, padding, dilation, strict=True):
        span = d * (k - 1) + 1
        windows = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (windows - 1) * s >= size + p:
            windows -= 1
        pads.append((p, max(p, (windows - 1) * s + span - size - p)))
    return pads


def _refuse(operator: str, option: str, value: Any, default: Any) -> None:
    """NotImplementedError naming JAX's ``operator`` and the ``option`` it lacks, where ``value`` asks for it."""
    if value != default:
        raise NotImplementedError(f"JAX's {operator} has no {option} option (asked for {option}={value!r})")


def _functional() -> types.SimpleNamespace:
    """torch's ``nn.functional`` operators as JAX's own operators (see the module docstring)."""
    jax = _jax()
    jnp, lax, nn, unwrap = jax.numpy, jax.lax, jax.nn, JaxTensor.unwrap

    def elementwise(function: Any, **renamed: str) -> Any:
        """torch's ``fn(input, **options)`` as JAX's ``function(x, **options)``, options renamed as ``renamed``."""

        def operator(input: Any, *args: Any, **options: Any) -> JaxTensor:
            return JaxTensor(function(unwrap(input), *args, **{renamed.get(k, k): v for k, v in options.items()}))

        return operator

    def with_bias(out: Any, bias: Any) -> Any:
        """``bias`` added per channel (dimension 1) of ``out``, as torch's convolutions take it."""
        return out if bias is None else out + unwrap(bias).reshape(-1, *(1,) * (out.ndim - 2))

    def affine(out: Any, weight: Any, bias: Any, shape: tuple[int, ...]) -> JaxTensor:
        """A normalisation's optional ``weight`` and ``bias`` in ``shape`` (torch's elementwise affine)."""
        if weight is not None:
            out = out * unwrap(weight).reshape(shape)
        if bias is not None:
            out = out + unwrap(bias).reshape(shape)
        return JaxTensor(out)

    def standardize(x: Any, axes: tuple[int, ...], eps: float, **statistics: Any) -> Any:
        """``jax.nn.standardize`` with the two-pass variance, the biased variance torch normalises with."""
        return nn.standardize(x, axes, epsilon=eps, algorithm="stable", **statistics)

    def gelu(input: Any, approximate: str = "none") -> JaxTensor:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")
        return JaxTensor(nn.gelu(unwrap(input), approximate=approximate == "tanh"))

    def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0) -> JaxTensor:
        if (min_val, max_val) != (-1, 1):
            raise NotImplementedError(f"JAX's jax.nn.hard_tanh clips to [-1, 1] only, not [{min_val}, {max_val}]")
        return JaxTensor(nn.hard_tanh(unwrap(input)))

    def convolution(dims: int) -> Any:
        """torch's ``conv{dims}d`` (NC... inputs, OI... weights) as ``lax.conv_general_dilated``."""
        spec = "NC" + "DHW"[3 - dims :]
        numbers = (spec, "OI" + spec[2:], spec)

        def conv(
            input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups=1
        ) -> JaxTensor:
            pads = padding.upper() if isinstance(padding, str) else [(p, p) for p in _spatial(padding, dims)]
            out = lax.conv_general_dilated(
                unwrap(input),
                unwrap(weight),
                _spatial(stride, dims),
                pads,
                rhs_dilation=_spatial(dilation, dims),
                dimension_numbers=numbers,
                feature_group_count=groups,
            )
            return JaxTensor(with_bias(out, bias))

        return conv

    def transposed_convolution(dims: int) -> Any:
        """torch's ``conv_transpose{dims}d`` as ``lax.conv_general_dilated`` with ``lhs_dilation`` (JAX's transposed
        convolution, as ``lax.conv_transpose`` computes it, which has no groups): torch's ``[in, out/groups, k...]``
        weight in JAX's ``[out, in/groups, k...]`` layout, spatially flipped, and torch's padding as the padding of
        the dilated input."""
        spec = "NC" + "DHW"[3 - dims :]
        numbers = (spec, "OI" + spec[2:], spec)

        def conv_transpose(
            input: Any,
            weight: Any,
            bias: Any = None,
            stride: Any = 1,
            padding: Any = 0,
            output_padding: Any = 0,
            groups: int = 1,
            dilation: Any = 1,
        ) -> JaxTensor:
            w = unwrap(weight)
            inputs, outputs, *kernel = w.shape
            w = w.reshape(groups, inputs // groups, outputs, *kernel).swapaxes(1, 2)
            w = jnp.flip(w.reshape(groups * outputs, inputs // groups, *kernel), axis=tuple(range(2, 2 + dims)))
            dilation = _spatial(dilation, dims)
            pads = [
                (d * (k - 1) - p, d * (k - 1) - p + extra)
                for k, p, extra, d in zip(
                    kernel, _spatial(padding, dims), _spatial(output_padding, dims), dilation, strict=True
                )
            ]
            out = lax.conv_general_dilated(
                unwrap(input),
                w,
                (1,) * dims,
                pads,
                lhs_dilation=_spatial(stride, dims),
                rhs_dilation=dilation,
                dimension_numbers=numbers,
                feature_group_count=groups,
            )
            return JaxTensor(with_bias(out, bias))

        return conv_transpose

    def reduce_window_arguments(
        x: Any, dims: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool
    ):
        """``lax.reduce_window``'s window, strides, padding and dilation for torch's pooling arguments."""
        kernel = _spatial(kernel_size, dims)
        strides = _spatial(stride, dims) if stride else kernel
        dilation = _spatial(dilation, dims)
        pads = _pool_padding(x.shape[2:], kernel, strides, _spatial(padding, dims), dilation, ceil_mode)
        return (1, 1, *kernel), (1, 1, *strides), [(0, 0), (0, 0), *pads], (1, 1, *dilation)

    def max_pool(dims: int) -> Any:
        """torch's ``max_pool{dims}d`` as ``lax.reduce_window`` with ``max``, padding with -inf."""

        def pool(
            input: Any,
            kernel_size: Any,
            stride: Any = None,
            padding: Any = 0,
            dilation: Any = 1,
            ceil_mode: bool = False,
            return_indices: bool = False,
        ) -> JaxTensor:
            _refuse("lax.reduce_window", "return_indices", return_indices, False)
            x = unwrap(input)
            window, strides, pads, dilation = reduce_window_arguments(
                x, dims, kernel_size, stride, padding, dilation, ceil_mode
            )
            return JaxTensor(lax.reduce_window(x, -jnp.inf, lax.max, window, strides, pads, window_dilation=dilation))

        return pool

    def avg_pool(dims: int) -> Any:
        """torch's ``avg_pool{dims}d`` as ``lax.reduce_window`` with ``add`` over the window, divided by the count
        torch divides by: the window's elements, zero padding included with ``count_include_pad`` (the ones
        counted are padded with ones), never the overhang of ``ceil_mode``."""

        def pool(
            input: Any,
            kernel_size: Any,
            stride: Any = None,
            padding: Any = 0,
            ceil_mode: bool = False,
            count_include_pad: bool = True,
            divisor_override: Any = None,
        ) -> JaxTensor:
            _refuse("lax.reduce_window", "divisor_override", divisor_override, None)
            x = unwrap(input)
            window, strides, pads, _ = reduce_window_arguments(x, dims, kernel_size, stride, padding, 1, ceil_mode)
            sums = lax.reduce_window(x, 0.0, lax.add, window, strides, pads)
            ones = jnp.ones_like(x)
            if count_include_pad:
                ones = jnp.pad(ones, [(low, low) for low, _ in pads], constant_values=1)
                pads = [(0, high - low) for low, high in pads]
            return JaxTensor(sums / lax.reduce_window(ones, 0.0, lax.add, window, strides, pads))

        return pool

    def batch_norm(
        input: Any,
        running_mean: Any,
        running_var: Any,
        weight: Any = None,
        bias: Any = None,
        training: bool = False,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> JaxTensor:
        """``jax.nn.standardize`` by batch statistics, or by the running ones in eval mode (JAX arrays are
        immutable: running statistics are not updated)."""
        x = unwrap(input)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        axes = (0, *range(2, x.ndim))
        if training:
            out = standardize(x, axes, eps)
        else:
            mean, var = unwrap(running_mean).reshape(shape), unwrap(running_var).reshape(shape)
            out = standardize(x, axes, eps, mean=mean, variance=var)
        return affine(out, weight, bias, shape)

    def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps=1e-5) -> JaxTensor:
        x, shape = unwrap(input), _spatial(normalized_shape, 1)
        return affine(standardize(x, tuple(range(x.ndim - len(shape), x.ndim)), eps), weight, bias, shape)

    def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps=1e-5) -> JaxTensor:
        x = unwrap(input)
        out = standardize(x.reshape(x.shape[0], num_groups, -1), (2,), eps).reshape(x.shape)
        return affine(out, weight, bias, (1, -1) + (1,) * (x.ndim - 2))

    def instance_norm(
        input: Any,
        running_mean: Any = None,
        running_var: Any = None,
        weight: Any = None,
        bias: Any = None,
        use_input_stats: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> JaxTensor:
        _refuse("jax.nn.standardize", "use_input_stats", use_input_stats, True)
        x = unwrap(input)
        return affine(standardize(x, tuple(range(2, x.ndim)), eps), weight, bias, (1, -1) + (1,) * (x.ndim - 2))

    def embedding(input: Any, weight: Any, padding_idx: Any = None, max_norm: Any = None, **options: Any):
        """``jnp.take`` of the weight's rows."""
        _refuse("jnp.take", "padding_idx", padding_idx, None)
        _refuse("jnp.take", "max_norm", max_norm, None)
        return JaxTensor(jnp.take(unwrap(weight), unwrap(input), axis=0))

    def pad(input: Any, pad: Any, mode: str = "constant", value: Any = None) -> JaxTensor:
        """``jnp.pad``: torch's flat (low, high) pairs from the last dimension back, its modes by NumPy's names."""
        x = unwrap(input)
        pairs = [(0, 0)] * (x.ndim - len(pad) // 2) + list(zip(pad[::2], pad[1::2], strict=True))[::-1]
        modes = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
        options = {"constant_values": value or 0} if mode == "constant" else {}
        return JaxTensor(jnp.pad(x, pairs, mode=modes[mode], **options))

    def scaled_dot_product_attention(
        query: Any,
        key: Any,
        value: Any,
        attn_mask: Any = None,
        dropout_p: float = 0.0,
        is_causal: bool = False,
        scale: Any = None,
        enable_gqa: bool = False,
    ) -> JaxTensor:
        """``jax.nn.dot_product_attention``: torch's ``(..., L, E)`` as JAX's ``(batch, L, heads=1, E)``, a float
        mask as JAX's additive ``bias``, a boolean one as its ``mask`` (True takes part in both)."""
        _refuse("jax.nn.dot_product_attention", "dropout_p", dropout_p, 0.0)
        _refuse("jax.nn.dot_product_attention", "enable_gqa", enable_gqa, False)
        q, k, v = unwrap(query), unwrap(key), unwrap(value)
        *batch, length, _ = q.shape

        def heads(x: Any) -> Any:
            return x.reshape(-1, x.shape[-2], 1, x.shape[-1])

        masks = {}
        if attn_mask is not None:
            m = jnp.broadcast_to(unwrap(attn_mask), (*batch, length, k.shape[-2])).reshape(-1, 1, length, k.shape[-2])
            masks["mask" if m.dtype == jnp.bool_ else "bias"] = m
        out = nn.dot_product_attention(heads(q), heads(k), heads(v), scale=scale, is_causal=is_causal, **masks)
        return JaxTensor(out.reshape(*batch, length, v.shape[-1]))

    def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> JaxTensor:
        """``lax.conv_general_dilated_patches`` (im2col; channel-major patches, as torch's), its output positions
        flattened into torch's one dimension."""
        x = unwrap(input)
        patches = lax.conv_general_dilated_patches(
            x,
            pair(kernel_size),
            pair(stride),
            [(p, p) for p in pair(padding)],
            rhs_dilation=pair(dilation),
            dimension_numbers=("NCHW", "OIHW", "NCHW"),
        )
        return JaxTensor(patches.reshape(x.shape[0], patches.shape[1], -1))

    def adaptive_avg_pool2d(input: Any, output_size: Any) -> JaxTensor:
        x, (out_h, out_w) = unwrap(input), pair(output_size)
        batch, channels, height, width = x.shape
        if height % out_h or width % out_w:
            raise NotImplementedError(
                f"JAX has no adaptive_avg_pool2d; the adapter pools {height}x{width} only to an output size that "
                f"divides it, not {out_h}x{out_w}"
            )
        windows = x.reshape(batch, channels, out_h, height // out_h, out_w, width // out_w)
        return JaxTensor(windows.mean(axis=(3, 5)))

    def linear(input: Any, weight: Any, bias: Any = None) -> JaxTensor:
        out = unwrap(input) @ unwrap(weight).T
        return JaxTensor(out if bias is None else out + unwrap(bias))

    def cross_entropy(input: Any, target: Any) -> JaxTensor:
        log_probabilities = jax.nn.log_softmax(unwrap(input), axis=1)
        picked = jnp.take_along_axis(log_probabilities, unwrap(target)[:, None], axis=1)
        return JaxTensor(-picked.mean())

    return types.SimpleNamespace(
        conv2d=convolution(2),
        batch_norm=batch_norm,
        relu=elementwise(nn.relu),
        max_pool2d=max_pool(2),
        adaptive_avg_pool2d=adaptive_avg_pool2d,
        linear=linear,
        cross_entropy=cross_entropy,
        # nn.functional.activations
        gelu=gelu,
        silu=elementwise(nn.silu),
        elu=elementwise(nn.elu),
        selu=elementwise(nn.selu),
        celu=elementwise(nn.celu),
        leaky_relu=elementwise(nn.leaky_relu),
        hardtanh=hardtanh,
        relu6=elementwise(nn.relu6),
        hardswish=elementwise(nn.hard_swish),
        hardsigmoid=elementwise(nn.hard_sigmoid),
        mish=elementwise(nn.mish),
        logsigmoid=elementwise(nn.log_sigmoid),
        softsign=elementwise(nn.soft_sign),
        glu=elementwise(nn.glu, dim="axis"),
        sigmoid=elementwise(nn.sigmoid),
        tanh=elementwise(nn.tanh),
        softmax=elementwise(nn.softmax, dim="axis"),
        log_softmax=elementwise(nn.log_softmax, dim="axis"),
        # nn.functional.conv
        conv1d=convolution(1),
        conv3d=convolution(3),
        conv_transpose1d=transposed_convolution(1),
        conv_transpose2d=transposed_convolution(2),
        conv_transpose3d=transposed_convolution(3),
        # nn.functional.pooling
        avg_pool1d=avg_pool(1),
        avg_pool2d=avg_pool(2),
        avg_pool3d=avg_pool(3),
        max_pool1d=max_pool(1),
        max_pool3d=max_pool(3),
        # nn.functional.normalization
        layer_norm=layer_norm,
        group_norm=group_norm,
        instance_norm=instance_norm,
        # nn.functional.layers
        embedding=embedding,
        pad=pad,
        scaled_dot_product_attention=scaled_dot_product_attention,
        unfold=unfold,
    )


#: ``nn.functional`` members JAX has no operator for, by family (the module docstring says why)
FUNCTIONAL_LACKS = {
    family: frozenset(f"functional.{name}" for name in names.split())
    for family, names in {
        cap.ACTIVATIONS: "softplus tanhshrink softshrink hardshrink threshold prelu softmin",
        cap.POOLING: "adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d "
        "adaptive_max_pool2d lp_pool1d lp_pool2d",
        cap.NORMALIZATION: "rms_norm local_response_norm normalize",
        cap.LAYERS: "interpolate bilinear pixel_shuffle pixel_unshuffle fold cosine_similarity pairwise_distance "
        "grid_sample affine_grid",
    }.items()
}


def _on_arrays(fn: Any) -> Any:
    """The spec's ``fn`` (written on proxies) as a function of JAX arrays, as JAX's transforms take it."""
    return lambda *arrays: JaxTensor.unwrap(fn(*(JaxTensor(array) for array in arrays)))


class JaxBackend(Backend):
    """JAX arrays on JAX's CPU device, float32 unless float64 is asked for."""

    engine = "jax"
    capabilities = frozenset(
        {cap.VJP, cap.JVP, cap.SECOND_ORDER, cap.FLOAT64, cap.TENSOR_MATH, cap.FUNCTIONAL, cap.UNARY, cap.BINARY}
        | {cap.ACTIVATIONS, cap.CONVOLUTIONS, cap.POOLING, cap.NORMALIZATION, cap.LAYERS}
    )
    #: torch methods JAX has no function for (``frac``: ``x - trunc(x)``; ``lerp``, ``addcmul``, ``addcdiv``:
    #: fused forms of arithmetic)
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: frozenset({"frac"}),
        cap.BINARY: frozenset({"lerp", "addcmul", "addcdiv"}),
        **FUNCTIONAL_LACKS,
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "jax.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._jax = _jax()
        self._jax.config.update("jax_enable_x64", True)
        self._cpu = self._jax.devices("cpu")[0]
        self.functional = _functional()

    @property
    def engine_version(self) -> str:
        return self._jax.__version__

    def tensor(self, data: Any, *, requires_grad: bool = False) -> JaxTensor:
        array = np.asarray(data)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        return JaxTensor(self._jax.device_put(array, self._cpu))

    def tensor64(self, data: Any, *, requires_grad: bool = False) -> JaxTensor:
        return JaxTensor(self._jax.device_put(np.asarray(data, dtype=np.float64), self._cpu))

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return np.array(JaxTensor.unwrap(tensor), copy=True)

    def vjp(self, fn: Any, primals: Any, cotangent: Any, *, create_graph: bool = False) -> tuple[Any, list]:
        """``jax.vjp``; its results are differentiable by an enclosing transform, so ``create_graph`` has
        nothing to add."""
        output, pullback = self._jax.vjp(_on_arrays(fn), *map(JaxTensor.unwrap, primals))
        return JaxTensor(output), [JaxTensor(grad) for grad in pullback(JaxTensor.unwrap(cotangent))]

    def jvp(self, fn: Any, primals: Any, tangents: Any) -> tuple[Any, Any]:
        unwrap = JaxTensor.unwrap
        output, tangent = self._jax.jvp(_on_arrays(fn), tuple(map(unwrap, primals)), tuple(map(unwrap, tangents)))
        return JaxTensor(output), JaxTensor(tangent)

    def global_state(self) -> dict[str, Any]:
        return {"jax_enable_x64": self._jax.config.jax_enable_x64}

    def restore_global_state(self, snapshot: dict[str, Any]) -> None:
        self._jax.config.update("jax_enable_x64", snapshot["jax_enable_x64"])
