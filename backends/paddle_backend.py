"""PaddlePaddle's dynamic graph behind the contract: a thin proxy translates torch's names to paddle's.

paddle spells ``requires_grad`` as its inverse, ``stop_gradient``; ``retain_grad()`` as ``retain_grads()``;
the version counter ``_version`` as ``inplace_version``; ``autograd.grad`` as ``paddle.grad``;
``autograd.Function`` as ``paddle.autograd.PyLayer``, whose context hands back what ``save_for_backward`` kept
with the method ``saved_tensor()`` instead of the attribute ``saved_tensors``; ``nn.Conv2d`` as
``nn.Conv2D``; ``optim.SGD`` with momentum as ``optimizer.Momentum(learning_rate=..., momentum=...)``;
``models.resnet18`` is ``paddle.vision.models.resnet18``. Its in-place methods take tensors, so a Python number
given to ``add_`` becomes a 0-d paddle tensor of the same dtype. Grad mode (``no_grad``, ``set_grad_enabled``,
``enable_grad``), ``is_leaf``, ``grad_fn``, ``detach``, ``.data``, ``register_hook``, ``backward(grad,
retain_graph=...)``, ``saved_tensors_hooks`` and ``nn.functional`` are paddle's own under torch's names.

Layouts and conventions: paddle's ``nn.Linear(in, out)`` keeps its weight as ``[in, out]``, the transpose of
torch's ``[out, in]``; the adapter leaves paddle's layers as they are (no spec compares a layer's weights
with torch's). ``functional.linear(x, weight, bias)`` takes torch's ``[out, in]`` weight, as its signature
says, and hands paddle's ``linear`` the transpose (``weight.T``, a paddle operation of the graph), so the
gradient compared with torch's is paddle's own through that transpose. ``functional.batch_norm``'s
``momentum`` is torch's (weight of the new statistics), given to paddle as ``1 - momentum`` (weight of the
running ones).

Elementwise functions (``tensor.unary``, ``tensor.binary``) are paddle's functions of torch's names (``clamp``
is ``paddle.clip``, ``mvlgamma`` is ``paddle.multigammaln``, ``relu`` is ``nn.functional.relu``); those paddle
lacks (``erfc``, ``exp2``, ``fmod``, ``xlogy``, ...) are listed in ``lacks``.

The other eleven operator families (``nn.functional.*``, ``tensor.reductions``, ``tensor.shapes``,
``tensor.indexing``, ``functions``, ``linalg``) are declared too. paddle 3 takes torch's ``dim`` and ``keepdim``
in most tensor methods, which keep torch's names; ``max``, ``min``, ``median`` and ``split`` are paddle's
``compat`` functions (torch's values and indices); ``std``'s ``correction`` is paddle's ``unbiased``,
``cummax``/``cummin``/``logcumsumexp``/``nansum`` take ``axis``, ``movedim`` is ``moveaxis``, ``index_fill``
takes the index before the axis and ``index_put`` a list of indices. The ``functional``, ``ops`` and ``linalg``
namespaces and their argument translations are in :mod:`backends.paddle_operators`. Lacked, as paddle has no
such operator: ``softmin``, ``fliplr``/``flipud``, ``index_copy``, ``put``, ``addmv``, ``logdet``; and
``ops.clamp`` (``clip`` takes one-element bounds, the entry tensor bounds) and the pooling family's
``max_pool2d`` (no ``dilation``, which an entry uses; the training step's ``max_pool2d`` still runs).

Where paddle behaves differently from torch the specs fail, and the failures are listed in
``known_failures/paddle.json``: its errors are often ``ValueError`` or ``SystemError`` where torch raises
``RuntimeError``, ``numpy()`` never refuses, every tensor has a ``grad_fn`` node (leaves included),
``PyLayer`` does not check saved tensors' versions, ``BatchNorm2D`` lists its running statistics among
``parameters()``, ``batch_norm`` needs running statistics even in training mode, layers have no full backward
hook and ``Momentum`` has no ``param_groups``. Among operators: ``diag_embed``'s input and the targets of
``binary_cross_entropy_with_logits`` and ``kl_div(log_target=True)`` and ``gaussian_nll_loss``'s variance get no
gradient, overlapping ``unfold`` windows and one-group ``group_norm`` get wrong ones, soft-label
``cross_entropy`` assumes probabilities summing to one, ``lp_pool``, linear ``interpolate`` and exclusive
``avg_pool2d`` are float32-precise in float64, ``linalg.cross`` does not broadcast, ``layer_norm`` takes a 1-d
weight only and ``rms_norm`` has no CPU kernel.

Not declared: ``graph.names`` (paddle names its nodes ``AddGradNode``, ``SumGradNode``,
``GradNodeAccumulation``, and its ``next_functions`` is a flat list of nodes; torch's names would be a table
made up by the adapter), ``models.pretrained`` (paddle's resnet18 loads paddle's own weights files, not a
torch state dict), ``inference_mode`` (paddle has none), ``anomaly`` (no ``detect_anomaly``; paddle's NaN
checks are global flags that neither name the backward node nor show the forward traceback) and
``threads`` (paddle does not document its dynamic-graph autograd as safe to run from several threads, and its
grad mode is process-wide).

Tensors and layers are created on paddle's current device (``paddle.get_device()``); on the CPU build that
is the host, and the backend's device is ``cpu``. paddle's layer initialisation draws from paddle's own
random generator, which :meth:`PaddleBackend.seed` seeds per spec; inputs come from NumPy's seeded one as for
every backend.
"""

