"""mygrad (NumPy-based autograd) behind the contract: a thin proxy translates torch's names to mygrad's.

mygrad spells ``requires_grad=False`` as ``constant=True``, takes ``backward(grad)``, keeps ``.grad`` as a
NumPy array, turns graph tracking off with ``mygrad.no_autodiff``, spells ``x.log()`` as ``mygrad.log(x)``
(``sigmoid`` is ``mygrad.nnet.sigmoid``), reductions' ``keepdim`` as ``keepdims`` and ``numpy()`` as the
``.data`` array. The proxy only renames; where mygrad behaves differently from torch (a vector backward
without a gradient, in-place operations rewritten instead of refused, ``.grad`` reset instead of
accumulated) the specs fail, and the failures are listed in ``known_failures/mygrad.json``.

Operator families: mygrad's own functions under torch's names, in torch's signatures, and nothing composed.

- ``tensor.unary``, ``tensor.binary``: mygrad's functions under NumPy's names (``x.asin()`` is
  ``mygrad.arcsin(x)``, ``neg`` is ``negative``, ``clamp`` is ``clip``, ``relu`` is ``mygrad.nnet.relu``). ``fmod``
  and ``remainder`` are lacked too: their functions refuse tensors that are not constant ("cannot involve
  non-constant mygrad tensors"), mygrad does not differentiate them.
- ``tensor.reductions``: ``dim``/``keepdim`` are ``axis``/``keepdims``, ``correction`` is ``ddof``; ``max(dim=)``
  and ``min(dim=)`` return torch's (values, indices) pair, the indices being mygrad's ``argmax``/``argmin``;
  ``norm`` is ``mygrad.linalg.norm``, a vector norm only, of the flattened tensor where torch reduces every
  element (``"fro"`` is order 2).
- ``tensor.shapes``: ``view`` and ``unflatten`` are ``reshape``, ``permute`` is ``transpose``, ``transpose`` and
  ``mT`` are ``swapaxes``, ``expand``/``expand_as`` are ``broadcast_to``, ``unsqueeze`` is ``expand_dims``,
  ``movedim`` is ``moveaxis``, ``repeat_interleave`` is ``repeat``.
- ``functions``: ``cat`` is ``concatenate``, ``mm``/``bmm``/``mv``/``dot`` are ``matmul`` (each of them on its
  operands' ranks), ``where``, ``einsum``, ``stack``, ``broadcast_to``, ``atleast_2d``, ``clamp`` (``clip``).
- ``linalg``: ``norm``/``vector_norm`` are ``mygrad.linalg.norm``, ``multi_dot`` is ``multi_matmul``.
- ``nn.functional.*`` and ``nn.functional`` (``mygrad.nnet``): ``elu``, ``selu``, ``leaky_relu``, ``hardtanh``
  (``hard_tanh``), ``softsign`` (``soft_sign``), ``glu``, ``sigmoid``, ``tanh``, ``softmax``, ``log_softmax``
  (``logsoftmax``), ``relu``; ``max_pool1d``/``max_pool3d`` (``max_pool`` over the trailing dimensions);
  ``batch_norm`` in training mode (``batchnorm``: batch statistics, none kept, so eval mode and running
  statistics are refused); ``margin_ranking_loss``; ``cross_entropy`` with class indices, averaged
  (``softmax_crossentropy``; other options are refused).

Lacked, listed in ``lacks``: what mygrad has no operator for (``gelu``, ``softplus``, ``logsumexp``, ``flip``,
``split``, ``tril``, ``gather``, ``solve``, ``mse_loss``, ``layer_norm``, ``linear``, average and adaptive
pooling, ...); and the operators mygrad has without an option an entry uses, which only an imitation could add:
``conv_nd`` has no bias, groups or ``padding="same"`` (so ``conv1d/2d/3d`` are lacked and ``nn.functional.conv``,
which has nothing else mygrad offers, is not declared), ``max_pool`` no padding or dilation (``max_pool2d``),
``batchnorm`` no running statistics (``batch_norm`` of ``nn.functional``, whose entry is in eval mode),
``negative_log_likelihood`` no ``ignore_index`` and no spatial targets, and its class weights average
``w[y]·x`` instead of dividing by the weights' sum (``nll_loss``), ``softmax_crossentropy`` no label smoothing,
probabilities or weights (``cross_entropy`` of ``nn.functional.losses``); ``multiclass_hinge`` sums the margins
where torch's ``multi_margin_loss`` averages them over the classes (a different loss). ``tensor.indexing`` and
``nn.functional.layers`` are not declared: mygrad has none of their operators (no ``take_along_axis``, ``pad``,
``embedding``, ``interpolate``, ...), only indexing, which is always there.

Not declared, because mygrad has no counterpart and the adapter would have to imitate one: ``detach``
(no such operation; a constant tensor over the same array does not see later in-place changes),
``graph`` (``creator`` is there, but no ``is_leaf`` or ``next_functions``), ``nn``,
``optim.sgd``, ``models.resnet18``, ``retain_grad``/``retain_graph``, hooks, ``autograd.grad``,
``grad_mode.switches`` and ``threads`` (not documented as supported).
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import capabilities as cap
from .contract import Backend, import_engine
from .proxy import TensorProxy, numpy_spelling, squeezed_dims, translate


class MygradTensor(TensorProxy):
    """A mygrad tensor seen through torch's names (``requires_grad``, ``backward(gradient=...)``, ``.grad``)."""

    keepdim_keyword = "keepdims"

    @classmethod
    def engine_tensor_type(cls) -> type:
        return import_engine("mygrad").Tensor

    @property
    def requires_grad(self) -> bool:
        return not self.wrapped.constant

    @property
    def grad(self) -> MygradTensor | None:
        grad = self.wrapped.grad
        return None if grad is None else MygradTensor(import_engine("mygrad").tensor(grad, constant=True))

    def backward(self, gradient: Any = None) -> None:
        self.wrapped.backward(None if gradient is None else np.asarray(self.unwrap(gradient)))

    def _unary(self, name: str) -> Any:
        mygrad = import_engine("mygrad")
        return (mygrad.nnet.sigmoid if name == "sigmoid" else getattr(mygrad, name))(self.wrapped)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> MygradTensor:
        """mygrad's ``flatten()`` is NumPy's (every dimension); torch's dims are a ``reshape`` in mygrad."""
        shape = self.shape
        end = end_dim % len(shape) if shape else 0
        return MygradTensor(self.wrapped.reshape(*shape[:start_dim], -1, *shape[end + 1 :]))

    def numpy(self) -> np.ndarray:
        """mygrad's ``.data`` is the NumPy array itself, as torch's ``numpy()`` shares the tensor's memory."""
        return self.wrapped.data

    def tolist(self) -> list:
        return self.wrapped.data.tolist()

    # In-place operations are mygrad's own augmented assignment and item assignment, which rewrite the
    # graph instead of refusing where torch refuses.
    def add_(self, other: Any) -> MygradTensor:
        self.wrapped += self.unwrap(other)
        return self

    def fill_(self, value: Any) -> MygradTensor:
        self.wrapped[...] = self.unwrap(value)
        return self

    def zero_(self) -> MygradTensor:
        return self.fill_(0.0)

    def __setitem__(self, index: Any, value: Any) -> None:
        self.wrapped[index] = self.unwrap(value)

    @property
    def data(self) -> MygradTensor:
        """mygrad's ``.data`` is the NumPy array itself; wrapped without copying, as a constant."""
        return MygradTensor(import_engine("mygrad").Tensor(self.wrapped.data, constant=True, copy=False))

    def clamp(self, min: Any = None, max: Any = None) -> MygradTensor:
        """mygrad's ``clip`` takes its bounds positionally, as ``a_min`` and ``a_max``."""
        return MygradTensor(import_engine("mygrad").clip(self.wrapped, self.unwrap(min), self.unwrap(max)))

    def relu(self) -> MygradTensor:
        return MygradTensor(import_engine("mygrad").nnet.relu(self.wrapped))

    # --- reductions (tensor.reductions): torch's dim/keepdim/correction are mygrad's axis/keepdims/ddof ----------
    def prod(self, dim: Any = None, keepdim: bool = False) -> MygradTensor:
        return self._reduce("prod", dim, keepdim)

    def amax(self, dim: Any = (), keepdim: bool = False) -> MygradTensor:
        """torch's ``dim=()`` (the default) reduces every dimension, as mygrad's ``axis=None``."""
        return MygradTensor(
            import_engine("mygrad").amax(self.wrapped, axis=None if dim == () else dim, keepdims=keepdim)
        )

    def amin(self, dim: Any = (), keepdim: bool = False) -> MygradTensor:
        return MygradTensor(
            import_engine("mygrad").amin(self.wrapped, axis=None if dim == () else dim, keepdims=keepdim)
        )

    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """torch's ``max()`` is mygrad's ``max``; over ``dim`` torch returns (values, indices), the indices being
        mygrad's ``argmax`` (a constant, as torch's indices do not require grad)."""
        return self._extremum("max", dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return self._extremum("min", dim, keepdim)

    def _extremum(self, name: str, dim: int | None, keepdim: bool) -> Any:
        mygrad = import_engine("mygrad")
        if dim is None:
            return MygradTensor(getattr(mygrad, name)(self.wrapped))
        values = getattr(mygrad, name)(self.wrapped, axis=dim, keepdims=keepdim)
        indices = getattr(mygrad, f"arg{name}")(self.wrapped, axis=dim)
        indices = mygrad.tensor(np.expand_dims(indices, dim) if keepdim else indices, constant=True)
        return MygradTensor(values), MygradTensor(indices)

    def std(self, dim: Any = None, *, correction: int = 1, keepdim: bool = False) -> MygradTensor:
        """torch's ``correction`` (Bessel's, 1 by default) is mygrad's ``ddof`` (0 by default)."""
        return MygradTensor(self.wrapped.std(axis=dim, ddof=correction, keepdims=keepdim))

    def var(self, dim: Any = None, *, correction: int = 1, keepdim: bool = False) -> MygradTensor:
        return MygradTensor(self.wrapped.var(axis=dim, ddof=correction, keepdims=keepdim))

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> MygradTensor:
        """``mygrad.linalg.norm``, a vector norm: torch's ``"fro"`` is order 2, and without ``dim`` torch takes
        the norm of all elements, which mygrad does of the flattened tensor (it refuses matrix norms)."""
        return _vector_norm(self, 2 if p == "fro" else p, dim, keepdim)

    def cumsum(self, dim: int) -> MygradTensor:
        return MygradTensor(self.wrapped.cumsum(axis=dim))

    def cumprod(self, dim: int) -> MygradTensor:
        return MygradTensor(self.wrapped.cumprod(axis=dim))

    # --- shapes (tensor.shapes): NumPy's names and axis arguments -----------------------------------------
    def view(self, *shape: Any) -> MygradTensor:
        """mygrad has no views that share storage with autograd; ``reshape`` gives the same values and gradient."""
        return self.reshape(*shape)

    def permute(self, *dims: Any) -> MygradTensor:
        return MygradTensor(import_engine("mygrad").transpose(self.wrapped, _sizes(dims)))

    def transpose(self, dim0: int, dim1: int) -> MygradTensor:
        """torch's ``transpose`` swaps two dimensions: NumPy's ``swapaxes`` (NumPy's ``transpose`` permutes)."""
        return self.swapaxes(dim0, dim1)

    def swapaxes(self, axis0: int, axis1: int) -> MygradTensor:
        return MygradTensor(self.wrapped.swapaxes(axis0, axis1))

    def t(self) -> MygradTensor:
        return MygradTensor(self.wrapped.T)

    @property
    def mT(self) -> MygradTensor:
        return self.swapaxes(-2, -1)

    def expand(self, *sizes: int) -> MygradTensor:
        """``broadcast_to``; torch's size -1 keeps that dimension's size."""
        shape, sizes = self.shape, _sizes(sizes)
        offset = len(sizes) - len(shape)
        target = tuple(shape[i - offset] if size == -1 else size for i, size in enumerate(sizes))
        return MygradTensor(import_engine("mygrad").broadcast_to(self.wrapped, target))

    def expand_as(self, other: Any) -> MygradTensor:
        return self.expand(*other.shape)

    def squeeze(self, dim: Any = None) -> MygradTensor:
        """torch leaves a named dimension whose size is not 1 as it is, where NumPy's (and mygrad's) refuses it."""
        axes = None if dim is None else squeezed_dims(self.wrapped.shape, dim)
        return MygradTensor(self.wrapped.squeeze(axis=axes))

    def unsqueeze(self, dim: int) -> MygradTensor:
        return MygradTensor(import_engine("mygrad").expand_dims(self.wrapped, dim))

    def roll(self, shifts: Any, dims: Any = None) -> MygradTensor:
        return MygradTensor(import_engine("mygrad").roll(self.wrapped, shifts, axis=dims))

    def repeat_interleave(self, repeats: Any, dim: int | None = None) -> MygradTensor:
        """torch's ``repeat_interleave`` is NumPy's ``repeat`` (torch's ``repeat`` is NumPy's ``tile``)."""
        return MygradTensor(import_engine("mygrad").repeat(self.wrapped, repeats, axis=dim))

    def movedim(self, source: Any, destination: Any) -> MygradTensor:
        return MygradTensor(self.wrapped.moveaxis(source, destination))

    def unflatten(self, dim: int, sizes: Any) -> MygradTensor:
        """torch's ``unflatten`` splits one dimension into ``sizes``: a ``reshape`` in mygrad."""
        shape = self.shape
        dim %= len(shape)
        return self.reshape(*shape[:dim], *sizes, *shape[dim + 1 :])


def _sizes(args: tuple) -> tuple:
    """torch's sizes or dims given as separate arguments, ``x.permute(2, 0, 1)``, or as one sequence."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], tuple | list) else args


def _vector_norm(x: MygradTensor, ord: Any, dim: Any, keepdim: bool) -> MygradTensor:
    """``mygrad.linalg.norm`` of order ``ord`` over ``dim``, or of all elements (the flattened tensor) without."""
    norm = import_engine("mygrad").linalg.norm
    if dim is None:
        if keepdim:
            raise NotImplementedError("mygrad's norm of all elements has no keepdims; give the dims to reduce")
        return MygradTensor(norm(x.wrapped.reshape(-1), ord=ord))
    return MygradTensor(norm(x.wrapped, ord=ord, axis=dim, keepdims=keepdim))


#: torch's elementwise tensor methods that are mygrad functions, by torch's name: NumPy's names where they differ
ELEMENTWISE = {
    name: numpy_spelling(name)
    for name in [
        "abs",
        "cos",
        "cosh",
        "tan",
        "sinh",
        "expm1",
        "log1p",
        "log2",
        "log10",
        "exp2",
        "sinc",
        "reciprocal",
        "square",
        "asin",
        "acos",
        "atan",
        "asinh",
        "acosh",
        "atanh",
        "neg",
        "atan2",
        "maximum",
        "minimum",
        "logaddexp",
        "logaddexp2",
    ]
}
translate(MygradTensor, lambda name: getattr(import_engine("mygrad"), name), ELEMENTWISE)


def _engine_call(function: Any, *args: Any, **kwargs: Any) -> Any:
    """``function`` (mygrad's) on the unwrapped arguments (tensors inside lists too), its result wrapped."""
    unwrap = MygradTensor.unwrap

    def engine_value(value: Any) -> Any:
        return [unwrap(item) for item in value] if isinstance(value, list | tuple) else unwrap(value)

    result = function(*map(engine_value, args), **{key: engine_value(value) for key, value in kwargs.items()})
    return MygradTensor.wrap(result)


def _functional() -> types.SimpleNamespace:
    """torch's ``nn.functional`` operators that ``mygrad.nnet`` has, with torch's signatures."""
    mygrad = import_engine("mygrad")
    nnet = mygrad.nnet

    def max_pool(dims: int) -> Any:
        """torch's ``max_pool{dims}d`` over the last ``dims`` dimensions: ``nnet.max_pool`` places its windows
        without padding or dilation (it has neither)."""

        def pool(input: Any, kernel_size: Any, stride: Any = None, padding: int = 0, dilation: int = 1) -> Any:
            if padding != 0 or dilation != 1:
                raise NotImplementedError(f"mygrad's max_pool has no padding or dilation (max_pool{dims}d)")
            kernel = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
            return _engine_call(nnet.max_pool, input, kernel, kernel if stride is None else stride)

        pool.__name__ = f"max_pool{dims}d"
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
    ) -> Any:
        """``nnet.batchnorm`` normalises by the batch's statistics: torch's training mode without running
        statistics to update (mygrad keeps none)."""
        if not training or running_mean is not None or running_var is not None:
            raise NotImplementedError("mygrad's batchnorm has no running statistics (eval mode or their update)")
        return _engine_call(nnet.batchnorm, input, gamma=weight, beta=bias, eps=eps)

    def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0, reduction: str = "mean"):
        if reduction != "mean":
            raise NotImplementedError(f"mygrad's margin_ranking_loss is the mean; it has no reduction {reduction!r}")
        return _engine_call(nnet.margin_ranking_loss, input1, input2, target, margin)

    def cross_entropy(input: Any, target: Any, weight: Any = None, reduction: str = "mean", **options: Any) -> Any:
        """``nnet.softmax_crossentropy``: class indices, averaged; mygrad has no class weights, other reductions,
        probability targets, ignored index or label smoothing."""
        if weight is not None or reduction != "mean" or options:
            raise NotImplementedError("mygrad's softmax_crossentropy takes class indices and averages, nothing more")
        return _engine_call(nnet.softmax_crossentropy, input, target)

    return types.SimpleNamespace(
        relu=lambda input: _engine_call(nnet.relu, input),
        cross_entropy=cross_entropy,
        elu=lambda input, alpha=1.0: _engine_call(nnet.elu, input, alpha),
        selu=lambda input: _engine_call(nnet.selu, input),
        leaky_relu=lambda input, negative_slope=0.01: _engine_call(nnet.leaky_relu, input, negative_slope),
        hardtanh=lambda input, min_val=-1.0, max_val=1.0: _engine_call(
            nnet.hard_tanh, input, lower_bound=min_val, upper_bound=max_val
        ),
        softsign=lambda input: _engine_call(nnet.soft_sign, input),
        glu=lambda input, dim=-1: _engine_call(nnet.glu, input, dim),
        sigmoid=lambda input: _engine_call(nnet.sigmoid, input),
        tanh=lambda input: _engine_call(mygrad.tanh, input),
        softmax=lambda input, dim: _engine_call(nnet.softmax, input, dim),
        log_softmax=lambda input, dim: _engine_call(nnet.logsoftmax, input, dim),
        max_pool1d=max_pool(1),
        max_pool3d=max_pool(3),
        batch_norm=batch_norm,
        margin_ranking_loss=margin_ranking_loss,
    )


