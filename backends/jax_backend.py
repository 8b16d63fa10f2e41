"""JAX behind the contract (CPU): a functional engine, differentiated by ``jax.vjp`` and ``jax.jvp``.

JAX has no tape: no ``requires_grad``, no ``.grad``, no ``backward()``. It declares what it has, the functional
gradient path (``vjp``, ``jvp`` and, since its transforms compose, ``vjp.second-order``), ``float64``, the
tensor math, ``nn.functional`` (resnet18's operators) and the operator families it has functions for: the
unary and binary tensor operators; the reductions, shapes and indexing of tensors; torch's top-level functions
(``ops``) and ``torch.linalg``; and five ``nn.functional`` families: activations, convolutions, pooling,
normalization and layers. Each family lists the members JAX lacks in ``lacks``. The tape's specs, and
``nn.functional.losses`` (JAX has no loss functions: they live in optax, which is not JAX), are "unsupported".

Lacked in the tensor families, since JAX has no function for them: ``frac``; ``lerp``, ``addcmul``,
``addcdiv``, ``ops.baddbmm``, ``ops.addmm`` and ``ops.addmv`` (fused forms of arithmetic); ``dist`` (the norm
of a difference) and ``ops.cdist`` (pairwise distances); ``unfold`` (sliding windows of one dimension);
``ops.cartesian_prod``; ``ops.cumulative_trapezoid`` (``jax.scipy.integrate`` has ``trapezoid`` only);
``ops.logdet`` (``slogdet`` is a sign and log|det|; torch's ``logdet`` is NaN for a negative determinant).

Translations: ``vjp`` and ``jvp`` are ``jax.vjp`` and ``jax.jvp`` of the spec's function seen on proxies;
``log``/``sin``/``tanh``/... are ``jax.numpy``'s functions, ``sigmoid`` is ``jax.nn.sigmoid``, reductions
take ``axis``/``keepdims``, ``std``/``var`` ``ddof=correction``. Names that are not torch's:
``repeat`` is ``jnp.tile``, ``transpose`` ``swapaxes``, ``movedim`` ``moveaxis``, ``unsqueeze``
``expand_dims``, ``repeat_interleave`` ``repeat``, ``tensor_split`` ``array_split``, ``gather`` and
``take_along_dim`` ``take_along_axis``, ``index_select`` ``take``, ``scatter`` ``put_along_axis``,
``logcumsumexp``/``cummax``/``cummin`` ``lax.cumlogsumexp``/``cummax``/``cummin``, ``narrow``
``lax.slice_in_dim``, ``masked_fill`` ``jnp.where``, ``view`` ``reshape`` (a JAX array has no storage to
share), ``contiguous`` the array itself (it has no strides), ``median`` ``jnp.quantile(method="lower")`` (torch
takes the lower middle value, ``jnp.median`` averages), ``diag_embed`` ``jnp.diag`` batched by
``jnp.vectorize``; ``scatter_add``/``scatter_reduce``/``index_add``/``index_copy``/``index_fill``/``index_put``
are JAX's functional index updates ``.at[...].add/multiply/max/min/set`` at the positions torch's index names;
``ops.cat`` is ``concatenate``, ``bmm`` ``lax.batch_matmul``, ``mm``/``mv`` ``matmul``, ``block_diag`` and
``linalg.matrix_exp`` ``jax.scipy.linalg``'s ``block_diag`` and ``expm``, ``linalg.solve_triangular``
``jax.scipy.linalg.solve_triangular(lower=not upper)``; ``linalg.cholesky``/``eigvalsh`` read the lower
triangle as torch does (no ``symmetrize_input``). torch's ``(values, indices)`` of ``max``/``min`` over a dim
has ``argmax``/``argmin``'s indices; ``cummax``, ``cummin`` and ``median`` over a dim give values only (JAX
computes no indices: asking for them is refused). Options JAX lacks are refused with NotImplementedError
(``scatter_reduce`` "mean", ``index_add(alpha=)``, ``put(accumulate=True)``, ``pinv(atol=)``, an index
smaller than the tensor in ``gather``/``scatter``, which JAX would broadcast).

``nn.functional`` is JAX's own operators with torch's signatures and layouts (NC... inputs, OI... weights,
``[out, in]`` linear weights):

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import capabilities as cap
from .batching import unbatched
from .contract import Backend, import_engine
from .proxy import TensorProxy, numpy_spelling, pair, torch_chunks, translate


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

    # --- reductions, shapes and indexing whose arguments JAX spells otherwise (the rest: AXIS_METHODS) -------
    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """``jnp.max``; over a dimension torch also returns the indices, ``jnp.argmax``'s."""
        jnp = _jax().numpy
        if dim is None:
            return JaxTensor(jnp.max(self.wrapped))
        return ValuesIndices(
            "max", jnp.max(self.wrapped, axis=dim, keepdims=keepdim), jnp.argmax(self.wrapped, dim, keepdims=keepdim)
        )

    def min(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """``jnp.min``; over a dimension torch also returns the indices, ``jnp.argmin``'s."""
        jnp = _jax().numpy
        if dim is None:
            return JaxTensor(jnp.min(self.wrapped))
        return ValuesIndices(
            "min", jnp.min(self.wrapped, axis=dim, keepdims=keepdim), jnp.argmin(self.wrapped, dim, keepdims=keepdim)
        )

    def cummax(self, dim: int) -> ValuesIndices:
        """``lax.cummax``: the running maxima, without their indices (JAX computes none)."""
        return ValuesIndices("cummax", _jax().lax.cummax(self.wrapped, axis=dim % self.wrapped.ndim))

    def cummin(self, dim: int) -> ValuesIndices:
        """``lax.cummin``: the running minima, without their indices (JAX computes none)."""
        return ValuesIndices("cummin", _jax().lax.cummin(self.wrapped, axis=dim % self.wrapped.ndim))

    def logcumsumexp(self, dim: int) -> JaxTensor:
        """``lax.cumlogsumexp``."""
        return JaxTensor(_jax().lax.cumlogsumexp(self.wrapped, axis=dim % self.wrapped.ndim))

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """torch's median is the lower of the two middle values of an even count: ``jnp.quantile`` at 0.5 with
        ``method="lower"`` (``jnp.median`` averages them); over a dimension without indices (JAX computes none)."""
        values = _jax().numpy.quantile(self.wrapped, 0.5, axis=dim, keepdims=keepdim, method="lower")
        return JaxTensor(values) if dim is None else ValuesIndices("median", values)

    def std(self, dim: Any = None, *, correction: int = 1, keepdim: bool = False) -> JaxTensor:
        """``jnp.std`` with ``ddof=correction`` (torch corrects by one by default, JAX by zero); torch's older
        ``std(unbiased)`` is ``correction=int(unbiased)``."""
        if isinstance(dim, bool):
            dim, correction = None, int(dim)
        return JaxTensor(_jax().numpy.std(self.wrapped, axis=dim, ddof=correction, keepdims=keepdim))

    def var(self, dim: Any = None, *, correction: int = 1, keepdim: bool = False) -> JaxTensor:
        """``jnp.var`` with ``ddof=correction`` (see :meth:`std`)."""
        if isinstance(dim, bool):
            dim, correction = None, int(dim)
        return JaxTensor(_jax().numpy.var(self.wrapped, axis=dim, ddof=correction, keepdims=keepdim))

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> JaxTensor:
        """torch's ``norm`` of a number ``p`` (``"fro"`` is 2) is the vector norm over ``dim`` (every element
        when None): ``jnp.linalg.vector_norm``; the nuclear norm is ``jnp.linalg.norm(ord="nuc")``."""
        linalg = _jax().numpy.linalg
        if p == "nuc":
            return JaxTensor(linalg.norm(self.wrapped, ord="nuc", axis=dim, keepdims=keepdim))
        order = 2 if p in ("fro", None) else p
        return JaxTensor(linalg.vector_norm(self.wrapped, ord=order, axis=dim, keepdims=keepdim))

    def view(self, *shape: Any) -> JaxTensor:
        """JAX arrays are immutable values, without storage to share: a view is ``reshape``."""
        return JaxTensor(self.wrapped.reshape(*shape))

    def permute(self, *dims: Any) -> JaxTensor:
        """``jnp.transpose`` with the axes' order, given as torch's arguments or one tuple."""
        return JaxTensor(_jax().numpy.transpose(self.wrapped, _sizes(dims)))

    def t(self) -> JaxTensor:
        """``jnp.transpose`` of a matrix (torch's ``t`` takes at most two dimensions)."""
        if self.wrapped.ndim > 2:
            raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is {self.wrapped.ndim}D")
        return JaxTensor(_jax().numpy.transpose(self.wrapped))

    @property
    def mT(self) -> JaxTensor:
        """JAX arrays' own ``mT``."""
        return JaxTensor(self.wrapped.mT)

    def expand(self, *sizes: Any) -> JaxTensor:
        """``jnp.broadcast_to``; torch's size -1 keeps the dimension's size."""
        sizes = _sizes(sizes)
        kept = (0,) * (len(sizes) - self.wrapped.ndim) + self.wrapped.shape
        shape = tuple(old if new == -1 else new for new, old in zip(sizes, kept, strict=True))
        return JaxTensor(_jax().numpy.broadcast_to(self.wrapped, shape))

    def expand_as(self, other: Any) -> JaxTensor:
        """``jnp.broadcast_to`` the other tensor's shape."""
        return JaxTensor(_jax().numpy.broadcast_to(self.wrapped, other.shape))

    def squeeze(self, dim: Any = None) -> JaxTensor:
        """``jnp.squeeze``; torch leaves a named dimension whose size is not 1 as it is, where JAX refuses it."""
        if dim is None:
            return JaxTensor(_jax().numpy.squeeze(self.wrapped))
        ndim = self.wrapped.ndim
        axes = tuple(d % ndim for d in ((dim,) if isinstance(dim, int) else dim) if self.wrapped.shape[d] == 1)
        return JaxTensor(_jax().numpy.squeeze(self.wrapped, axis=axes))

    def repeat(self, *sizes: Any) -> JaxTensor:
        """torch's ``repeat`` is NumPy's ``tile``: ``jnp.tile``."""
        return JaxTensor(_jax().numpy.tile(self.wrapped, _sizes(sizes)))

    def unbind(self, dim: int = 0) -> list[JaxTensor]:
        """``jnp.unstack``."""
        return [JaxTensor(part) for part in _jax().numpy.unstack(self.wrapped, axis=dim)]

    def split(self, split_size_or_sections: Any, dim: int = 0) -> list[JaxTensor]:
        """``jnp.split`` at the offsets torch's part size (the last part smaller) or part sizes imply."""
        length = self.wrapped.shape[dim]
        if isinstance(split_size_or_sections, int):
            offsets = range(split_size_or_sections, length, split_size_or_sections)
        else:
            offsets = np.cumsum(split_size_or_sections)[:-1].tolist()
        return [JaxTensor(part) for part in _jax().numpy.split(self.wrapped, list(offsets), axis=dim)]

    chunk = torch_chunks

    def narrow(self, dim: int, start: int, length: int) -> JaxTensor:
        """``lax.slice_in_dim``."""
        start %= self.wrapped.shape[dim]
        return JaxTensor(_jax().lax.slice_in_dim(self.wrapped, start, start + length, axis=dim))

    def contiguous(self) -> JaxTensor:
        """The array itself, as torch returns a tensor that is contiguous already: a JAX array has no strides
        (XLA lays out every result), so there is no copy to make."""
        return self

    def unflatten(self, dim: int, sizes: Any) -> JaxTensor:
        """``reshape`` of dimension ``dim`` into ``sizes``."""
        shape = self.wrapped.shape
        dim %= len(shape)
        return JaxTensor(self.wrapped.reshape(*shape[:dim], *sizes, *shape[dim + 1 :]))

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> JaxTensor:
        """``jnp.diagonal`` with torch's dims as ``axis1``/``axis2``."""
        return JaxTensor(_jax().numpy.diagonal(self.wrapped, offset, dim1, dim2))

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> JaxTensor:
        """``jnp.diag`` of each vector of the last dimension, batched by ``jnp.vectorize`` (JAX's batching of a
        function over leading dimensions); other dims than the last two are refused."""
        ndim = self.wrapped.ndim + 1
        if (dim1 % ndim, dim2 % ndim) != (ndim - 2, ndim - 1):
            raise NotImplementedError("the JAX adapter embeds diagonals in the last two dimensions only")
        jnp = _jax().numpy
        return JaxTensor(jnp.vectorize(lambda v: jnp.diag(v, offset), signature="(n)->(m,m)")(self.wrapped))

    def rot90(self, k: int = 1, dims: Any = (0, 1)) -> JaxTensor:
        """``jnp.rot90`` with torch's dims as ``axes``."""
        return JaxTensor(_jax().numpy.rot90(self.wrapped, k, axes=tuple(dims)))

    def gather(self, dim: int, index: Any) -> JaxTensor:
        """``jnp.take_along_axis``. torch reads only the leading part of the other dimensions where the index
        is smaller; JAX would broadcast it instead, so such an index is refused."""
        index = self.unwrap(index)
        _same_other_dims("gather", self.wrapped, index, dim)
        return JaxTensor(_jax().numpy.take_along_axis(self.wrapped, index, axis=dim))

    def take_along_dim(self, indices: Any, dim: int | None = None) -> JaxTensor:
        """``jnp.take_along_axis`` with ``axis=dim``: torch's default (None) takes from the flattened tensor, JAX's
        default is the last axis."""
        return JaxTensor(_jax().numpy.take_along_axis(self.wrapped, self.unwrap(indices), axis=dim))

    def scatter(self, dim: int, index: Any, src: Any) -> JaxTensor:
        """``jnp.put_along_axis`` (``inplace=False``: JAX arrays are immutable) of the part of ``src`` the index
        covers."""
        index, src = self.unwrap(index), self.unwrap(src)
        _same_other_dims("scatter", self.wrapped, index, dim)
        covered = src[tuple(slice(0, size) for size in index.shape)] if hasattr(src, "shape") else src
        return JaxTensor(_jax().numpy.put_along_axis(self.wrapped, index, covered, axis=dim, inplace=False))

    def scatter_add(self, dim: int, index: Any, src: Any) -> JaxTensor:
        """JAX's scatter-add, ``.at[...].add``, at the positions torch's ``index`` names along ``dim``."""
        return self.scatter_reduce(dim, index, src, "sum")

    def scatter_reduce(self, dim: int, index: Any, src: Any, reduce: str, *, include_self: bool = True) -> JaxTensor:
        """JAX's scatter of ``.at[...]``: ``add``, ``multiply``, ``max`` or ``min`` for torch's ``sum``, ``prod``,
        ``amax`` and ``amin`` at the positions ``index`` names along ``dim``; JAX has no scatter-mean and no
        scatter that leaves out the tensor's own values."""
        updates = {"sum": "add", "prod": "multiply", "amax": "max", "amin": "min"}
        if reduce not in updates or not include_self:
            raise NotImplementedError(
                f"JAX has no scatter {reduce!r} with include_self={include_self}: only {sorted(updates)} including "
                "the tensor's own values"
            )
        index, src = self.unwrap(index), self.unwrap(src)
        _same_other_dims(f"scatter {reduce}", self.wrapped, index, dim)
        coordinates = list(_jax().numpy.indices(index.shape, sparse=True))
        coordinates[dim] = index
        covered = src[tuple(slice(0, size) for size in index.shape)]
        return JaxTensor(getattr(self.wrapped.at[tuple(coordinates)], updates[reduce])(covered))

    def index_select(self, dim: int, index: Any) -> JaxTensor:
        """``jnp.take`` along ``axis=dim``."""
        return JaxTensor(_jax().numpy.take(self.wrapped, self.unwrap(index), axis=dim))

    def index_add(self, dim: int, index: Any, source: Any, *, alpha: float = 1) -> JaxTensor:
        """``.at[..., index].add(source)``; JAX's scatter-add has no scale (``alpha``)."""
        if alpha != 1:
            raise NotImplementedError("JAX's .at[].add has no alpha: the JAX adapter adds the source unscaled only")
        return JaxTensor(self.wrapped.at[_along(self.wrapped, dim, self.unwrap(index))].add(self.unwrap(source)))

    def index_copy(self, dim: int, index: Any, source: Any) -> JaxTensor:
        """``.at[..., index].set(source)``."""
        return JaxTensor(self.wrapped.at[_along(self.wrapped, dim, self.unwrap(index))].set(self.unwrap(source)))

    def index_fill(self, dim: int, index: Any, value: Any) -> JaxTensor:
        """``.at[..., index].set(value)``."""
        return JaxTensor(self.wrapped.at[_along(self.wrapped, dim, self.unwrap(index))].set(self.unwrap(value)))

    def put(self, index: Any, source: Any, accumulate: bool = False) -> JaxTensor:
        """``jnp.put`` (``inplace=False``) into the flattened tensor; JAX's put does not accumulate."""
        if accumulate:
            raise NotImplementedError("jnp.put does not accumulate: the JAX adapter puts with accumulate=False only")
        return JaxTensor(_jax().numpy.put(self.wrapped, self.unwrap(index), self.unwrap(source), inplace=False))

    def index_put(self, indices: Any, values: Any, accumulate: bool = False) -> JaxTensor:
        """``.at[indices].set(values)``, or ``.add`` when accumulating: JAX's own functional index update."""
        at = self.wrapped.at[tuple(self.unwrap(index) for index in indices)]
        return JaxTensor(at.add(self.unwrap(values)) if accumulate else at.set(self.unwrap(values)))

    def masked_fill(self, mask: Any, value: Any) -> JaxTensor:
        """``jnp.where(mask, value, x)``: the selection that torch's masked_fill is, as JAX spells it."""
        return JaxTensor(_jax().numpy.where(self.unwrap(mask), self.unwrap(value), self.wrapped))

    def masked_select(self, mask: Any) -> JaxTensor:
        """Boolean-mask indexing of the tensor and mask broadcast together (JAX's ``x[mask]``, outside ``jit``)."""
        jnp = _jax().numpy
        x, mask = jnp.broadcast_arrays(self.wrapped, self.unwrap(mask))
        return JaxTensor(x[mask])


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


class ValuesIndices:
    """torch's ``(values, indices)`` result of ``max``/``min`` over a dimension, ``cummax``/``cummin`` and
    ``median`` over a dimension, by position or by name. JAX computes the indices of a maximum or minimum
    (``argmax``/``argmin``) but none of a running maximum or of a median: asking for those is refused."""

    def __init__(self, operator: str, values: Any, indices: Any = None) -> None:
        self.operator, self.values, self._indices = operator, JaxTensor(values), indices

    @property
    def indices(self) -> JaxTensor:
        if self._indices is None:
            raise NotImplementedError(
                f"JAX's {self.operator} gives no indices: the JAX adapter returns its values only"
            )
        return JaxTensor(self._indices)

    def __getitem__(self, position: int) -> JaxTensor:
        if position in (0, -2):
            return self.values
        if position in (1, -1):
            return self.indices
        raise IndexError(f"{self.operator} gives (values, indices): no item {position}")

    def __iter__(self) -> Iterator[JaxTensor]:
        return iter((self.values, self.indices))


def _sizes(sizes: tuple) -> tuple:
    """torch's sizes given one by one (``expand(2, 3)``) or as one sequence (``expand((2, 3))``), as a tuple."""
    return tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes


def _same_other_dims(operator: str, x: Any, index: Any, dim: int) -> None:
    """Refuse an index that differs from ``x`` in a dimension other than ``dim``, where torch reads or writes the
    leading part of that dimension and JAX's ``take_along_axis``/``put_along_axis`` would broadcast the index."""
    dim %= x.ndim
    if index.ndim != x.ndim or any(index.shape[d] != x.shape[d] for d in range(x.ndim) if d != dim):
        raise NotImplementedError(
            f"the JAX adapter's {operator} takes an index of the tensor's size {x.shape} in every dimension but "
            f"{dim}, not {index.shape}"
        )


def _along(x: Any, dim: int, index: Any) -> tuple:
    """The ``.at[...]`` position of ``index`` along dimension ``dim`` of ``x`` (every element of the others)."""
    return (slice(None),) * (dim % x.ndim) + (index,)


def _unwrap_all(value: Any) -> Any:
    """Proxies unwrapped, inside lists and tuples too (``ops.cat([x, y])``)."""
    if isinstance(value, list | tuple):
        return type(value)(map(_unwrap_all, value))
    return JaxTensor.unwrap(value)


def _wrap_all(value: Any) -> Any:
    """JAX arrays wrapped, inside lists and tuples too (``split``'s parts, ``slogdet``'s pair) as a list."""
    if isinstance(value, list | tuple):
        return [_wrap_all(item) for item in value]
    return JaxTensor.wrap(value)


def _with_keywords(renames: dict[str, str]) -> Any:
    """For :func:`translate` and the namespaces: the JAX function at a ``module:function`` path, called with the
    arguments in torch's order, torch's keywords renamed as JAX spells them (``dim`` is ``axis``)."""

    def function(path: str) -> Any:
        engine_function = _function(path)

        def call(*args: Any, **kwargs: Any) -> Any:
            keywords = {renames.get(key, key): _unwrap_all(value) for key, value in kwargs.items()}
            return _wrap_all(engine_function(*map(_unwrap_all, args), **keywords))

        return call

    return function


#: torch's reductions with ``keepdim`` that are JAX functions, by torch's name: ``module:function`` taking
#: ``axis`` and ``keepdims``
REDUCING = {
    **{name: f"jax.numpy:{name}" for name in ["prod", "amax", "amin", "nansum", "nanmean"]},
    "logsumexp": "jax.scipy.special:logsumexp",
}


def _reducing(torch_name: str, path: str) -> Any:
    """torch's reduction ``torch_name(dim=None, keepdim=False)`` as JAX's at ``path`` (a method of its own, since
    torch's positional ``keepdim`` is another argument of JAX's: ``dtype`` of ``jnp.prod``)."""

    def method(self: JaxTensor, dim: Any = None, keepdim: bool = False) -> JaxTensor:
        return JaxTensor(_function(path)(self.wrapped, axis=dim, keepdims=keepdim))

    method.__name__ = torch_name
    return method


for _name, _path in REDUCING.items():
    setattr(JaxTensor, _name, _reducing(_name, _path))

#: torch's other reductions, shape and index methods that are JAX functions taking torch's arguments in torch's
#: order, by torch's name: ``module:function`` (torch's ``transpose`` is ``swapaxes``, its ``unsqueeze``
#: ``expand_dims``)
AXIS_METHODS = {
    **{
        name: f"jax.numpy:{name}"
        for name in [
            "cumsum",
            "cumprod",
            "trace",
            "diff",
            "flip",
            "fliplr",
            "flipud",
            "roll",
            "tile",
            "swapaxes",
            "tril",
            "triu",
            "diag",
            "take",
        ]
    },
    "transpose": "jax.numpy:swapaxes",
    "movedim": "jax.numpy:moveaxis",
    "unsqueeze": "jax.numpy:expand_dims",
    "repeat_interleave": "jax.numpy:repeat",
    "tensor_split": "jax.numpy:array_split",
}
#: torch's keywords of those methods as JAX spells them
AXIS_KEYWORDS = {"dim": "axis", "dims": "axis", "shifts": "shift", "diagonal": "k"}

translate(JaxTensor, _with_keywords(AXIS_KEYWORDS), AXIS_METHODS)

#: torch's top-level functions (``ops``) that are JAX functions, by torch's name: ``module:function``
OPS = {
    **{
        name: f"jax.numpy:{name}"
        for name in [
            "stack",
            "hstack",
            "vstack",
            "dstack",
            "column_stack",
            "where",
            "einsum",
            "dot",
            "outer",
            "inner",
            "kron",
            "tensordot",
            "broadcast_to",
            "atleast_2d",
            "trapezoid",
        ]
    },
    "cat": "jax.numpy:concatenate",
    "bmm": "jax.lax:batch_matmul",
    "mm": "jax.numpy:matmul",
    "mv": "jax.numpy:matmul",
    "block_diag": "jax.scipy.linalg:block_diag",
    "clamp": "jax.numpy:clip",
}
#: ``torch.linalg``'s functions that are JAX functions, by torch's name: ``module:function``
LINALG = {
    **{
        name: f"jax.numpy.linalg:{name}"
        for name in [
            "solve",
            "inv",
            "det",
            "slogdet",
            "norm",
            "svdvals",
            "matrix_power",
            "multi_dot",
            "cross",
            "vecdot",
        ]
    },
    "matrix_exp": "jax.scipy.linalg:expm",
}


def _namespace(table: dict[str, str], renames: dict[str, str]) -> types.SimpleNamespace:
    """The JAX functions of ``table`` under torch's names, taking torch's keywords."""
    function = _with_keywords(renames)
    return types.SimpleNamespace(**{name: function(path) for name, path in table.items()})


def _ops() -> types.SimpleNamespace:
    """torch's top-level functions as JAX's (see the module docstring)."""
    ops = _namespace(OPS, {"dim": "axis", "dims": "axes"})

    def cross(input: Any, other: Any, dim: int | None = None) -> JaxTensor:
        """``jnp.cross`` along ``axis=dim``. Without ``dim`` torch crosses along the first dimension of size 3
        (deprecated) and JAX along the last: the adapter asks for ``dim``."""
        if dim is None:
            raise NotImplementedError("the JAX adapter's cross needs dim (torch's default differs from JAX's)")
        return JaxTensor(_jax().numpy.cross(JaxTensor.unwrap(input), JaxTensor.unwrap(other), axis=dim))

    ops.cross = cross
    return ops


def _linalg() -> types.SimpleNamespace:
    """``torch.linalg`` as ``jax.numpy.linalg`` and ``jax.scipy.linalg`` (see the module docstring)."""
    linalg = _namespace(LINALG, {"dim": "axis", "keepdim": "keepdims"})
    unwrap = JaxTensor.unwrap

    def eigvalsh(A: Any, UPLO: str = "L") -> JaxTensor:
        """``jnp.linalg.eigvalsh`` of the triangle ``UPLO`` names, as torch reads it: without JAX's default
        symmetrization of the whole matrix."""
        return JaxTensor(_function("jax.numpy.linalg:eigvalsh")(unwrap(A), UPLO=UPLO, symmetrize_input=False))

    def solve_triangular(A: Any, B: Any, *, upper: bool, left: bool = True, unitriangular: bool = False) -> JaxTensor:
        """``jax.scipy.linalg.solve_triangular`` with ``lower=not upper``; it solves ``AX = B`` only."""
        if not left:
            raise NotImplementedError("jax.scipy.linalg.solve_triangular solves AX = B only, not XA = B (left=False)")
        solve = _function("jax.scipy.linalg:solve_triangular")
        return JaxTensor(solve(unwrap(A), unwrap(B), lower=not upper, unit_diagonal=unitriangular))

    def cholesky(A: Any, *, upper: bool = False) -> JaxTensor:
        """``jnp.linalg.cholesky`` of the lower triangle, as torch reads it: without JAX's default symmetrization."""
        return JaxTensor(_jax().numpy.linalg.cholesky(unwrap(A), upper=upper, symmetrize_input=False))

    def vector_norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False) -> JaxTensor:
        """``jnp.linalg.vector_norm``, whose arguments after the tensor are keywords only."""
        return JaxTensor(_jax().numpy.linalg.vector_norm(unwrap(x), ord=ord, axis=dim, keepdims=keepdim))

    def matrix_norm(A: Any, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False) -> JaxTensor:
        """``jnp.linalg.matrix_norm``, of the last two dimensions only."""
        if tuple(dim) != (-2, -1):
            raise NotImplementedError("jnp.linalg.matrix_norm takes the norm of the last two dimensions only")
        return JaxTensor(_jax().numpy.linalg.matrix_norm(unwrap(A), ord=ord, keepdims=keepdim))

    def pinv(A: Any, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> JaxTensor:
        """``jnp.linalg.pinv``, with torch's default cutoff for small singular values (``rtol`` the precision's
        epsilon times the larger dimension; JAX's default is ten times that). JAX has no absolute cutoff."""
        if atol is not None:
            raise NotImplementedError("jnp.linalg.pinv has no atol: the JAX adapter takes rtol only")
        a = unwrap(A)
        if rtol is None:
            rtol = np.finfo(a.dtype).eps * max(a.shape[-2:])
        return JaxTensor(_jax().numpy.linalg.pinv(a, rtol=rtol, hermitian=hermitian))

    linalg.eigvalsh, linalg.solve_triangular, linalg.cholesky = eigvalsh, solve_triangular, cholesky
    linalg.vector_norm, linalg.matrix_norm, linalg.pinv = vector_norm, matrix_norm, pinv
    return linalg


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
        """``lax.reduce_window``'s window, strides, padding and dilation for torch's pooling arguments, over the
        last ``dims`` dimensions of a batched or (as torch allows) unbatched input."""
        kernel = _spatial(kernel_size, dims)
        strides = _spatial(stride, dims) if stride else kernel
        dilation = _spatial(dilation, dims)
        leading = x.ndim - dims
        pads = _pool_padding(x.shape[leading:], kernel, strides, _spatial(padding, dims), dilation, ceil_mode)
        ones = (1,) * leading
        return (*ones, *kernel), (*ones, *strides), [(0, 0)] * leading + pads, (*ones, *dilation)

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
        adaptive_avg_pool2d=unbatched(adaptive_avg_pool2d, 2),  # torch pools an unbatched (C, H, W) input too
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
        unfold=unbatched(unfold, 2),  # torch unfolds an unbatched (C, H, W) input too
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
        | {cap.REDUCTIONS, cap.SHAPES, cap.INDEXING, cap.FUNCTIONS, cap.LINALG}
    )
    #: members JAX has no function for (the module docstring says what each one is)
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: frozenset({"frac"}),
        cap.BINARY: frozenset({"lerp", "addcmul", "addcdiv"}),
        **FUNCTIONAL_LACKS,
        cap.REDUCTIONS: frozenset({"dist"}),
        cap.SHAPES: frozenset({"unfold"}),
        cap.FUNCTIONS: frozenset(
            {"ops.baddbmm", "ops.addmm", "ops.addmv", "ops.cdist", "ops.cartesian_prod", "ops.cumulative_trapezoid"}
            | {"ops.logdet"}
        ),
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "jax.json"
    findings_file = Path(__file__).parent / "findings" / "jax.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._jax = _jax()
        self._jax.config.update("jax_enable_x64", True)
        self._cpu = self._jax.devices("cpu")[0]
        self.functional = _functional()
        self.ops = _ops()
        self.linalg = _linalg()

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
