"""JAX behind the contract (CPU): a functional engine, differentiated by ``jax.vjp`` and ``jax.jvp``.

JAX has no tape: no ``requires_grad``, no ``.grad``, no ``backward()``. It declares what it has, the functional
gradient path (``vjp``, ``jvp`` and, since its transforms compose, ``vjp.second-order``), ``float64``, the
tensor math, ``nn.functional`` and the operator families it has functions for: the unary and binary tensor
operators, the reductions, shapes and indexing of tensors, torch's top-level functions (``ops``) and
``torch.linalg``, so every gradient-value spec and those ``opgrad`` specs run on it; the tape's specs, and the
other operator families, are "unsupported".

Lacked (``JaxBackend.lacks``), since JAX has no function for them: ``frac``; ``lerp``, ``addcmul``,
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
smaller than the tensor in ``gather``/``scatter``, which JAX would broadcast). ``nn.functional`` is JAX's own
operators with torch's signatures and layouts
(NCHW inputs, OIHW weights, ``[out, in]`` linear weights): ``conv2d`` is ``lax.conv_general_dilated``,
``max_pool2d`` is ``lax.reduce_window`` with ``max`` (padding with -inf), ``adaptive_avg_pool2d`` a mean over
the windows an output size that divides the input implies (others are refused, as in the tinygrad adapter),
``batch_norm`` the normalisation by batch or running statistics (JAX arrays are immutable: running statistics
are not updated), ``cross_entropy`` ``jax.nn.log_softmax`` at the class indices, averaged.

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

    def chunk(self, chunks: int, dim: int = 0) -> list[JaxTensor]:
        """torch's chunks are parts of ``ceil(size / chunks)`` elements: :meth:`split` by that size
        (``jnp.array_split`` balances the parts otherwise)."""
        return self.split(-(-self.wrapped.shape[dim] // chunks), dim)

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


def _functional() -> types.SimpleNamespace:
    """torch's ``nn.functional`` operators of resnet18 as JAX's own operators (see the module docstring)."""
    jax = _jax()
    jnp, lax, unwrap = jax.numpy, jax.lax, JaxTensor.unwrap

    def conv2d(input: Any, weight: Any, bias: Any = None, stride: int = 1, padding: int = 0) -> JaxTensor:
        pad = [(p, p) for p in pair(padding)]
        out = lax.conv_general_dilated(
            unwrap(input), unwrap(weight), pair(stride), pad, dimension_numbers=("NCHW", "OIHW", "NCHW")
        )
        return JaxTensor(out if bias is None else out + unwrap(bias)[:, None, None])

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
        x = unwrap(input)
        axes = (0, *range(2, x.ndim))
        if training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
        else:
            mean, var = unwrap(running_mean), unwrap(running_var)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        y = (x - mean.reshape(shape)) / jnp.sqrt(var.reshape(shape) + eps)
        if weight is not None:
            y = y * unwrap(weight).reshape(shape)
        if bias is not None:
            y = y + unwrap(bias).reshape(shape)
        return JaxTensor(y)

    def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: int = 0) -> JaxTensor:
        kernel = pair(kernel_size)
        strides = pair(stride) if stride is not None else kernel
        pad = [(0, 0), (0, 0), *((p, p) for p in pair(padding))]
        x = unwrap(input)
        return JaxTensor(lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, *kernel), (1, 1, *strides), pad))

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
        conv2d=conv2d,
        batch_norm=batch_norm,
        relu=lambda input: JaxTensor(jax.nn.relu(unwrap(input))),
        max_pool2d=max_pool2d,
        adaptive_avg_pool2d=adaptive_avg_pool2d,
        linear=linear,
        cross_entropy=cross_entropy,
    )


def _on_arrays(fn: Any) -> Any:
    """The spec's ``fn`` (written on proxies) as a function of JAX arrays, as JAX's transforms take it."""
    return lambda *arrays: JaxTensor.unwrap(fn(*(JaxTensor(array) for array in arrays)))


class JaxBackend(Backend):
    """JAX arrays on JAX's CPU device, float32 unless float64 is asked for."""

    engine = "jax"
    capabilities = frozenset(
        {cap.VJP, cap.JVP, cap.SECOND_ORDER, cap.FLOAT64, cap.TENSOR_MATH, cap.FUNCTIONAL, cap.UNARY, cap.BINARY}
        | {cap.REDUCTIONS, cap.SHAPES, cap.INDEXING, cap.FUNCTIONS, cap.LINALG}
    )
    #: members JAX has no function for (the module docstring says what each one is)
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: frozenset({"frac"}),
        cap.BINARY: frozenset({"lerp", "addcmul", "addcdiv"}),
        cap.REDUCTIONS: frozenset({"dist"}),
        cap.SHAPES: frozenset({"unfold"}),
        cap.FUNCTIONS: frozenset(
            {"ops.baddbmm", "ops.addmm", "ops.addmv", "ops.cdist", "ops.cartesian_prod", "ops.cumulative_trapezoid"}
            | {"ops.logdet"}
        ),
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "jax.json"

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