def _ops() -> types.SimpleNamespace:
    """torch's functions of several tensors that mygrad has under NumPy's names: ``cat`` is ``concatenate``,
    ``mm``/``bmm``/``mv``/``dot`` are ``matmul`` (which is each of them for 2-d, 3-d, matrix-vector and 1-d
    operands), ``clamp`` is ``clip``."""
    mygrad = import_engine("mygrad")
    return types.SimpleNamespace(
        cat=lambda tensors, dim=0: _engine_call(mygrad.concatenate, tensors, axis=dim),
        stack=lambda tensors, dim=0: _engine_call(mygrad.stack, tensors, axis=dim),
        where=lambda condition, input, other: _engine_call(mygrad.where, condition, input, other),
        einsum=lambda equation, *operands: _engine_call(mygrad.einsum, equation, *operands),
        **{name: lambda input, other: _engine_call(mygrad.matmul, input, other) for name in ["mm", "bmm", "mv", "dot"]},
        broadcast_to=lambda input, size: _engine_call(mygrad.broadcast_to, input, size),
        atleast_2d=lambda input: _engine_call(mygrad.atleast_2d, input),
        clamp=lambda input, min=None, max=None: _engine_call(mygrad.clip, input, min, max),
    )


def _linalg() -> types.SimpleNamespace:
    """``torch.linalg``'s vector norms as ``mygrad.linalg.norm`` (mygrad refuses matrix norms), ``multi_dot`` as
    ``mygrad.multi_matmul``."""
    mygrad = import_engine("mygrad")
    return types.SimpleNamespace(
        norm=lambda input, ord=None, dim=None, keepdim=False: _engine_call(
            mygrad.linalg.norm, input, ord=ord, axis=dim, keepdims=keepdim
        ),
        vector_norm=lambda x, ord=2, dim=None, keepdim=False: _vector_norm(x, ord, dim, keepdim),
        multi_dot=lambda tensors: _engine_call(mygrad.multi_matmul, tensors),
    )