from __future__ import annotations

import types
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import capabilities as cap
from . import paddle_operators
from .contract import Backend, import_engine
from .proxy import TensorProxy, engine_function, torch_chunks, translate


class PaddleTensor(TensorProxy):
    """A paddle tensor seen through torch's names (``requires_grad``, ``_version``, ``retain_grad()``, ...)."""

    @classmethod
    def engine_tensor_type(cls) -> type:
        return import_engine("paddle").Tensor

    # --- autograd: requires_grad is the inverse of paddle's stop_gradient ------------------------------
    @property
    def requires_grad(self) -> bool:
        return not self.wrapped.stop_gradient

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.wrapped.stop_gradient = not value

    def requires_grad_(self, requires_grad: bool = True) -> PaddleTensor:
        self.wrapped.stop_gradient = not requires_grad
        return self

    @property
    def grad(self) -> PaddleTensor | None:
        return self.wrap(self.wrapped.grad)

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        self.wrapped.backward(self.unwrap(gradient), retain_graph=retain_graph)

    def retain_grad(self) -> None:
        self.wrapped.retain_grads()

    def register_hook(self, hook: Any) -> Any:
        """paddle's ``register_hook``, the hook seeing and returning proxies; paddle's handle has ``remove()``."""
        return self.wrapped.register_hook(lambda grad: self.unwrap(hook(self.wrap(grad))))

    # --- graph ---------------------------------------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        return self.wrapped.is_leaf

    @property
    def grad_fn(self) -> Any:
        """paddle's grad node as it is (``name()``, ``next_functions``)."""
        return self.wrapped.grad_fn

    def detach(self) -> PaddleTensor:
        return PaddleTensor(self.wrapped.detach())

    chunk = torch_chunks

    # --- in-place operations and the version counter ---------------------------------------------------
    @property
    def _version(self) -> int:
        return self.wrapped.inplace_version

    @property
    def data(self) -> PaddleTensor:
        return PaddleTensor(self.wrapped.data)

    def _operand(self, value: Any) -> Any:
        """A paddle tensor for a Python number: paddle's in-place methods take tensors only."""
        value = self.unwrap(value)
        if isinstance(value, self.engine_tensor_type()):
            return value
        return import_engine("paddle").to_tensor(value, dtype=self.wrapped.dtype)

    def add_(self, other: Any, *, alpha: Any = 1) -> PaddleTensor:
        self.wrapped.add_(self._operand(other), alpha=alpha)
        return self

    def fill_(self, value: Any) -> PaddleTensor:
        self.wrapped.fill_(value)
        return self

    def zero_(self) -> PaddleTensor:
        self.wrapped.zero_()
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        self.wrapped[index] = self.unwrap(value)

    def cpu(self) -> PaddleTensor:
        """paddle's ``cpu()`` returns the tensor itself when it is already on the host, and so does the proxy."""
        moved = self.wrapped.cpu()
        return self if moved is self.wrapped else PaddleTensor(moved)

    def clamp(self, min: Any = None, max: Any = None) -> PaddleTensor:
        """paddle's ``clip``, bounds by the same names."""
        return PaddleTensor(import_engine("paddle").clip(self.wrapped, min=self.unwrap(min), max=self.unwrap(max)))

    def relu(self) -> PaddleTensor:
        return PaddleTensor(import_engine("paddle").nn.functional.relu(self.wrapped))

    def mvlgamma(self, p: int) -> PaddleTensor:
        """paddle's ``multigammaln``."""
        return PaddleTensor(import_engine("paddle").multigammaln(self.wrapped, p))

    @classmethod
    def wrap(cls, value: Any) -> Any:
        """A paddle tensor wrapped, and so is each tensor of a list or tuple (``split``'s parts; ``max``'s values
        and indices, a plain tuple as torch's named one is indexed)."""
        if isinstance(value, (tuple, list)):
            return (list if isinstance(value, list) else tuple)(cls.wrap(item) for item in value)
        return super().wrap(value)

    # --- operators whose arguments paddle spells otherwise (tensor.reductions, shapes, indexing) -------
    @property
    def mT(self) -> PaddleTensor:
        return PaddleTensor(self.wrapped.mT)

    def std(self, dim: Any = None, *, correction: int = 1, keepdim: bool = False) -> PaddleTensor:
        """paddle's ``unbiased`` is torch's ``correction`` of 1 (True) or 0 (False)."""
        if correction not in (0, 1):
            raise NotImplementedError(f"paddle's std has unbiased True or False, not correction={correction}")
        return PaddleTensor(self.wrapped.std(axis=dim, unbiased=bool(correction), keepdim=keepdim))

    def cummax(self, dim: int) -> tuple:
        return self.wrap(self.wrapped.cummax(axis=dim))

    def cummin(self, dim: int) -> tuple:
        return self.wrap(self.wrapped.cummin(axis=dim))

    def logcumsumexp(self, dim: int) -> PaddleTensor:
        return PaddleTensor(self.wrapped.logcumsumexp(axis=dim))

    def nansum(self, dim: Any = None, keepdim: bool = False) -> PaddleTensor:
        return PaddleTensor(self.wrapped.nansum(axis=dim, keepdim=keepdim))

    def movedim(self, source: Any, destination: Any) -> PaddleTensor:
        """paddle's ``moveaxis``, NumPy's name."""
        return PaddleTensor(import_engine("paddle").moveaxis(self.wrapped, source, destination))

    def index_put(self, indices: Any, values: Any, accumulate: bool = False) -> PaddleTensor:
        """paddle's ``index_put`` takes the index tensors as a list where torch takes a tuple."""
        indices = [self.unwrap(index) for index in indices]
        return PaddleTensor(self.wrapped.index_put(indices, self.unwrap(values), accumulate))

    def index_fill(self, dim: int, index: Any, value: float) -> PaddleTensor:
        """paddle's ``index_fill`` takes the index before the axis."""
        return PaddleTensor(self.wrapped.index_fill(self.unwrap(index), dim, value))


