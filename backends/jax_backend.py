"""JAX behind the contract (CPU): a functional engine, differentiated by ``jax.vjp`` and ``jax.jvp``.

JAX has no tape: no ``requires_grad``, no ``.grad``, no ``backward()``. It declares what it has, the functional
gradient path (``vjp``, ``jvp`` and, since its transforms compose, ``vjp.second-order``), ``float64``, the
tensor math, ``nn.functional`` and the unary and binary tensor operators (all but ``frac``, ``lerp``,
``addcmul`` and ``addcdiv``, which JAX has no function for), so every gradient-value spec and those ``opgrad``
specs run on it; the tape's specs, and the other operator families, are "unsupported".

Translations: ``vjp`` and ``jvp`` are ``jax.vjp`` and ``jax.jvp`` of the spec's function seen on proxies;
``log``/``sin``/``tanh``/... are ``jax.numpy``'s functions, ``sigmoid`` is ``jax.nn.sigmoid``, reductions
take ``axis``/``keepdims``. ``nn.functional`` is JAX's own operators with torch's signatures and layouts
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
    )
    #: torch methods JAX has no function for (``frac``: ``x - trunc(x)``; ``lerp``, ``addcmul``, ``addcdiv``:
    #: fused forms of arithmetic)
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: frozenset({"frac"}),
        cap.BINARY: frozenset({"lerp", "addcmul", "addcdiv"}),
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