def _named(prefix: str, names: str) -> frozenset[str]:
    """The space-separated ``names`` as the capability table spells them, under ``prefix`` (``functional.``)."""
    return frozenset(prefix + name for name in names.split())


class MygradBackend(Backend):
    """mygrad tensors on the host, float32 like torch's default."""

    engine = "mygrad"
    capabilities = frozenset(
        {cap.AUTOGRAD, cap.GRAD_MODE, cap.INPLACE, cap.NUMPY, cap.TENSOR_MATH, cap.FLOAT64, cap.FUNCTIONAL}
        | {cap.UNARY, cap.BINARY, cap.REDUCTIONS, cap.SHAPES, cap.FUNCTIONS, cap.LINALG}
        | {cap.ACTIVATIONS, cap.POOLING, cap.NORMALIZATION, cap.LOSSES}
    )
    #: what mygrad has no operator for (see the module docstring for the members lacked for a missing option)
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.FUNCTIONAL: _named("functional.", "conv2d batch_norm max_pool2d adaptive_avg_pool2d linear"),
        cap.UNARY: _named(
            "", "erf erfc erfinv rsqrt lgamma digamma polygamma mvlgamma i0 frac logit deg2rad rad2deg nan_to_num"
        ),
        cap.BINARY: _named("", "fmod remainder fmax fmin hypot lerp addcmul addcdiv xlogy copysign float_power"),
        cap.REDUCTIONS: _named("", "logsumexp cummax cummin logcumsumexp median nansum nanmean trace diff dist"),
        cap.SHAPES: _named(
            "",
            "split chunk unbind tensor_split flip fliplr flipud rot90 repeat tile narrow contiguous diagonal "
            "diag_embed diag tril triu unfold",
        ),
        cap.FUNCTIONS: _named(
            "ops.",
            "hstack vstack dstack column_stack baddbmm addmm addmv outer inner kron tensordot cdist cross "
            "block_diag cartesian_prod trapezoid cumulative_trapezoid logdet",
        ),
        cap.LINALG: _named(
            "linalg.",
            "solve inv det slogdet cholesky matrix_norm eigvalsh svdvals pinv matrix_power matrix_exp cross "
            "solve_triangular vecdot",
        ),
        cap.ACTIVATIONS: _named(
            "functional.",
            "gelu silu softplus celu relu6 hardswish hardsigmoid mish logsigmoid tanhshrink softshrink hardshrink "
            "prelu softmin threshold",
        ),
        cap.POOLING: _named(
            "functional.",
            "avg_pool1d avg_pool2d avg_pool3d max_pool2d adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d "
            "adaptive_max_pool1d adaptive_max_pool2d lp_pool1d lp_pool2d",
        ),
        cap.NORMALIZATION: _named(
            "functional.", "layer_norm group_norm instance_norm rms_norm local_response_norm normalize"
        ),
        cap.LOSSES: _named(
            "functional.",
            "mse_loss l1_loss smooth_l1_loss huber_loss nll_loss cross_entropy binary_cross_entropy "
            "binary_cross_entropy_with_logits kl_div poisson_nll_loss gaussian_nll_loss soft_margin_loss "
            "hinge_embedding_loss cosine_embedding_loss triplet_margin_loss multilabel_soft_margin_loss "
            "multi_margin_loss",
        ),
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "mygrad.json"
    findings_file = Path(__file__).parent / "findings" / "mygrad.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._mygrad = import_engine("mygrad")
        self.functional = _functional()
        self.ops = _ops()
        self.linalg = _linalg()

    @property
    def engine_version(self) -> str:
        return self._mygrad.__version__

    def tensor(self, data: Any, *, requires_grad: bool = False) -> MygradTensor:
        return self._make(data, np.float32, requires_grad)

    def tensor64(self, data: Any, *, requires_grad: bool = False) -> MygradTensor:
        return self._make(data, np.float64, requires_grad)

    def _make(self, data: Any, dtype: type, requires_grad: bool) -> MygradTensor:
        array = np.asarray(data)
        if array.dtype.kind == "f":
            array = array.astype(dtype)
        return MygradTensor(self._mygrad.tensor(array, constant=not requires_grad))

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return np.array(MygradTensor.unwrap(tensor), copy=True)

    def no_grad(self):
        return self._mygrad.no_autodiff

    def is_grad_enabled(self) -> bool:
        return self._mygrad.no_autodiff.state

    def global_state(self) -> dict[str, Any]:
        return {"mygrad.no_autodiff.state": self._mygrad.no_autodiff.state}

    def restore_global_state(self, snapshot: dict[str, Any]) -> None:
        self._mygrad.no_autodiff.state = snapshot["mygrad.no_autodiff.state"]
