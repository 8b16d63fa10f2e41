"""TensorFlow behind the contract (CPU): an engine with an explicit tape context, differentiated on the functional
path.

TensorFlow records gradients only inside a ``tf.GradientTape`` context that the caller opens and reads
(``tape.gradient``): there is no ``requires_grad``, no ``.grad`` and no ``backward()`` on its tensors. The adapter
therefore declares the functional gradient path, where the tape is the adapter's business and the specs never see
it: :meth:`TensorflowBackend.vjp` opens one ``GradientTape``, watches the primals, runs the spec's function and
asks the tape for the vector-Jacobian product (``output_gradients`` is the cotangent); a ``vjp`` inside the
function of another one runs inside the outer tape, which records the inner tape's gradient computation, so
second derivatives (``vjp.second-order``) are TensorFlow's nested tapes. :meth:`TensorflowBackend.jvp` is one
``tf.autodiff.ForwardAccumulator``. A primal the output does not depend on gets zeros
(``UnconnectedGradients.ZERO``), as torch's functional ``vjp`` gives.

Declared: ``vjp``, ``jvp``, ``vjp.second-order``, ``float64`` (:meth:`TensorflowBackend.tensor64`: TensorFlow's
float64 tensors), ``tensor.math``, ``nn.functional`` (the training step's operators) and the operator families
TensorFlow has functions for: the unary and binary tensor operators; the reductions, shapes and indexing of
tensors; torch's top-level functions (``ops``), ``torch.linalg`` and ``torch.special``'s Bessel functions
(``tf.math.special``'s); and the six ``nn.functional`` families
(activations, convolutions, pooling, normalization, layers, losses). Each family lists the members TensorFlow
lacks in ``lacks``; ``nn.functional`` and its families are in :mod:`backends.tensorflow_operators`, which says
how torch's layouts, padding and reductions become TensorFlow's.

Translations of the tensor methods: ``log``/``sin``/``tanh``/... are ``tf.math``'s functions (``neg`` is
``negative``, ``relu`` ``tf.nn.relu``, ``i0`` ``bessel_i0``, ``polygamma(n)`` ``tf.math.polygamma(n, x)``);
``log2``, ``log10``, ``exp2``, ``sinc``, ``deg2rad``, ``rad2deg``, ``hypot``, ``logaddexp``, ``logaddexp2`` and
``float_power`` are TensorFlow's NumPy API's (``tf.experimental.numpy``); ``fmod`` is ``truncatemod`` (C's
remainder, the sign of the dividend), ``remainder`` ``floormod`` (Python's, the sign of the divisor); ``clamp``
is ``clip_by_value`` (``tf.maximum`` or ``tf.minimum`` when one bound is None); reductions are ``tf.reduce_*``
with ``axis`` and ``keepdims`` (``amax`` is ``reduce_max``; ``max``/``min`` over a dimension add ``tf.math.argmax``/
``argmin``'s indices), ``logcumsumexp`` is ``tf.math.cumulative_logsumexp``, ``norm`` ``tf.norm``, ``nansum``,
``nanmean`` and ``diff`` the NumPy API's; ``view`` is ``tf.reshape`` (a TensorFlow tensor has no storage to share),
``contiguous`` the tensor itself (it has no strides), ``permute`` ``tf.transpose``, ``transpose`` the NumPy API's
``swapaxes``, ``mT`` ``tf.linalg.matrix_transpose``, ``expand`` ``tf.broadcast_to``, ``flip`` ``tf.reverse``,
``repeat`` and ``tile`` the NumPy API's ``tile``, ``narrow`` ``tf.slice``, ``split``/``chunk``/``tensor_split``
``tf.split`` by torch's part sizes, ``diag_embed`` ``tf.linalg.diag``, Tensor ``unfold`` ``tf.signal.frame``;
``gather`` and ``take_along_dim`` are the NumPy API's ``take_along_axis``, ``index_select`` and ``take``
``tf.gather``, the scatters and ``index_add``/``index_copy``/``index_fill``/``put``/``index_put``
TensorFlow's functional scatters ``tf.tensor_scatter_nd_update``/``_add``/``_max``/``_min`` at the positions
torch's index names, ``masked_fill`` ``tf.where``, ``masked_select`` ``tf.boolean_mask``; ``@`` is
``tf.experimental.numpy.matmul`` (torch's ``@`` takes vectors, ``tf.linalg.matmul`` matrices only); an index of
integer tensors, which TensorFlow's ``[]`` refuses, is ``tf.gather`` (one tensor) or ``tf.gather_nd`` (several,
broadcast and stacked). Options TensorFlow lacks are refused with NotImplementedError naming them
(``scatter_reduce`` products and means, ``index_add(alpha=)``, ``max_pool(ceil_mode=)``, ``pinv(atol=)``, ...).

Left undeclared: the tape's specs (``autograd``, ``graph``, ``hooks``, ``retain_graph``, ...: TensorFlow's tape
is a context, not tensors that remember how they were made), ``inplace``/``version_counter`` (TensorFlow tensors
are immutable) and ``nn``/``optim.sgd``/``models.resnet18`` (Keras is not TensorFlow's autograd).

Lacked, since TensorFlow has no function for them (composing one from arithmetic would imitate it), or none with
an option an entry of the catalogue passes (``lacks`` names members, not arguments):

- ``frac``, ``logit``, ``mvlgamma``; ``nan_to_num`` (the NumPy API's has no ``posinf``/``neginf``); ``fmax`` and
  ``fmin`` (NaN-ignoring); ``copysign``; ``lerp``, ``addcmul``, ``addcdiv``, ``ops.baddbmm``, ``ops.addmm`` and
  ``ops.addmv`` (fused forms of arithmetic);
- the activations ``celu``, ``hardtanh``, ``hardswish``, ``hardsigmoid``, ``mish``, ``tanhshrink``,
  ``softshrink``, ``hardshrink``, ``glu``, ``prelu``, ``softmin`` and ``threshold`` (``tf.nn`` has none; Keras's
  are not TensorFlow's), and ``softplus`` (``tf.nn.softplus`` has no ``beta`` or ``threshold``);
- ``std`` and ``var`` (``tf.math.reduce_std``/``reduce_variance`` are the population statistics, torch's
  ``correction=0``, where torch's default corrects by one), ``cummax``, ``cummin``, ``median`` and ``dist``;
- ``ops.cdist``, ``ops.cartesian_prod``, ``ops.column_stack``, ``ops.trapezoid``, ``ops.cumulative_trapezoid`` and
  ``ops.logdet`` (``tf.linalg.logdet`` is that of a Hermitian positive definite matrix, by Cholesky);
  ``linalg.matrix_norm`` (``tf.norm`` has no nuclear or spectral matrix norm), ``linalg.matrix_power``,
  ``linalg.multi_dot`` and ``linalg.vecdot``;
- adaptive pooling (the training step's ``adaptive_avg_pool2d`` to a size that divides the input is
  ``tf.nn.avg_pool2d`` of the window it implies, other sizes are refused) and ``lp_pool*``; ``rms_norm``,
  ``local_response_norm`` (``tf.nn.local_response_normalization``'s window is symmetric, an odd number of
  channels) and ``normalize`` (``tf.math.l2_normalize`` is of the 2-norm only); ``interpolate`` (no
  ``align_corners`` and torch's bicubic kernel, no trilinear resize), ``pad`` (``tf.pad`` has no replicate or
  circular mode), ``scaled_dot_product_attention``, ``bilinear``, ``fold``, ``cosine_similarity``,
  ``pairwise_distance``, ``grid_sample`` and ``affine_grid``;
- every loss but ``mse_loss`` (``tf.math.squared_difference``), ``binary_cross_entropy_with_logits``
  (``tf.nn.sigmoid_cross_entropy_with_logits``, ``weighted_cross_entropy_with_logits`` with ``pos_weight``),
  ``poisson_nll_loss`` (``tf.nn.log_poisson_loss``) and ``multilabel_soft_margin_loss`` (the sigmoid cross-entropy
  averaged over the classes): ``tf.nn.sparse_softmax_cross_entropy_with_logits`` has no class weights, so the
  losses family's ``cross_entropy`` is lacked (the training step's, of class indices, runs);
- in float64, ``avg_pool3d`` and ``max_pool3d``: TensorFlow's 3-d pooling has float32 kernels only
  (``lacks[float64]``: their entries are checked in float32).

Where TensorFlow deviates the specs fail, and the failures are listed in ``known_failures/tensorflow.json``:
normalization by ``tf.nn.moments`` (batch, layer, group and instance norm) has wrong second derivatives (the
variance is taken around a stop-gradient mean); ``tf.nn.convolution`` with its default ``data_format`` breaks the
gradient of its gradient (2-d) and its gradient (3-d), grouped convolutions have no float64 gradient on the CPU
and a dilated transposed one no float64 kernel, and a stride with a dilation is refused (``tf.nn.convolution``,
``tf.nn.pool``); ``tf.linalg.cross`` and ``tf.linalg.solve`` do not broadcast; a float32 target beside float64
logits is refused (no promotion); and the elementwise deviations (no gradient of ``truncatemod``, none of
``softsign``'s gradient, float64 constants rounded through float32). Forward mode through a ``tf.gather_nd`` of
slices raises too, which no entry reaches (the adapter gathers the catalogue's indices as elements).
"""