#: torch's elementwise tensor methods that are paddle functions of the same name, the tensor first
ELEMENTWISE = (
    "abs cos cosh tan sinh asin acos atan asinh acosh atanh rsqrt reciprocal square erf erfinv expm1 log1p log2 log10 "
    "sinc lgamma digamma polygamma i0 frac logit deg2rad rad2deg nan_to_num neg "
    "maximum minimum fmax fmin atan2 hypot remainder lerp logaddexp copysign"
)
translate(
    PaddleTensor, lambda name: getattr(import_engine("paddle"), name), {name: name for name in ELEMENTWISE.split()}
)
#: torch's tensor methods of tensor.reductions, tensor.shapes and tensor.indexing that paddle's tensors have
#: under the same name, taking torch's arguments (paddle 3 accepts ``dim`` and ``keepdim`` beside ``axis``)
SAME_METHODS = (
    "prod amax amin norm logsumexp cumsum cumprod diff dist trace nanmean var "
    "view permute transpose t expand expand_as squeeze unsqueeze unbind flip roll repeat tile narrow contiguous "
    "unflatten diagonal diag_embed tril triu unfold repeat_interleave swapaxes rot90 tensor_split diag "
    "gather scatter scatter_add scatter_reduce index_select masked_fill masked_select take_along_dim index_add take"
)
translate(
    PaddleTensor, lambda name: getattr(import_engine("paddle").Tensor, name), {n: n for n in SAME_METHODS.split()}
)
#: torch's reductions returning (values, indices) over a dimension, and ``split`` by size or sizes: paddle's
#: ``compat`` functions, which follow torch's signatures (paddle's own ``max`` returns values only)
translate(
    PaddleTensor,
    lambda name: getattr(import_engine("paddle").compat, name),
    {n: n for n in ("max", "min", "median", "split")},
)


