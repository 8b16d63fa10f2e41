"""jittor behind the contract (CPU): a functional engine, differentiated by ``jt.grad``.

jittor has no tape in torch's sense: its ``Var`` has no ``backward()`` and no ``.grad``; gradients come from
``jt.grad(loss, targets)`` (or an optimizer's ``backward(loss)``). It declares what it has: the functional
gradient path (``vjp`` through ``jt.grad``, and ``vjp.second-order``, since ``jt.grad``'s results are ``Var``\\ s
that ``jt.grad`` differentiates again), ``float64``, the tensor math and ``nn.functional``. jittor has no forward
mode, so ``jvp`` is undeclared, and the tape's specs (``requires_grad``, ``.grad``, ``backward()``, in-place
checks) are "unsupported".

Translations: ``vjp(fn, primals, cotangent)`` is ``jt.grad((fn(*primals) * cotangent).sum(), primals)``, the
vector-Jacobian product as the gradient of ``<cotangent, output>`` (``jt.grad`` takes a loss, not a cotangent);
reductions take the dimensions positionally and ``keepdims``; ``sigmoid`` is ``jt.sigmoid``; ``tensor64`` is
``jt.array(data, dtype="float64")`` (``jt.array`` alone makes float64 data float32: ``auto_convert_64_to_32``).
``nn.functional`` is ``jt.nn``'s own operators with torch's signatures: ``conv2d``, ``relu``, ``max_pool2d``,
``linear`` (``[out, in]`` weights, as torch's), ``cross_entropy`` is ``jt.nn.cross_entropy_loss``,
``adaptive_avg_pool2d`` a ``jt.nn.AdaptiveAvgPool2d`` module applied once, ``batch_norm`` is
``jt.nn.batch_norm``, which refuses ``training=True`` in its own words.

Operator families (``opgrad``): ``tensor.unary``, ``tensor.binary``, ``tensor.reductions``, ``tensor.shapes``,
``tensor.indexing``, ``functions``, ``nn.functional.activations``, ``nn.functional.conv``, ``nn.functional.pooling``,
``nn.functional.normalization``, ``nn.functional.losses``, ``nn.functional.layers`` and ``linalg`` (all thirteen)
are declared, each member translated to jittor's own function. Names that are not 1:1: ``square`` is ``jt.sqr``,
``neg`` ``jt.negative``, ``remainder`` ``jt.mod`` (Python's sign convention, as torch's), ``clamp``'s bounds
``min_v``/``max_v``, ``relu`` ``jt.nn.relu``,
``lgamma``/``digamma`` the ``jt.Function`` classes called through ``apply``; ``amax``/``amin`` are ``max``/``min``
over dimensions, and ``max(dim)``/``min(dim)`` torch's ``(values, indices)`` from ``argmax``/``argmin``, which return
``(indices, values)``; ``var``'s ``correction`` (0 or 1) is ``unbiased`` (jittor's default is biased, so it is always
passed); ``norm``'s ``dim=None`` is every dimension (jittor's default is the last); ``mT`` is ``transpose(-2, -1)``;
``squeeze(dim)`` is a reshape that leaves a dimension whose size is not 1, as torch's does (jittor's takes one
dimension and asserts its size is 1);
``scatter_add`` is ``scatter(..., reduce="add")`` and ``scatter_reduce``'s ``"sum"``/``"prod"`` are ``scatter``'s
``"add"``/``"multiply"``; ``ops.cat`` is ``jt.concat``, ``ops.where`` ``jt.ternary`` (jittor's ``where`` of one
argument is torch's ``nonzero``), ``ops.mm``/``ops.mv`` ``jt.matmul``, ``ops.broadcast_to`` ``jt.broadcast``,
``ops.einsum`` ``jt.linalg.einsum``, ``ops.kron``/``ops.tensordot`` ``jt.nn``'s; ``conv2d``'s ``padding="same"`` is
the padding per side it stands for, ``dilation * (kernel - 1) / 2`` (an even extent, which torch pads unevenly, raises
NotImplementedError), and ``conv_transpose2d`` is ``jt.nn.conv_transpose``; ``avg_pool2d``/``avg_pool3d``,
``adaptive_avg_pool3d`` and ``adaptive_max_pool2d`` are jittor's pooling modules (``AvgPool2d``, ...) applied once, as
its own ``avg_pool2d`` does; ``max_pool2d``/``max_pool3d``'s ``dilation=1`` is jittor's ``None``; the pools and
``unfold`` take torch's unbatched input too, on a batch of one (jittor's need the batch dimension); ``layer_norm``,
``group_norm`` and ``instance_norm`` take ``weight=1``/``bias=0`` for torch's ``None``; ``normalize`` is
``jt.normalize``; ``binary_cross_entropy`` is ``jt.nn.bce_loss``, and its and ``binary_cross_entropy_with_logits``'s
``reduction`` (mean or sum) is ``size_average``; ``leaky_relu``'s slope is ``scale``, ``logsigmoid`` is
``jt.nn.log_sigmoid``. Lacked (``lacks``), because jittor has no such operator: ``reciprocal``, ``erfc``, ``log1p``,
``log10``, ``exp2``, ``sinc``, ``polygamma``, ``mvlgamma``, ``i0``, ``frac``, ``logit``, ``nan_to_num``,
``fmax``/``fmin``, ``fmod``, ``lerp``, ``addcmul``/``addcdiv``, ``xlogy``, ``logaddexp``/``logaddexp2``, ``copysign``,
``float_power``; the cumulative max/min/logsumexp, ``nansum``/``nanmean``, ``trace``, ``diff``, ``dist``;
``fliplr``/``flipud``, ``tile``, ``narrow``, ``movedim``, ``unflatten``, ``diag_embed``, ``Tensor.unfold``,
``swapaxes``, ``rot90``, ``tensor_split``; ``masked_select``, ``take_along_dim``, ``index_copy``, ``index_fill``,
``take``, ``put``, ``index_put`` and ``index_add`` (jittor has only the in-place ``index_add_``); ``conv1d`` and
``conv_transpose1d``; the one-dimensional and power (lp) pooling; ``rms_norm`` and ``local_response_norm``; the losses
huber, kl_div (a module only, ``jt.nn.KLDivLoss``), poisson_nll, gaussian_nll, soft_margin, margin_ranking,
hinge_embedding, cosine_embedding, triplet_margin, multilabel_soft_margin and multi_margin; the functions
``hstack``/``vstack``/``dstack``, ``column_stack``, ``atleast_2d``, ``addmm``/``addmv``, ``dot``, ``inner``,
``cdist``, ``block_diag``, ``cartesian_prod``, ``trapezoid``/``cumulative_trapezoid`` and ``logdet``; the activations
selu, celu, hardswish, hardsigmoid, softsign, tanhshrink, softshrink, hardshrink, glu, softmin, threshold; ``prelu``
(only a module with its own weight, ``jt.nn.PReLU``). Lacked because an entry needs what jittor's function does not
give: ``std`` (no ``correction``: always Bessel's, and ``opgrad.std-dim-correction0`` needs 0), ``median`` (over a
dimension it returns the values without torch's indices, which ``opgrad.median-dim`` takes), ``cross_entropy`` among
the losses (no ``label_smoothing``, no probability targets, which ``opgrad.cross-entropy-label-smoothing`` and
``-probabilities`` need), ``smooth_l1_loss`` (no ``beta``) and ``gelu`` (no ``approximate="tanh"``, which
``opgrad.gelu-tanh`` needs). Where jittor's own function deviates (``lgamma`` has no gradient, ``mod``'s gradient of
the divisor ignores the output gradient, ``digamma`` computes float64 in single precision, ``softplus`` is not linear
above its threshold, ``norm`` refuses ``p=3``, ``cumprod`` is nan after a negative factor, ``index_select`` past
dimension 0 selects rows, ``clamp`` refuses tensor bounds, grouped ``conv_transpose`` computes wrong values,
``mse_loss`` has no reduction none, ``nll_loss`` keeps ``ignore_index=0`` and refuses 4-d inputs, ``avg_pool2d``
ignores ``count_include_pad=False``, 3-d pooling refuses a dimension as large as the kernel, ``max_pool2d`` refuses
dilation, ``group_norm`` flattens a 3-d input, ``layer_norm``'s float64 gradient is imprecise) the failure is in
``known_failures/jittor.json``, reproduced in plain jittor in ``tests/test_engines.py``. The second derivative through
``cumsum`` (a ``jt.numpy_code`` operator on the CPU) kills the process with a segmentation fault: only a run under
``--isolate`` or ``-n`` survives it, with the verdict "crashed" (the tox env ``jittor`` passes ``--isolate``). For
that the adapter resets ``SIGCHLD`` to its default when it is made: jittor's own handler ends the process whenever a
child of it dies of a signal, so the crashed xdist worker would otherwise take the controller, the rest of the run and
its report with it.

``nn.functional.layers`` is ``jt.nn``'s ``embedding``, ``interpolate`` (its default mode is bilinear, torch's
nearest, so the mode is always passed), ``pad``, ``bilinear``, ``unfold``, ``fold``, ``grid_sample``,
``affine_grid``, ``jittor.attention``'s ``scaled_dot_product_attention`` and the ``PixelShuffle`` module applied
once; it lacks ``pixel_unshuffle``, ``cosine_similarity`` and ``pairwise_distance``. ``linalg`` is
``jt.linalg``'s ``solve``, ``inv``, ``det``, ``slogdet``, ``cholesky`` and ``pinv``, with ``jt.norm`` for
``vector_norm`` and ``norm`` (the 2-norm of all elements only) and ``jt.cross``; it lacks ``matrix_norm``,
``eigvalsh``, ``svdvals``, ``matrix_power``, ``multi_dot``, ``matrix_exp``, ``solve_triangular`` and ``vecdot``.
Their deviations are known failures too: jittor rounds a Python float to float32 before it meets a float64 ``Var``
(``promotion.python-scalar-float64``; grid_sample's grid ``g * 0.8`` and attention's ``scale=0.3`` inherit it),
bilinear resizing weighs float64 pixels in float32, ``interpolate`` refuses 3-d and 5-d inputs, constant padding
by 0.5 fails to compile its kernel, ``solve`` gives the right-hand side a zero gradient and refuses a broadcast
one, ``cross`` does not broadcast and ``norm`` refuses orders other than 1 and 2. ``jt.linalg``'s inv, det,
slogdet and pinv are ``jt.numpy_code`` operators like cumsum, and their second derivatives crash the same way
(seven more "crashed" specs): the tox env passes ``--max-worker-restart=30``, since pytest-xdist's default of four
restarts per worker would leave the rest of the suite not run. A failed operator that a failed spec's traceback
still holds is run again by jittor at the next fetch of any value, failing the next spec with the first one's
error: the adapter's ``reset`` collects it before each spec.

Settings: jittor reads its configuration from environment variables when it is imported. Before the first
import the adapter sets two defaults with ``os.environ.setdefault`` (a value the user set wins):
``nvcc_path=""``, because jittor finds an ``nvcc`` on machines without a CUDA runtime and then fails, and
without it would download a CUDA toolkit of its own; and ``use_mkl=0``, because jittor otherwise downloads
oneDNN at import. Its compiled kernels are cached under ``JITTOR_HOME`` (default: the home directory), keyed by
the jittor installation's path; the README's jittor section and the tox env ``jittor`` fix that directory.
"""