from __future__ import annotations

import functools
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import capabilities as cap
from . import tensorflow_operators as operators
from .contract import Backend, import_engine
from .proxy import TensorProxy, squeezed_dims, translate
from .tensorflow_operators import ValuesIndices, sizes


@functools.cache
def _tf() -> types.ModuleType:
    """TensorFlow, imported once, after torch's compiler stack: torch's eager double backward of some operators (``abs``
    twice, whose backward is a Python reference) imports torch._dynamo, and with it triton, on first use, and triton
    imported into a process that holds TensorFlow's LLVM aborts it ("Option 'bitcode-mdindex-threshold' registered
    more than once"); in the other order both load (the fuzzer's second-order oracle met it)."""
    import torch._dynamo  # noqa: F401

    return import_engine("tensorflow")


def _tnp() -> types.ModuleType:
    return _tf().experimental.numpy


#: torch's elementwise names whose TensorFlow function lives in ``tf.math`` under another name
MATH_SPELLINGS = {"neg": "negative", "i0": "bessel_i0"}
#: torch's elementwise names that TensorFlow has in its NumPy API only
NUMPY_API = frozenset(
    {"log2", "log10", "exp2", "sinc", "deg2rad", "rad2deg", "hypot", "logaddexp", "logaddexp2"} | {"float_power"}
)