_wrap_all = PaddleTensor.wrap


def _unwrap_all(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap_all(item) for item in value)
    return PaddleModule.unwrap(value)


class PaddleModule:
    """A ``paddle.nn.Layer`` called on proxies, naming its parameters as proxies. Attributes are the layer's:
    sub-layers come back wrapped, and assigning a wrapped layer (``model.fc = nn.Linear(...)``) assigns paddle's."""

    def __init__(self, module: Any) -> None:
        object.__setattr__(self, "module", module)

    @staticmethod
    def unwrap(value: Any) -> Any:
        return value.module if isinstance(value, PaddleModule) else PaddleTensor.unwrap(value)

    def __call__(self, *inputs: Any) -> Any:
        return _wrap_all(self.module(*_unwrap_all(inputs)))

    def named_parameters(self) -> list[tuple[str, PaddleTensor]]:
        return [(name, PaddleTensor(param)) for name, param in self.module.named_parameters()]

    def parameters(self) -> list[PaddleTensor]:
        return [PaddleTensor(param) for param in self.module.parameters()]

    def register_forward_pre_hook(self, hook: Any) -> Any:
        return self.module.register_forward_pre_hook(lambda layer, inputs: _unwrap_all(hook(self, _wrap_all(inputs))))

    def register_forward_hook(self, hook: Any) -> Any:
        return self.module.register_forward_hook(
            lambda layer, inputs, output: _unwrap_all(hook(self, _wrap_all(inputs), _wrap_all(output)))
        )

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.module, name)
        if isinstance(value, import_engine("paddle").nn.Layer):
            return PaddleModule(value)
        return PaddleTensor.wrap(value)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.module, name, self.unwrap(value))

    def __repr__(self) -> str:
        return f"PaddleModule({self.module!r})"


class PaddleFunction:
    """torch's ``autograd.Function`` as paddle's ``PyLayer``: a subclass's static ``forward(ctx, ...)`` and
    ``backward(ctx, ...)`` become those of a PyLayer, called with proxies and a context whose ``saved_tensors``
    is paddle's ``saved_tensor()``."""

    _pylayer: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._pylayer = engine_function(
            cls, import_engine("paddle").autograd.PyLayer, context=PaddleContext, wrap=_wrap_all, unwrap=_unwrap_all
        )

    @classmethod
    def apply(cls, *args: Any) -> Any:
        return _wrap_all(cls._pylayer.apply(*_unwrap_all(args)))