from __future__ import annotations

import gc
import os
import signal
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import capabilities as cap
from .batching import unbatched
from .contract import Backend, import_engine
from .proxy import TensorProxy, pair, squeezed_dims, translate

#: environment defaults jittor needs on a CPU machine, set before its import (see the module docstring)
JITTOR_ENVIRONMENT = {"nvcc_path": "", "use_mkl": "0"}


def _jittor() -> types.ModuleType:
    for name, value in JITTOR_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    return import_engine("jittor")


def _names(names: str) -> frozenset[str]:
    """The space-separated ``names``, as the tables below list them."""
    return frozenset(names.split())


class JittorTensor(TensorProxy):
    """A jittor ``Var`` seen through torch's names."""

    keepdim_keyword = "keepdims"

    @classmethod
    def engine_tensor_type(cls) -> type:
        return _jittor().Var

    def _reduce(self, name: str, dim: Any, keepdim: bool) -> Any:
        """jittor takes the dimensions of a reduction positionally (its keyword is ``dim`` for one, ``dims`` for
        several)."""
        reduce = getattr(self.wrapped, name)
        return self.wrap(reduce() if dim is None else reduce(dim, keepdims=keepdim))

    def _unary(self, name: str) -> Any:
        return getattr(_jittor(), name)(self.wrapped)

    # --- tensor.unary ----------------------------------------------------------------------------------
    def clamp(self, min: Any = None, max: Any = None) -> Any:
        """``jt.clamp``, whose bounds are ``min_v`` and ``max_v``."""
        return self.wrap(_jittor().clamp(self.wrapped, min_v=self.unwrap(min), max_v=self.unwrap(max)))

    def relu(self) -> Any:
        return self.wrap(_jittor().nn.relu(self.wrapped))

    # --- tensor.reductions -----------------------------------------------------------------------------
    def prod(self, dim: Any = None, keepdim: bool = False) -> Any:
        return self._reduce("prod", dim, keepdim)

    def amax(self, dim: Any = (), keepdim: bool = False) -> Any:
        """jittor's ``max`` over dimensions (torch's ``dim=()`` is all of them)."""
        return self._reduce("max", None if dim == () else dim, keepdim)

    def amin(self, dim: Any = (), keepdim: bool = False) -> Any:
        return self._reduce("min", None if dim == () else dim, keepdim)

    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """All elements: jittor's ``max``; over ``dim``: torch's ``(values, indices)`` from jittor's ``argmax``,
        which returns ``(indices, values)``."""
        return self._extreme("max", dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return self._extreme("min", dim, keepdim)

    def _extreme(self, name: str, dim: int | None, keepdim: bool) -> Any:
        if dim is None:
            return self.wrap(getattr(self.wrapped, name)())
        indices, values = getattr(self.wrapped, f"arg{name}")(dim, keepdims=keepdim)
        return self.wrap(values), self.wrap(indices)

    def var(self, dim: Any = None, *, correction: int = 1, keepdim: bool = False) -> Any:
        """jittor's ``var`` with ``unbiased`` for torch's ``correction`` (1, Bessel's, is torch's default and 0 is
        none; jittor has no other), one dimension as ``dim`` and several as ``dims``."""
        if correction not in (0, 1):
            raise NotImplementedError(f"jittor's var has no correction={correction}, only unbiased (1) or not (0)")
        dims = {"dims": tuple(dim)} if isinstance(dim, (tuple, list)) else {"dim": dim}
        return self.wrap(self.wrapped.var(**dims, unbiased=bool(correction), keepdims=keepdim))

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Any:
        """jittor's ``norm``, whose ``dim`` defaults to the last one: torch's ``dim=None`` (all elements) is every
        dimension, and torch's default ``p="fro"`` the 2-norm."""
        dims = tuple(range(len(self.shape))) if dim is None else dim
        return self.wrap(self.wrapped.norm(2 if p == "fro" else p, dims, keepdims=keepdim))

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Any:
        return self.wrap(self.wrapped.logsumexp(dim, keepdims=keepdim))

    def cumsum(self, dim: int) -> Any:
        return self.wrap(self.wrapped.cumsum(dim))

    def cumprod(self, dim: int) -> Any:
        return self.wrap(self.wrapped.cumprod(dim))

    # --- tensor.shapes ---------------------------------------------------------------------------------
    @property
    def mT(self) -> Any:
        """jittor's ``transpose`` of the last two dimensions."""
        return self.wrap(self.wrapped.transpose(-2, -1))

    def expand_as(self, other: Any) -> Any:
        return self.wrap(self.wrapped.expand_as(self.unwrap(other)))

    def squeeze(self, dim: Any = None) -> Any:
        """jittor's squeeze takes one dimension and refuses one whose size is not 1, which torch leaves as it is; and
        squeezing every dimension away is jittor's 0-d shape, ``(1,)`` (it has no 0-d ``Var``: ``reshape([])``
        raises)."""
        shape = self.wrapped.shape
        dims = range(len(shape)) if dim is None else squeezed_dims(shape, dim)
        kept = [size for d, size in enumerate(shape) if d not in dims or size != 1]
        return self.wrap(self.wrapped.reshape(kept or [1]))

    def t(self) -> Any:
        """torch's ``t()`` of a vector (or a 0-d tensor) is the tensor itself; jittor's needs two dimensions."""
        return self.wrap(self.wrapped.t()) if len(self.wrapped.shape) == 2 else self

    def split(self, split_size: Any, dim: int = 0) -> list:
        return [self.wrap(part) for part in _jittor().split(self.wrapped, split_size, dim)]

    def chunk(self, chunks: int, dim: int = 0) -> list:
        return [self.wrap(part) for part in _jittor().chunk(self.wrapped, chunks, dim)]

    def unbind(self, dim: int = 0) -> list:
        return [self.wrap(part) for part in _jittor().unbind(self.wrapped, dim)]

    # --- tensor.indexing -------------------------------------------------------------------------------
    def scatter_add(self, dim: int, index: Any, src: Any) -> Any:
        """jittor's ``scatter`` with ``reduce="add"``."""
        return self.wrap(self.wrapped.scatter(dim, self.unwrap(index), self.unwrap(src), reduce="add"))

    def scatter_reduce(self, dim: int, index: Any, src: Any, reduce: str, *, include_self: bool = True) -> Any:
        """jittor's ``scatter`` with its name of torch's reduction (``"sum"`` is ``"add"``, ``"prod"``
        ``"multiply"``); jittor always includes the input's own values, as torch's default ``include_self``."""
        reductions = {"sum": "add", "prod": "multiply"}
        if reduce not in reductions or not include_self:
            raise NotImplementedError(
                f"jittor's scatter has no reduce={reduce!r}, include_self={include_self}: only sum and prod, "
                "including the input's values"
            )
        return self.wrap(self.wrapped.scatter(dim, self.unwrap(index), self.unwrap(src), reduce=reductions[reduce]))

    def lgamma(self) -> Any:
        """jittor's ``lgamma`` and ``digamma`` are ``jt.Function`` classes, called through ``apply``."""
        return self.wrap(_jittor().lgamma.apply(self.wrapped))

    def digamma(self) -> Any:
        return self.wrap(_jittor().digamma.apply(self.wrapped))


#: torch's elementwise tensor methods (``tensor.unary``, ``tensor.binary``) that are jittor functions, the tensor
#: first: the same name, or jittor's own (``square`` is ``sqr``, ``neg`` is ``negative``, ``remainder`` is ``mod``)
ELEMENTWISE = {
    **{
        name: name
        for name in _names(
            "cos tan asin acos atan sinh cosh asinh acosh atanh abs rsqrt erf erfinv expm1 log2 deg2rad rad2deg "
            "maximum minimum atan2 hypot"
        )
    },
    "square": "sqr",
    "neg": "negative",
    "remainder": "mod",
}
translate(JittorTensor, lambda name: getattr(_jittor(), name), ELEMENTWISE)
#: torch's shape methods that are jittor's of the same name, with torch's arguments
SHAPE_METHODS = (
    "view permute transpose expand unsqueeze flip roll repeat contiguous diagonal diag tril triu repeat_interleave"
)
translate(JittorTensor, lambda name: getattr(_jittor(), name), {name: name for name in _names(SHAPE_METHODS)})
#: torch's index-taking methods that are jittor's ``Var`` methods of the same name and arguments
INDEX_METHODS = "gather scatter index_select masked_fill"
translate(JittorTensor, lambda name: getattr(_jittor().Var, name), {name: name for name in _names(INDEX_METHODS)})


def _on_proxies(function: Any) -> Any:
    """jittor's ``function`` of ``Var``\\ s as a function of proxies: the arguments unwrapped, the result wrapped."""
    return lambda *args: JittorTensor.wrap(function(*map(JittorTensor.unwrap, args)))


def _same_padding(kernel_size: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """torch's ``padding="same"`` (stride 1) as the padding per side it stands for, ``dilation * (kernel - 1) / 2``;
    an even extent, which torch pads unevenly, has no such number."""
    extents = [d * (k - 1) for k, d in zip(kernel_size, dilation, strict=True)]
    if any(extent % 2 for extent in extents):
        raise NotImplementedError("jittor's conv2d pads both sides alike: padding='same' with an even kernel extent")
    return tuple(extent // 2 for extent in extents)


def _affine(weight: Any, bias: Any) -> tuple[Any, Any]:
    """torch's ``weight=None``/``bias=None`` (no affine transform) as jittor's normalizations spell it, 1 and 0."""
    return (1 if weight is None else JittorTensor.unwrap(weight)), (0 if bias is None else JittorTensor.unwrap(bias))


def _functional() -> types.SimpleNamespace:
    """torch's ``nn.functional`` operators of resnet18 as ``jt.nn``'s own (see the module docstring)."""
    jt = _jittor()
    wrap, unwrap = JittorTensor.wrap, JittorTensor.unwrap

    def conv2d(
        input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
    ) -> Any:
        """jittor's ``conv2d``, whose padding is numbers: torch's ``padding="same"`` is the padding it stands for."""
        if padding == "same":
            padding = _same_padding(weight.shape[2:], pair(dilation))
        return wrap(
            jt.nn.conv2d(
                unwrap(input),
                unwrap(weight),
                unwrap(bias),
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
            )
        )

    def conv3d(
        input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
    ) -> Any:
        return wrap(jt.nn.conv3d(unwrap(input), unwrap(weight), unwrap(bias), stride, padding, dilation, groups))

    def transposed(function: Any) -> Any:
        """jittor's transposed convolution ``function``, whose arguments are torch's, in torch's order."""

        def conv_transpose(
            input: Any,
            weight: Any,
            bias: Any = None,
            stride: Any = 1,
            padding: Any = 0,
            output_padding: Any = 0,
            groups: int = 1,
            dilation: Any = 1,
        ) -> Any:
            return wrap(
                function(unwrap(input), unwrap(weight), unwrap(bias), stride, padding, output_padding, groups, dilation)
            )

        return conv_transpose

    def batch_norm(
        input: Any,
        running_mean: Any,
        running_var: Any,
        weight: Any = None,
        bias: Any = None,
        training: bool = False,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> Any:
        affine = {name: unwrap(value) for name, value in (("weight", weight), ("bias", bias)) if value is not None}
        return wrap(
            jt.nn.batch_norm(
                unwrap(input),
                unwrap(running_mean),
                unwrap(running_var),
                training=training,
                momentum=momentum,
                eps=eps,
                **affine,
            )
        )

    def maximum(pool: Any) -> Any:
        """jittor's max pooling ``pool``, whose ``dilation`` for none is ``None`` (torch's 1)."""

        def max_pool(
            input: Any,
            kernel_size: Any,
            stride: Any = None,
            padding: Any = 0,
            dilation: Any = 1,
            ceil_mode: bool = False,
        ) -> Any:
            dilation = None if dilation in (1, (1, 1), (1, 1, 1)) else dilation
            return wrap(pool(unwrap(input), kernel_size, stride, padding, dilation, ceil_mode=ceil_mode))

        return max_pool

    def average(pool: Any) -> Any:
        """jittor's average pooling module ``pool`` (its ``avg_pool2d`` is one too) applied once, with torch's
        arguments."""

        def avg_pool(
            input: Any,
            kernel_size: Any,
            stride: Any = None,
            padding: Any = 0,
            ceil_mode: bool = False,
            count_include_pad: bool = True,
        ) -> Any:
            return wrap(pool(kernel_size, stride, padding, ceil_mode, count_include_pad)(unwrap(input)))

        return avg_pool

    def adaptive(module: Any) -> Any:
        """jittor's adaptive pooling ``module`` (it has no function), applied once."""
        return lambda input, output_size: wrap(module(output_size)(unwrap(input)))

    def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
        """jittor's ``layer_norm``, ``group_norm`` and ``instance_norm`` take ``weight=1`` and ``bias=0`` for none."""
        return wrap(jt.nn.layer_norm(unwrap(input), tuple(normalized_shape), *_affine(weight, bias), eps=eps))

    def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
        return wrap(jt.nn.group_norm(unwrap(input), num_groups, *_affine(weight, bias), eps=eps))

    def instance_norm(
        input: Any,
        running_mean: Any = None,
        running_var: Any = None,
        weight: Any = None,
        bias: Any = None,
        use_input_stats: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> Any:
        if running_mean is not None or running_var is not None or not use_input_stats:
            raise NotImplementedError("jittor's instance_norm normalises by the input's statistics only")
        weight, bias = _affine(weight, bias)
        return wrap(jt.nn.instance_norm(unwrap(input), weight=weight, bias=bias, eps=eps))

    def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Any:
        return wrap(jt.normalize(unwrap(input), p=p, dim=dim, eps=eps))

    def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
        return wrap(jt.nn.AdaptiveAvgPool2d(pair(output_size))(unwrap(input)))

    def linear(input: Any, weight: Any, bias: Any = None) -> Any:
        return wrap(jt.nn.linear(unwrap(input), unwrap(weight), unwrap(bias)))

    def cross_entropy(input: Any, target: Any) -> Any:
        return wrap(jt.nn.cross_entropy_loss(unwrap(input), unwrap(target)))

    def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
        return wrap(jt.nn.softplus(unwrap(input), beta=beta, threshold=threshold))

    def elu(input: Any, alpha: float = 1.0) -> Any:
        return wrap(jt.nn.elu(unwrap(input), alpha=alpha))

    def leaky_relu(input: Any, negative_slope: float = 0.01) -> Any:
        """jittor's ``leaky_relu``, whose slope is ``scale``."""
        return wrap(jt.nn.leaky_relu(unwrap(input), scale=negative_slope))

    def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0) -> Any:
        return wrap(jt.nn.hardtanh(unwrap(input), min_val=min_val, max_val=max_val))

    def softmax(input: Any, dim: int) -> Any:
        return wrap(jt.nn.softmax(unwrap(input), dim))

    def log_softmax(input: Any, dim: int) -> Any:
        return wrap(jt.nn.log_softmax(unwrap(input), dim))

    def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
        return wrap(jt.nn.mse_loss(unwrap(input), unwrap(target), reduction=reduction))

    def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
        if reduction != "mean":
            raise NotImplementedError(f"jittor's l1_loss has no reduction={reduction!r}: it is always the mean")
        return wrap(jt.nn.l1_loss(unwrap(input), unwrap(target)))

    def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> Any:
        return wrap(
            jt.nn.nll_loss(
                unwrap(input), unwrap(target), weight=unwrap(weight), ignore_index=ignore_index, reduction=reduction
            )
        )

    def size_average(reduction: str, function: str) -> bool:
        """jittor's ``size_average`` for torch's ``reduction``: the mean (True) or the sum (False)."""
        if reduction not in ("mean", "sum"):
            raise NotImplementedError(f"jittor's {function} has no reduction={reduction!r}, only mean or sum")
        return reduction == "mean"

    def binary_cross_entropy(input: Any, target: Any, weight: Any = None, reduction: str = "mean") -> Any:
        """``jt.nn.bce_loss``."""
        average = size_average(reduction, "bce_loss")
        return wrap(jt.nn.bce_loss(unwrap(input), unwrap(target), weight=unwrap(weight), size_average=average))

    def binary_cross_entropy_with_logits(
        input: Any, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
    ) -> Any:
        average = size_average(reduction, "binary_cross_entropy_with_logits")
        return wrap(
            jt.nn.binary_cross_entropy_with_logits(
                unwrap(input),
                unwrap(target),
                weight=unwrap(weight),
                pos_weight=unwrap(pos_weight),
                size_average=average,
            )
        )

    def interpolate(
        input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest", align_corners: Any = None
    ) -> Any:
        """``jt.nn.interpolate``, whose default mode is bilinear (torch's nearest) and ``align_corners`` a bool."""
        return wrap(jt.nn.interpolate(unwrap(input), size, scale_factor, mode, bool(align_corners)))

    def pad(input: Any, pad: Any, mode: str = "constant", value: Any = None) -> Any:
        """``jt.nn.pad``, whose constant for torch's ``value=None`` is 0."""
        return wrap(jt.nn.pad(unwrap(input), pad, mode, 0 if value is None else value))

    def scaled_dot_product_attention(
        query: Any,
        key: Any,
        value: Any,
        attn_mask: Any = None,
        dropout_p: float = 0.0,
        is_causal: bool = False,
        scale: Any = None,
    ) -> Any:
        """``jittor.attention``'s ``scaled_dot_product_attention``, torch's signature."""
        return wrap(
            jt.attention.scaled_dot_product_attention(
                *map(unwrap, (query, key, value, attn_mask)), dropout_p, is_causal, scale
            )
        )

    def bilinear(input1: Any, input2: Any, weight: Any, bias: Any = None) -> Any:
        return _on_proxies(jt.nn.bilinear)(input1, input2, weight, bias)

    def pixel_shuffle(input: Any, upscale_factor: int) -> Any:
        """jittor's ``PixelShuffle`` module (it has no function), applied once."""
        return wrap(jt.nn.PixelShuffle(upscale_factor)(unwrap(input)))

    def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
        return wrap(jt.nn.unfold(unwrap(input), kernel_size, dilation, padding, stride))

    def fold(
        input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
    ) -> Any:
        return wrap(jt.nn.fold(unwrap(input), output_size, kernel_size, dilation, padding, stride))

    def grid_sample(
        input: Any, grid: Any, mode: str = "bilinear", padding_mode: str = "zeros", align_corners: Any = None
    ) -> Any:
        return wrap(jt.nn.grid_sample(unwrap(input), unwrap(grid), mode, padding_mode, bool(align_corners)))

    def affine_grid(theta: Any, size: Any, align_corners: Any = None) -> Any:
        return wrap(jt.nn.affine_grid(unwrap(theta), list(size), bool(align_corners)))

    return types.SimpleNamespace(
        silu=_on_proxies(jt.nn.silu),
        softplus=softplus,
        elu=elu,
        leaky_relu=leaky_relu,
        hardtanh=hardtanh,
        relu6=_on_proxies(jt.nn.relu6),
        mish=_on_proxies(jt.nn.mish),
        logsigmoid=_on_proxies(jt.nn.log_sigmoid),
        sigmoid=_on_proxies(jt.sigmoid),
        tanh=_on_proxies(jt.tanh),
        softmax=softmax,
        log_softmax=log_softmax,
        conv2d=conv2d,
        conv3d=conv3d,
        conv_transpose2d=transposed(jt.nn.conv_transpose2d),
        conv_transpose3d=transposed(jt.nn.conv_transpose3d),
        batch_norm=batch_norm,
        relu=_on_proxies(jt.nn.relu),
        max_pool2d=unbatched(maximum(jt.nn.max_pool2d), 2),
        max_pool3d=unbatched(maximum(jt.nn.max_pool3d), 3),
        avg_pool2d=unbatched(average(jt.nn.AvgPool2d), 2),
        avg_pool3d=unbatched(average(jt.nn.AvgPool3d), 3),
        adaptive_avg_pool3d=unbatched(adaptive(jt.nn.AdaptiveAvgPool3d), 3),
        adaptive_max_pool2d=unbatched(adaptive(jt.nn.AdaptiveMaxPool2d), 2),
        layer_norm=layer_norm,
        group_norm=group_norm,
        instance_norm=instance_norm,
        normalize=normalize,
        adaptive_avg_pool2d=unbatched(adaptive_avg_pool2d, 2),
        linear=linear,
        cross_entropy=cross_entropy,
        mse_loss=mse_loss,
        l1_loss=l1_loss,
        nll_loss=nll_loss,
        binary_cross_entropy=binary_cross_entropy,
        binary_cross_entropy_with_logits=binary_cross_entropy_with_logits,
        embedding=_on_proxies(jt.nn.embedding),
        interpolate=interpolate,
        pad=pad,
        scaled_dot_product_attention=scaled_dot_product_attention,
        bilinear=bilinear,
        pixel_shuffle=pixel_shuffle,
        unfold=unbatched(unfold, 2),  # torch unfolds an unbatched (C, H, W) input too
        fold=fold,
        grid_sample=grid_sample,
        affine_grid=affine_grid,
    )


def _ops() -> types.SimpleNamespace:
    """torch's top-level functions of several tensors (``functions``) as jittor's own (see the module docstring)."""
    jt = _jittor()
    wrap, unwrap = JittorTensor.wrap, JittorTensor.unwrap

    def cat(tensors: Any, dim: int = 0) -> Any:
        return wrap(jt.concat([unwrap(tensor) for tensor in tensors], dim))

    def stack(tensors: Any, dim: int = 0) -> Any:
        return wrap(jt.stack([unwrap(tensor) for tensor in tensors], dim))

    def where(condition: Any, input: Any, other: Any) -> Any:
        """``jt.ternary``: jittor's ``where`` of one argument is torch's ``nonzero``."""
        return wrap(jt.ternary(unwrap(condition), unwrap(input), unwrap(other)))

    def einsum(equation: str, *operands: Any) -> Any:
        return wrap(jt.linalg.einsum(equation, *map(unwrap, operands)))

    def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: float = 1, alpha: float = 1) -> Any:
        return wrap(jt.baddbmm(unwrap(input), unwrap(batch1), unwrap(batch2), beta=beta, alpha=alpha))

    def tensordot(a: Any, b: Any, dims: Any = 2) -> Any:
        return wrap(jt.nn.tensordot(unwrap(a), unwrap(b), dims))

    def cross(input: Any, other: Any, dim: int | None = None) -> Any:
        if dim is None:
            raise NotImplementedError("jittor's cross has no dim=None (torch's first dimension of size 3): give dim")
        return wrap(jt.cross(unwrap(input), unwrap(other), dim))

    def broadcast_to(input: Any, size: Any) -> Any:
        return wrap(jt.broadcast(unwrap(input), tuple(size)))

    def clamp(input: Any, min: Any = None, max: Any = None) -> Any:
        return wrap(jt.clamp(unwrap(input), min_v=unwrap(min), max_v=unwrap(max)))

    return types.SimpleNamespace(
        cat=cat,
        stack=stack,
        where=where,
        einsum=einsum,
        bmm=_on_proxies(jt.bmm),
        baddbmm=baddbmm,
        mm=_on_proxies(jt.matmul),
        mv=_on_proxies(jt.matmul),
        outer=_on_proxies(jt.outer),
        kron=_on_proxies(jt.nn.kron),
        tensordot=tensordot,
        cross=cross,
        broadcast_to=broadcast_to,
        clamp=clamp,
    )


def _linalg() -> types.SimpleNamespace:
    """torch's ``linalg`` functions that are ``jt.linalg``'s (see the module docstring); the norms are ``jt.norm``'s
    and ``cross`` ``jt.cross``."""
    jt = _jittor()
    wrap, unwrap = JittorTensor.wrap, JittorTensor.unwrap

    def slogdet(A: Any) -> tuple[Any, Any]:
        sign, logabsdet = jt.linalg.slogdet(unwrap(A))
        return wrap(sign), wrap(logabsdet)

    def vector_norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False) -> Any:
        """``jt.norm`` of order ``ord``; torch's ``dim=None`` (all elements) is every dimension."""
        dims = tuple(range(len(x.shape))) if dim is None else dim
        return wrap(jt.norm(unwrap(x), ord, dims, keepdims=keepdim))

    def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False) -> Any:
        """torch's default (``ord=None``) is the 2-norm of all elements, the Frobenius norm of a matrix."""
        if ord is not None:
            raise NotImplementedError(f"jittor has no matrix norm of ord={ord!r}: only the 2-norm of all elements")
        return vector_norm(A, 2, dim, keepdim)

    def cross(input: Any, other: Any, dim: int = -1) -> Any:
        return wrap(jt.cross(unwrap(input), unwrap(other), dim))

    return types.SimpleNamespace(
        solve=_on_proxies(jt.linalg.solve),
        inv=_on_proxies(jt.linalg.inv),
        det=_on_proxies(jt.linalg.det),
        slogdet=slogdet,
        cholesky=_on_proxies(jt.linalg.cholesky),
        pinv=_on_proxies(jt.linalg.pinv),
        norm=norm,
        vector_norm=vector_norm,
        cross=cross,
    )


class JittorBackend(Backend):
    """jittor ``Var``\\ s on the CPU, float32 unless float64 is asked for."""

    engine = "jittor"
    capabilities = frozenset(
        {cap.VJP, cap.SECOND_ORDER, cap.FLOAT64, cap.TENSOR_MATH, cap.FUNCTIONAL}
        | {cap.UNARY, cap.BINARY, cap.REDUCTIONS, cap.SHAPES, cap.INDEXING, cap.FUNCTIONS}
        | {cap.ACTIVATIONS, cap.CONVOLUTIONS, cap.POOLING, cap.NORMALIZATION, cap.LOSSES, cap.LAYERS, cap.LINALG}
    )
    #: the members of declared families jittor has no function for (see the module docstring)
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: _names("reciprocal erfc log1p log10 exp2 sinc polygamma mvlgamma i0 frac logit nan_to_num"),
        cap.BINARY: _names("fmax fmin fmod lerp addcmul addcdiv xlogy logaddexp logaddexp2 copysign float_power"),
        # std: jittor's has no correction (always Bessel's), and opgrad.std-dim-correction0 needs correction=0
        cap.REDUCTIONS: _names("std cummax cummin logcumsumexp median nansum nanmean trace diff dist"),
        # gelu: jittor's has no approximate="tanh", which opgrad.gelu-tanh needs; prelu is a module (jt.nn.PReLU) only
        cap.ACTIVATIONS: _names(
            "functional.gelu functional.selu functional.celu functional.hardswish functional.hardsigmoid "
            "functional.softsign functional.tanhshrink functional.softshrink functional.hardshrink functional.glu "
            "functional.prelu functional.softmin functional.threshold"
        ),
        # index_add is jittor's in-place index_add_ only; the others have no jittor function
        cap.INDEXING: _names("masked_select take_along_dim index_add index_copy index_fill take put index_put"),
        cap.FUNCTIONS: _names(
            "ops.hstack ops.vstack ops.dstack ops.addmm ops.addmv ops.dot ops.inner ops.cdist ops.block_diag "
            "ops.cartesian_prod ops.atleast_2d ops.column_stack ops.trapezoid ops.cumulative_trapezoid ops.logdet"
        ),
        cap.CONVOLUTIONS: _names("functional.conv1d functional.conv_transpose1d"),
        # cross_entropy: jittor's cross_entropy_loss has no label_smoothing and no probability targets, which
        # opgrad.cross-entropy-label-smoothing and -probabilities need; smooth_l1_loss has no beta; kl_div is a module
        cap.LOSSES: _names(
            "functional.cross_entropy functional.smooth_l1_loss functional.huber_loss functional.kl_div "
            "functional.poisson_nll_loss functional.gaussian_nll_loss functional.soft_margin_loss "
            "functional.margin_ranking_loss functional.hinge_embedding_loss functional.cosine_embedding_loss "
            "functional.triplet_margin_loss functional.multilabel_soft_margin_loss functional.multi_margin_loss"
        ),
        cap.POOLING: _names(
            "functional.avg_pool1d functional.max_pool1d functional.adaptive_avg_pool1d functional.adaptive_max_pool1d "
            "functional.lp_pool1d functional.lp_pool2d"
        ),
        cap.NORMALIZATION: _names("functional.rms_norm functional.local_response_norm"),
        cap.SHAPES: _names("fliplr flipud tile narrow movedim unflatten diag_embed unfold swapaxes rot90 tensor_split"),
        cap.LAYERS: _names("functional.pixel_unshuffle functional.cosine_similarity functional.pairwise_distance"),
        cap.LINALG: _names(
            "linalg.matrix_norm linalg.eigvalsh linalg.svdvals linalg.matrix_power linalg.multi_dot linalg.matrix_exp "
            "linalg.solve_triangular linalg.vecdot"
        ),
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "jittor.json"
    findings_file = Path(__file__).parent / "findings" / "jittor.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._jt = _jittor()
        # jittor's SIGCHLD handler ends this process when any child of it dies of a signal: a crashed xdist worker
        # (--isolate, -n) would take the whole run, and its report, with it (see the module docstring)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.functional = _functional()
        self.ops = _ops()
        self.linalg = _linalg()

    @property
    def engine_version(self) -> str:
        return self._jt.__version__

    def tensor(self, data: Any, *, requires_grad: bool = False) -> JittorTensor:
        array = np.asarray(data)
        return JittorTensor(self._jt.array(array.astype(np.float32) if array.dtype.kind == "f" else array))

    def tensor64(self, data: Any, *, requires_grad: bool = False) -> JittorTensor:
        return JittorTensor(self._jt.array(np.asarray(data, dtype=np.float64), dtype="float64"))

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return np.array(JittorTensor.unwrap(tensor).numpy(), copy=True)

    def vjp(self, fn: Any, primals: Any, cotangent: Any, *, create_graph: bool = False) -> tuple[Any, list]:
        """``jt.grad`` of ``<cotangent, fn(*primals)>``; its results are ``Var``\\ s that an enclosing ``jt.grad``
        differentiates again, so ``create_graph`` has nothing to add."""
        inputs = [JittorTensor.unwrap(primal) for primal in primals]
        output = JittorTensor.unwrap(fn(*map(JittorTensor, inputs)))
        gradients = self._jt.grad((output * JittorTensor.unwrap(cotangent)).sum(), inputs)
        return JittorTensor(output), [JittorTensor(gradient) for gradient in gradients]

    def seed(self, seed: int) -> None:
        self._jt.set_global_seed(seed)

    def reset(self) -> None:
        """Free the operators a spec left alive: jittor runs every live, unexecuted operator at the next fetch of
        any value, so the failed operator of one spec (kept by its traceback until collected) would fail the next
        spec's unrelated ones with its own error. Collected only when some are left, which a passing spec does not."""
        if self._jt.liveness_info()["lived_ops"]:
            gc.collect()
            self._jt.clean()

    def global_state(self) -> dict[str, Any]:
        """jittor's flags a spec could change: whether it runs on CUDA and whether gradients are recorded."""
        return {"use_cuda": self._jt.flags.use_cuda, "no_grad": self._jt.flags.no_grad}

    def restore_global_state(self, snapshot: dict[str, Any]) -> None:
        self._jt.flags.use_cuda = snapshot["use_cuda"]
        self._jt.flags.no_grad = snapshot["no_grad"]