def _function(name: str) -> Any:
    """TensorFlow's own function of torch's elementwise ``name``."""
    tf = _tf()
    if name in NUMPY_API:
        return getattr(_tnp(), name)
    if name == "truncatemod":
        return tf.truncatemod
    if name == "relu":
        return tf.nn.relu
    return getattr(tf.math, MATH_SPELLINGS.get(name, name))


def _broadcast(tensors: list[Any]) -> list[Any]:
    """Index tensors broadcast to one shape, as torch's advanced indexing broadcasts them."""
    tf = _tf()
    shape = tensors[0].shape
    for tensor in tensors[1:]:
        shape = tf.broadcast_static_shape(shape, tensor.shape)
    return [tf.broadcast_to(tensor, shape) for tensor in tensors]


class TensorflowTensor(TensorProxy):
    """A TensorFlow tensor seen through torch's names."""

    keepdim_keyword = "keepdims"

    @classmethod
    def engine_tensor_type(cls) -> type:
        return _tf().Tensor

    @classmethod
    def wrap(cls, value: Any) -> Any:
        """A TensorFlow tensor wrapped, and so is each tensor of a list or tuple (``split``'s parts, ``slogdet``'s
        pair, ``max``'s values and indices)."""
        if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple: slogdet's, (values, indices)
            return type(value)(*map(cls.wrap, value))
        if isinstance(value, list | tuple):
            return type(value)(map(cls.wrap, value))
        return super().wrap(value)

    def _unary(self, name: str) -> Any:
        return _function(name)(self.wrapped)

    def _reduce(self, name: str, dim: Any, keepdim: bool) -> Any:
        """``tf.reduce_<name>`` with ``axis`` and ``keepdims``."""
        reduce = getattr(_tf(), f"reduce_{name}")
        return self.wrap(reduce(self.wrapped, axis=dim, keepdims=keepdim))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> TensorflowTensor:
        """``tf.reshape`` to torch's flattened dimensions."""
        shape = self.shape
        end = end_dim % len(shape) if shape else 0
        return TensorflowTensor(_tf().reshape(self.wrapped, (*shape[:start_dim], -1, *shape[end + 1 :])))

    def reshape(self, *shape: Any) -> TensorflowTensor:
        """``tf.reshape``, the shape given as torch's arguments or one tuple."""
        return TensorflowTensor(_tf().reshape(self.wrapped, sizes(shape)))

    def clamp(self, min: Any = None, max: Any = None) -> TensorflowTensor:
        """``tf.clip_by_value``; with one bound, ``tf.maximum`` or ``tf.minimum``."""
        return TensorflowTensor(operators.clamp(self.wrapped, self.unwrap(min), self.unwrap(max)))

    def polygamma(self, n: int) -> TensorflowTensor:
        """torch's ``x.polygamma(n)`` is ``tf.math.polygamma(n, x)``, ``n`` of ``x``'s dtype."""
        tf = _tf()
        return TensorflowTensor(tf.math.polygamma(tf.constant(n, dtype=self.wrapped.dtype), self.wrapped))

    def __getitem__(self, index: Any) -> Any:
        """TensorFlow's own indexing (integers, slices, ``...``, ``None``, a boolean mask); an index of integer
        tensors, which its ``[]`` refuses, is its gather: one tensor ``tf.gather`` along the first dimension,
        several ``tf.gather_nd`` of their positions stacked (they broadcast as torch's do)."""
        tf = _tf()
        parts = index if isinstance(index, tuple) else (index,)
        tensors = [self.unwrap(part) for part in parts]
        if all(isinstance(part, tf.Tensor) and part.dtype.is_integer for part in tensors):
            if len(tensors) == 1:
                return TensorflowTensor(tf.gather(self.wrapped, tensors[0], axis=0))
            return TensorflowTensor(tf.gather_nd(self.wrapped, tf.stack(_broadcast(tensors), axis=-1)))
        return super().__getitem__(index)

    def __matmul__(self, other: Any) -> TensorflowTensor:
        """``tf.experimental.numpy.matmul``: torch's ``@`` takes vectors, ``tf.linalg.matmul`` only matrices."""
        return TensorflowTensor(_tnp().matmul(self.wrapped, self.unwrap(other)))

    def __rmatmul__(self, other: Any) -> TensorflowTensor:
        return TensorflowTensor(_tnp().matmul(self.unwrap(other), self.wrapped))

    def numpy(self) -> Any:
        return self.wrapped.numpy()

    def item(self) -> Any:
        return self.wrapped.numpy().item()

    def tolist(self) -> Any:
        return self.wrapped.numpy().tolist()

    # --- tensor.reductions: tf.reduce_* and tf.math's running reductions -----------------------------------
    def prod(self, dim: Any = None, keepdim: bool = False) -> TensorflowTensor:
        return self._reduce("prod", dim, keepdim)

    def amax(self, dim: Any = None, keepdim: bool = False) -> TensorflowTensor:
        return self._reduce("max", dim, keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> TensorflowTensor:
        return self._reduce("min", dim, keepdim)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> TensorflowTensor:
        return self._reduce("logsumexp", dim, keepdim)

    def _extreme(self, name: str, dim: int | None, keepdim: bool) -> Any:
        """``tf.reduce_max``/``reduce_min``; over a dimension with ``tf.math.argmax``/``argmin``'s indices, as
        torch's ``(values, indices)``."""
        tf = _tf()
        if dim is None:
            return self._reduce(name, None, False)
        indices = getattr(tf.math, f"arg{name}")(self.wrapped, axis=dim)
        values = getattr(tf, f"reduce_{name}")(self.wrapped, axis=dim, keepdims=keepdim)
        return self.wrap(ValuesIndices(values, tf.expand_dims(indices, dim) if keepdim else indices))

    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return self._extreme("max", dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return self._extreme("min", dim, keepdim)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> TensorflowTensor:
        """``tf.norm`` of the vector order ``p`` over ``dim`` (every element when None; ``"fro"`` is TensorFlow's
        ``euclidean``). TensorFlow's norm of two axes is a matrix norm, torch's of a number ``p`` a vector norm
        over both: refused."""
        if dim is not None and not isinstance(dim, int):
            raise NotImplementedError("TensorFlow's tf.norm of two axes is a matrix norm, not a vector norm")
        order = "euclidean" if p in ("fro", 2, None) else p
        return TensorflowTensor(_tf().norm(self.wrapped, order, axis=dim, keepdims=keepdim))

    def cumsum(self, dim: int) -> TensorflowTensor:
        return TensorflowTensor(_tf().math.cumsum(self.wrapped, axis=dim))

    def cumprod(self, dim: int) -> TensorflowTensor:
        return TensorflowTensor(_tf().math.cumprod(self.wrapped, axis=dim))

    def logcumsumexp(self, dim: int) -> TensorflowTensor:
        """``tf.math.cumulative_logsumexp``."""
        return TensorflowTensor(_tf().math.cumulative_logsumexp(self.wrapped, axis=dim))

    def nansum(self, dim: Any = None, keepdim: bool = False) -> TensorflowTensor:
        """The NumPy API's ``nansum`` (``tf.math`` has no NaN-ignoring reduction)."""
        return TensorflowTensor(_tnp().nansum(self.wrapped, axis=dim, keepdims=keepdim))

    def nanmean(self, dim: Any = None, keepdim: bool = False) -> TensorflowTensor:
        """The NumPy API's ``nanmean``."""
        return TensorflowTensor(_tnp().nanmean(self.wrapped, axis=dim, keepdims=keepdim))

    def trace(self) -> TensorflowTensor:
        return TensorflowTensor(_tf().linalg.trace(self.wrapped))

    def diff(self, n: int = 1, dim: int = -1) -> TensorflowTensor:
        """The NumPy API's ``diff``."""
        return TensorflowTensor(_tnp().diff(self.wrapped, n, axis=dim))

    # --- tensor.shapes: TensorFlow's reshapes, transposes, slices and NumPy API's flips and rotations --------
    def view(self, *shape: Any) -> TensorflowTensor:
        """TensorFlow tensors are immutable values, without storage to share: a view is ``tf.reshape``."""
        return self.reshape(*shape)

    def permute(self, *dims: Any) -> TensorflowTensor:
        return TensorflowTensor(_tf().transpose(self.wrapped, sizes(dims)))

    def transpose(self, dim0: int, dim1: int) -> TensorflowTensor:
        """The NumPy API's ``swapaxes`` (``tf.transpose`` permutes every dimension)."""
        return TensorflowTensor(_tnp().swapaxes(self.wrapped, dim0, dim1))

    swapaxes = transpose

    def t(self) -> TensorflowTensor:
        """``tf.transpose`` of a matrix (torch's ``t`` takes at most two dimensions)."""
        if self.wrapped.shape.rank > 2:
            raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is {self.wrapped.shape.rank}D")
        return TensorflowTensor(_tf().transpose(self.wrapped))

    @property
    def mT(self) -> TensorflowTensor:
        """``tf.linalg.matrix_transpose`` of the last two dimensions."""
        return TensorflowTensor(_tf().linalg.matrix_transpose(self.wrapped))

    def expand(self, *shape: Any) -> TensorflowTensor:
        """``tf.broadcast_to``; torch's size -1 keeps the dimension's size."""
        shape = sizes(shape)
        kept = (0,) * (len(shape) - len(self.shape)) + self.shape
        target = [old if new == -1 else new for new, old in zip(shape, kept, strict=True)]
        return TensorflowTensor(_tf().broadcast_to(self.wrapped, target))

    def expand_as(self, other: Any) -> TensorflowTensor:
        return TensorflowTensor(_tf().broadcast_to(self.wrapped, other.shape))

    def squeeze(self, dim: Any = None) -> TensorflowTensor:
        """``tf.squeeze``; torch leaves a named dimension whose size is not 1 as it is, where TensorFlow refuses."""
        if dim is None:
            return TensorflowTensor(_tf().squeeze(self.wrapped))
        dims = list(squeezed_dims(self.shape, dim))
        if not dims:  # tf.squeeze with no axis squeezes every dimension of size 1
            return TensorflowTensor(_tf().identity(self.wrapped))
        return TensorflowTensor(_tf().squeeze(self.wrapped, axis=dims))

    def unsqueeze(self, dim: int) -> TensorflowTensor:
        return TensorflowTensor(_tf().expand_dims(self.wrapped, dim))

    def split(self, split_size_or_sections: Any, dim: int = 0) -> list[TensorflowTensor]:
        """``tf.split`` into torch's part sizes (a part size leaves the last part smaller)."""
        parts = operators.split_sizes(self.shape[dim], split_size_or_sections)
        return self.wrap(_tf().split(self.wrapped, parts, axis=dim))

    def chunk(self, chunks: int, dim: int = 0) -> list[TensorflowTensor]:
        """torch's chunks are parts of ``ceil(size / chunks)`` elements: :meth:`split` by that size."""
        return self.split(-(-self.shape[dim] // chunks), dim)

    def tensor_split(self, indices_or_sections: Any, dim: int = 0) -> list[TensorflowTensor]:
        """``tf.split`` into torch's sections (the first ones one longer) or at its indices."""
        parts = operators.section_sizes(self.shape[dim], indices_or_sections)
        return self.wrap(_tf().split(self.wrapped, parts, axis=dim))

    def unbind(self, dim: int = 0) -> list[TensorflowTensor]:
        return self.wrap(_tf().unstack(self.wrapped, axis=dim))

    def flip(self, *dims: Any) -> TensorflowTensor:
        return TensorflowTensor(_tf().reverse(self.wrapped, sizes(dims)))

    def fliplr(self) -> TensorflowTensor:
        return TensorflowTensor(_tnp().fliplr(self.wrapped))

    def flipud(self) -> TensorflowTensor:
        return TensorflowTensor(_tnp().flipud(self.wrapped))

    def roll(self, shifts: Any, dims: Any = None) -> TensorflowTensor:
        """``tf.roll``; without dims torch rolls the flattened tensor."""
        tf = _tf()
        if dims is None:
            return TensorflowTensor(tf.reshape(tf.roll(tf.reshape(self.wrapped, [-1]), shifts, 0), self.shape))
        return TensorflowTensor(tf.roll(self.wrapped, shifts, dims))

    def repeat(self, *repeats: Any) -> TensorflowTensor:
        """torch's ``repeat`` is NumPy's ``tile``: the NumPy API's (``tf.tile`` takes no new leading dimension)."""
        return TensorflowTensor(_tnp().tile(self.wrapped, sizes(repeats)))

    def tile(self, dims: Any) -> TensorflowTensor:
        return TensorflowTensor(_tnp().tile(self.wrapped, tuple(dims)))

    def narrow(self, dim: int, start: int, length: int) -> TensorflowTensor:
        """``tf.slice`` of ``length`` elements from ``start`` along ``dim``."""
        dim %= len(self.shape)
        begin = [start % self.shape[dim] if d == dim else 0 for d in range(len(self.shape))]
        size = [length if d == dim else -1 for d in range(len(self.shape))]
        return TensorflowTensor(_tf().slice(self.wrapped, begin, size))

    def movedim(self, source: Any, destination: Any) -> TensorflowTensor:
        return TensorflowTensor(_tnp().moveaxis(self.wrapped, source, destination))

    def contiguous(self) -> TensorflowTensor:
        """The tensor itself, as torch returns a tensor that is contiguous already: a TensorFlow tensor has no
        strides, so there is no copy to make."""
        return self

    def unflatten(self, dim: int, shape: Any) -> TensorflowTensor:
        dim %= len(self.shape)
        return self.reshape(*self.shape[:dim], *shape, *self.shape[dim + 1 :])

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> TensorflowTensor:
        """The NumPy API's ``diagonal`` with torch's dims as its axes."""
        return TensorflowTensor(_tnp().diagonal(self.wrapped, offset, dim1, dim2))

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> TensorflowTensor:
        """``tf.linalg.diag``, batched, in the last two dimensions (other dims are refused)."""
        ndim = len(self.shape) + 1
        if (dim1 % ndim, dim2 % ndim) != (ndim - 2, ndim - 1):
            raise NotImplementedError("TensorFlow's tf.linalg.diag embeds diagonals in the last two dimensions only")
        return TensorflowTensor(_tf().linalg.diag(self.wrapped, k=offset))

    def diag(self, diagonal: int = 0) -> TensorflowTensor:
        """The NumPy API's ``diag``: a vector's diagonal matrix, or a matrix's diagonal."""
        return TensorflowTensor(_tnp().diag(self.wrapped, diagonal))

    def tril(self, diagonal: int = 0) -> TensorflowTensor:
        return TensorflowTensor(_tnp().tril(self.wrapped, diagonal))

    def triu(self, diagonal: int = 0) -> TensorflowTensor:
        return TensorflowTensor(_tnp().triu(self.wrapped, diagonal))

    def unfold(self, dimension: int, size: int, step: int) -> TensorflowTensor:
        """``tf.signal.frame`` (sliding windows): its windows' elements, which follow their count, moved to the
        end, where torch puts them."""
        dimension %= len(self.shape)
        frames = _tf().signal.frame(self.wrapped, size, step, axis=dimension)
        return TensorflowTensor(_tnp().moveaxis(frames, dimension + 1, -1))

    def repeat_interleave(self, repeats: Any, dim: int | None = None) -> TensorflowTensor:
        return TensorflowTensor(_tf().repeat(self.wrapped, self.unwrap(repeats), axis=dim))

    def rot90(self, k: int = 1, dims: Any = (0, 1)) -> TensorflowTensor:
        return TensorflowTensor(_tnp().rot90(self.wrapped, k, axes=tuple(dims)))

    # --- tensor.indexing: TensorFlow's gathers and functional scatters (tf.tensor_scatter_nd_*) -------------
    def gather(self, dim: int, index: Any) -> TensorflowTensor:
        """The NumPy API's ``take_along_axis`` of the leading part of the tensor the index covers in the other
        dimensions (torch reads only that part)."""
        index = self.unwrap(index)
        shape = [size if d != dim % len(self.shape) else None for d, size in enumerate(index.shape)]
        x = operators.leading(self.wrapped, shape)
        return TensorflowTensor(_tnp().take_along_axis(x, index, axis=dim))

    def take_along_dim(self, indices: Any, dim: int | None = None) -> TensorflowTensor:
        """The NumPy API's ``take_along_axis``; without ``dim`` of the flattened tensor."""
        x = self.wrapped if dim is not None else _tf().reshape(self.wrapped, [-1])
        return TensorflowTensor(_tnp().take_along_axis(x, self.unwrap(indices), axis=0 if dim is None else dim))

    def _scatter(self, update: str, dim: int, index: Any, src: Any) -> TensorflowTensor:
        """``tf.tensor_scatter_nd_<update>`` of the part of ``src`` the index covers, at the positions ``index``
        names along ``dim``."""
        tf, index, src = _tf(), self.unwrap(index), self.unwrap(src)
        updates = operators.leading(src, index.shape) if isinstance(src, tf.Tensor) else tf.fill(index.shape, src)
        scatter = getattr(tf, f"tensor_scatter_nd_{update}")
        return TensorflowTensor(scatter(self.wrapped, operators.coordinates(index, dim), updates))

    def scatter(self, dim: int, index: Any, src: Any) -> TensorflowTensor:
        return self._scatter("update", dim, index, src)

    def scatter_add(self, dim: int, index: Any, src: Any) -> TensorflowTensor:
        return self._scatter("add", dim, index, src)

    def scatter_reduce(self, dim: int, index: Any, src: Any, reduce: str, *, include_self: bool = True) -> Any:
        """``tf.tensor_scatter_nd_add``, ``_max`` or ``_min`` for torch's ``sum``, ``amax`` and ``amin``;
        TensorFlow has no scatter of products or means and none that leaves out the tensor's own values."""
        updates = {"sum": "add", "amax": "max", "amin": "min"}
        if reduce not in updates or not include_self:
            raise NotImplementedError(
                f"TensorFlow has no scatter {reduce!r} with include_self={include_self}: only {sorted(updates)} "
                "including the tensor's own values"
            )
        return self._scatter(updates[reduce], dim, index, src)

    def index_select(self, dim: int, index: Any) -> TensorflowTensor:
        return TensorflowTensor(_tf().gather(self.wrapped, self.unwrap(index), axis=dim))

    def _index_update(self, update: str, dim: int, index: Any, source: Any) -> TensorflowTensor:
        """``tf.tensor_scatter_nd_<update>`` of ``source`` (or a number) into the slices ``index`` picks along
        ``dim``."""
        tf = _tf()
        positions = operators.along(self.unwrap(index), dim, self.shape)
        source = tf.broadcast_to(tf.cast(self.unwrap(source), self.wrapped.dtype), positions.shape[:-1])
        return TensorflowTensor(getattr(tf, f"tensor_scatter_nd_{update}")(self.wrapped, positions, source))

    def index_add(self, dim: int, index: Any, source: Any, *, alpha: float = 1) -> TensorflowTensor:
        operators.refuse("tf.tensor_scatter_nd_add", "alpha", alpha, 1)
        return self._index_update("add", dim, index, source)

    def index_copy(self, dim: int, index: Any, source: Any) -> TensorflowTensor:
        return self._index_update("update", dim, index, source)

    def index_fill(self, dim: int, index: Any, value: Any) -> TensorflowTensor:
        return self._index_update("update", dim, index, value)

    def take(self, index: Any) -> TensorflowTensor:
        """``tf.gather`` from the flattened tensor."""
        tf = _tf()
        return TensorflowTensor(tf.gather(tf.reshape(self.wrapped, [-1]), self.unwrap(index)))

    def put(self, index: Any, source: Any, accumulate: bool = False) -> TensorflowTensor:
        """``tf.tensor_scatter_nd_update`` (``_add`` when accumulating) into the flattened tensor."""
        tf = _tf()
        flat, positions = tf.reshape(self.wrapped, [-1]), tf.reshape(self.unwrap(index), [-1, 1])
        scatter = tf.tensor_scatter_nd_add if accumulate else tf.tensor_scatter_nd_update
        updates = tf.reshape(self.unwrap(source), [-1])
        return TensorflowTensor(tf.reshape(scatter(flat, positions, updates), self.shape))

    def index_put(self, indices: Any, values: Any, accumulate: bool = False) -> TensorflowTensor:
        """``tf.tensor_scatter_nd_update`` (``_add`` when accumulating) at the positions of the index tensors,
        broadcast and stacked, of ``values`` broadcast to the slices they pick."""
        tf = _tf()
        positions = tf.stack(_broadcast([self.unwrap(index) for index in indices]), axis=-1)
        slices = [*positions.shape[:-1], *self.shape[len(indices) :]]
        scatter = tf.tensor_scatter_nd_add if accumulate else tf.tensor_scatter_nd_update
        return TensorflowTensor(scatter(self.wrapped, positions, tf.broadcast_to(self.unwrap(values), slices)))

    def masked_fill(self, mask: Any, value: Any) -> TensorflowTensor:
        """``tf.where(mask, value, x)``, the mask broadcast."""
        tf = _tf()
        return TensorflowTensor(
            tf.where(self.unwrap(mask), tf.cast(self.unwrap(value), self.wrapped.dtype), self.wrapped)
        )

    def masked_select(self, mask: Any) -> TensorflowTensor:
        """``tf.boolean_mask`` of the tensor and mask broadcast together."""
        tf = _tf()
        x, mask = _broadcast([self.wrapped, self.unwrap(mask)])
        return TensorflowTensor(tf.boolean_mask(x, mask))


#: torch's elementwise methods TensorFlow has a function for (spelt as :func:`_function` finds it)
ELEMENTWISE = (
    "cos tan asin acos atan sinh cosh asinh acosh atanh abs rsqrt reciprocal square erf erfc erfinv expm1 log1p log2 "
    "log10 exp2 sinc lgamma digamma relu neg deg2rad rad2deg i0 maximum minimum atan2 hypot xlogy logaddexp "
    "logaddexp2 float_power"
)
translate(
    TensorflowTensor,
    _function,
    {name: name for name in ELEMENTWISE.split()} | {"fmod": "truncatemod", "remainder": "floormod"},
)


def _unwrap_all(value: Any) -> Any:
    """Proxies unwrapped, inside lists and tuples too (``ops.cat([x, y])``)."""
    if isinstance(value, list | tuple):
        return type(value)(map(_unwrap_all, value))
    return TensorflowTensor.unwrap(value)


def _namespace(functions: dict[str, Any]) -> types.SimpleNamespace:
    """TensorFlow's ``functions`` under torch's names, called with proxies unwrapped, their results wrapped."""

    def unwrapping(function: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            keywords = {key: _unwrap_all(value) for key, value in kwargs.items()}
            return TensorflowTensor.wrap(function(*_unwrap_all(args), **keywords))

        return call

    return types.SimpleNamespace(**{name: unwrapping(function) for name, function in functions.items()})


def _lacked(prefix: str, names: str) -> frozenset[str]:
    """The members ``names`` (spaced) of a namespace, as ``lacks`` names them (``functional.softplus``)."""
    return frozenset(f"{prefix}.{name}" for name in names.split())


class TensorflowBackend(Backend):
    """TensorFlow tensors on the CPU, float32 unless float64 is asked for."""

    engine = "tensorflow"
    capabilities = frozenset(
        {cap.VJP, cap.JVP, cap.SECOND_ORDER, cap.FLOAT64, cap.TENSOR_MATH, cap.FUNCTIONAL, cap.UNARY, cap.BINARY}
        | {cap.ACTIVATIONS, cap.CONVOLUTIONS, cap.POOLING, cap.NORMALIZATION, cap.LAYERS, cap.LOSSES}
        | {cap.REDUCTIONS, cap.SHAPES, cap.INDEXING, cap.FUNCTIONS, cap.LINALG, cap.SPECIAL}
    )
    #: members TensorFlow has no function for (the module docstring says what each one is)
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: frozenset({"frac", "logit", "mvlgamma", "nan_to_num"}),
        cap.BINARY: frozenset({"fmax", "fmin", "copysign", "lerp", "addcmul", "addcdiv"}),
        cap.ACTIVATIONS: _lacked(
            "functional",
            "softplus celu hardtanh hardswish hardsigmoid mish tanhshrink softshrink hardshrink glu prelu softmin "
            "threshold",
        ),
        cap.POOLING: _lacked(
            "functional",
            "adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d "
            "lp_pool1d lp_pool2d",
        ),
        cap.NORMALIZATION: _lacked("functional", "rms_norm local_response_norm normalize"),
        cap.LAYERS: _lacked(
            "functional",
            "interpolate pad scaled_dot_product_attention bilinear fold cosine_similarity pairwise_distance "
            "grid_sample affine_grid",
        ),
        cap.LOSSES: _lacked(
            "functional",
            "l1_loss smooth_l1_loss huber_loss nll_loss cross_entropy binary_cross_entropy kl_div gaussian_nll_loss "
            "soft_margin_loss margin_ranking_loss hinge_embedding_loss cosine_embedding_loss triplet_margin_loss "
            "multi_margin_loss",
        ),
        cap.REDUCTIONS: frozenset({"std", "var", "cummax", "cummin", "median", "dist"}),
        cap.FUNCTIONS: _lacked(
            "ops", "baddbmm addmm addmv cdist cartesian_prod column_stack trapezoid cumulative_trapezoid logdet"
        ),
        cap.LINALG: _lacked("linalg", "matrix_norm matrix_power multi_dot vecdot"),
        #: TensorFlow has no float64 kernel of its 3-d pooling
        cap.FLOAT64: _lacked("functional", "avg_pool3d max_pool3d"),
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "tensorflow.json"
    findings_file = Path(__file__).parent / "findings" / "tensorflow.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._tf = _tf()
        self._cpu = "/CPU:0"
        self.functional = _namespace(operators.functional())
        self.ops = _namespace(operators.ops())
        self.linalg = _namespace(operators.linalg())
        self.special = _namespace(operators.special())

    @property
    def engine_version(self) -> str:
        return self._tf.__version__

    def _constant(self, array: np.ndarray) -> TensorflowTensor:
        with self._tf.device(self._cpu):
            return TensorflowTensor(self._tf.constant(array))

    def tensor(self, data: Any, *, requires_grad: bool = False) -> TensorflowTensor:
        array = np.asarray(data)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        return self._constant(array)

    def tensor64(self, data: Any, *, requires_grad: bool = False) -> TensorflowTensor:
        return self._constant(np.asarray(data, dtype=np.float64))

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return np.array(TensorflowTensor.unwrap(tensor), copy=True)

    def vjp(self, fn: Any, primals: Any, cotangent: Any, *, create_graph: bool = False) -> tuple[Any, list]:
        """One ``tf.GradientTape`` watching the primals. Inside the function of an enclosing ``vjp`` this runs in
        the enclosing tape, which records the gradient computation: ``create_graph`` has nothing to add."""
        tf = self._tf
        inputs = [TensorflowTensor.unwrap(primal) for primal in primals]
        with tf.GradientTape() as tape:
            for array in inputs:
                tape.watch(array)
            output = TensorflowTensor.unwrap(fn(*(TensorflowTensor(array) for array in inputs)))
        grads = tape.gradient(
            output,
            inputs,
            output_gradients=TensorflowTensor.unwrap(cotangent),
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        # a gather's gradient comes as IndexedSlices (rows and their positions): the dense tensor they stand for
        return TensorflowTensor(output), [TensorflowTensor(tf.convert_to_tensor(grad)) for grad in grads]

    def jvp(self, fn: Any, primals: Any, tangents: Any) -> tuple[Any, Any]:
        """One ``tf.autodiff.ForwardAccumulator`` of the primals and tangents."""
        tf, unwrap = self._tf, TensorflowTensor.unwrap
        inputs = [unwrap(primal) for primal in primals]
        with tf.autodiff.ForwardAccumulator(inputs, [unwrap(tangent) for tangent in tangents]) as accumulator:
            output = unwrap(fn(*(TensorflowTensor(array) for array in inputs)))
        tangent = accumulator.jvp(output, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return TensorflowTensor(output), TensorflowTensor(tangent)

    def seed(self, seed: int) -> None:
        self._tf.random.set_seed(seed)