class PaddleContext:
    """paddle's ``PyLayerContext`` under torch's names."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def save_for_backward(self, *tensors: Any) -> None:
        self.ctx.save_for_backward(*_unwrap_all(tensors))

    @property
    def saved_tensors(self) -> tuple:
        return tuple(_wrap_all(list(self.ctx.saved_tensor())))


class PaddleBackend(Backend):
    """paddle tensors and layers on paddle's current device, float32 like torch's default."""

    engine = "paddle"
    capabilities = frozenset(
        {
            cap.AUTOGRAD,
            cap.GRAD_MODE,
            cap.GRAPH,
            cap.INPLACE,
            cap.VERSION_COUNTER,
            cap.DETACH,
            cap.NUMPY,
            cap.NN,
            cap.RESNET18,
            cap.SGD,
            cap.FLOAT64,
            cap.FUNCTIONAL,
            cap.TENSOR_MATH,
            cap.RETAIN_GRAD,
            cap.RETAIN_GRAPH,
            cap.AUTOGRAD_GRAD,
            cap.HOOKS,
            cap.GRAD_MODE_SWITCHES,
            cap.SAVED_TENSOR_HOOKS,
            cap.CUSTOM_FUNCTION,
        }
        | cap.OPERATOR_FAMILIES
    )
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: frozenset({"erfc", "exp2"}),
        cap.BINARY: frozenset({"fmod", "addcmul", "addcdiv", "xlogy", "logaddexp2", "float_power"}),
        cap.ACTIVATIONS: frozenset({"functional.softmin"}),
        # paddle's max_pool2d has no dilation, which the pooling family's entries use
        cap.POOLING: frozenset({"functional.max_pool2d"}),
        cap.SHAPES: frozenset({"fliplr", "flipud"}),
        cap.INDEXING: frozenset({"index_copy", "put"}),
        # no addmv or logdet; paddle's clip takes one-element bounds only, not torch's tensor bounds
        cap.FUNCTIONS: frozenset({"ops.addmv", "ops.logdet", "ops.clamp"}),
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "paddle.json"
    findings_file = Path(__file__).parent / "findings" / "paddle.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        with warnings.catch_warnings():  # paddle warns at import that its C++ extension builder finds no ccache
            warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
            paddle = self._paddle = import_engine("paddle")
        nn = paddle.nn
        self.nn = types.SimpleNamespace(
            Linear=lambda in_features, out_features, bias=True: PaddleModule(
                nn.Linear(in_features, out_features, bias_attr=None if bias else False)
            ),
            Conv2d=lambda in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True: PaddleModule(
                nn.Conv2D(in_channels, out_channels, kernel_size, stride, padding, bias_attr=None if bias else False)
            ),
            Sequential=lambda *layers: PaddleModule(nn.Sequential(*map(PaddleModule.unwrap, layers))),
        )
        self.models = types.SimpleNamespace(resnet18=lambda: PaddleModule(paddle.vision.models.resnet18()))
        self.optim = types.SimpleNamespace(SGD=self._sgd)
        self.functional = types.SimpleNamespace(
            **{name: _unwrapping(function) for name, function in paddle_operators.functional().items()},
            batch_norm=self._batch_norm,
            linear=self._linear,
        )
        self.ops = types.SimpleNamespace(**{name: _unwrapping(f) for name, f in paddle_operators.ops().items()})
        self.linalg = types.SimpleNamespace(**{name: _unwrapping(f) for name, f in paddle_operators.linalg().items()})
        self.autograd = types.SimpleNamespace(
            grad=self._grad,
            Function=PaddleFunction,
            graph=types.SimpleNamespace(saved_tensors_hooks=self._saved_tensors_hooks),
        )

    @property
    def engine_version(self) -> str:
        return self._paddle.__version__

    @property
    def device(self) -> str:
        device = self._paddle.get_device()
        return "cpu" if device == "cpu" else f"paddle:{device}"

    # --- tensors -----------------------------------------------------------------------------------------
    def tensor(self, data: Any, *, requires_grad: bool = False) -> PaddleTensor:
        return self._make(data, np.float32, requires_grad)

    def tensor64(self, data: Any, *, requires_grad: bool = False) -> PaddleTensor:
        return self._make(data, np.float64, requires_grad)

    def _make(self, data: Any, dtype: type, requires_grad: bool) -> PaddleTensor:
        array = np.asarray(PaddleTensor.unwrap(data))
        if array.dtype.kind == "f":
            array = array.astype(dtype)
        return PaddleTensor(self._paddle.to_tensor(array, stop_gradient=not requires_grad))

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return np.array(PaddleTensor.unwrap(tensor).numpy(), copy=True)

    # --- grad mode: paddle's own, process-wide ---------------------------------------------------------
    def no_grad(self):
        return self._paddle.no_grad()

    def is_grad_enabled(self) -> bool:
        return self._paddle.is_grad_enabled()

    def set_grad_enabled(self, mode: bool):
        return self._paddle.set_grad_enabled(mode)

    def enable_grad(self):
        return self._paddle.enable_grad()

    def seed(self, seed: int) -> None:
        self._paddle.seed(seed)

    def global_state(self) -> dict[str, Any]:
        return {"paddle.is_grad_enabled": self._paddle.is_grad_enabled(), "paddle.default_dtype": self._dtype()}

    def restore_global_state(self, snapshot: dict[str, Any]) -> None:
        self._paddle.set_grad_enabled(snapshot["paddle.is_grad_enabled"])
        self._paddle.set_default_dtype(snapshot["paddle.default_dtype"])

    def _dtype(self) -> str:
        return str(self._paddle.get_default_dtype())

    # --- translations with torch's signatures ----------------------------------------------------------
    def _sgd(self, params: Any, lr: float, momentum: float = 0.0) -> Any:
        """torch's ``SGD(params, lr, momentum)``: paddle's ``Momentum`` optimizer (SGD with momentum)."""
        return self._paddle.optimizer.Momentum(
            learning_rate=lr, momentum=momentum, parameters=[PaddleTensor.unwrap(p) for p in params]
        )

    def _linear(self, input: Any, weight: Any, bias: Any = None) -> PaddleTensor:
        """torch's ``linear`` takes its weight as [out, in]; paddle's as [in, out]."""
        weight = PaddleTensor.unwrap(weight)
        return PaddleTensor(self._paddle.nn.functional.linear(*_unwrap_all((input, weight.T, bias))))

    def _batch_norm(
        self,
        input: Any,
        running_mean: Any,
        running_var: Any,
        weight: Any = None,
        bias: Any = None,
        training: bool = False,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> PaddleTensor:
        """torch's ``batch_norm``; paddle's ``momentum`` weighs the running statistics, torch's the new ones."""
        args = _unwrap_all((input, running_mean, running_var, weight, bias))
        return PaddleTensor(
            self._paddle.nn.functional.batch_norm(*args, training=training, momentum=1 - momentum, epsilon=eps)
        )

    def _grad(
        self, outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: Any = None, create_graph=False
    ) -> tuple:
        """``paddle.grad``: the gradients of ``outputs`` w.r.t. ``inputs``, ``.grad`` untouched."""
        grads = self._paddle.grad(
            _unwrap_all(outputs),
            _unwrap_all(inputs),
            grad_outputs=_unwrap_all(grad_outputs),
            retain_graph=retain_graph,
            create_graph=create_graph,
        )
        return tuple(_wrap_all(list(grads)))

    def _saved_tensors_hooks(self, pack_hook: Any, unpack_hook: Any) -> Any:
        """paddle's ``saved_tensors_hooks``, the hooks seeing proxies."""
        return self._paddle.autograd.saved_tensors_hooks(
            lambda tensor: pack_hook(PaddleTensor(tensor)), lambda packed: PaddleTensor.unwrap(unpack_hook(packed))
        )


def _unwrapping(function: Any) -> Any:
    """paddle's ``function`` called with proxies unwrapped (positional and keyword), its result wrapped."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return _wrap_all(function(*_unwrap_all(args), **{key: _unwrap_all(value) for key, value in kwargs.items()}))

    call.__name__ = getattr(function, "__name__", "call")
    return call
