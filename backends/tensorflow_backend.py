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
float64 tensors), ``tensor.math``, the elementwise families ``tensor.unary`` and ``tensor.binary``, and
``nn.functional.activations``: ``tf.nn``'s activations with torch's signatures (``gelu``'s
``approximate="tanh"`` is ``approximate=True``, ``leaky_relu``'s ``negative_slope`` is ``alpha``, ``logsigmoid``
is ``tf.math.log_sigmoid``, ``dim`` is ``axis``; ``tf.nn.elu`` has no ``alpha``, so another than 1 is refused
in words).

Translations: ``log``/``sin``/``tanh``/... are ``tf.math``'s functions (``neg`` is ``negative``, ``relu``
``tf.nn.relu``, ``i0`` ``bessel_i0``, ``polygamma(n)`` ``tf.math.polygamma(n, x)``); ``log2``, ``log10``,
``exp2``, ``sinc``, ``deg2rad``, ``rad2deg``, ``hypot``, ``logaddexp``, ``logaddexp2`` and
``float_power`` are TensorFlow's NumPy API's (``tf.experimental.numpy``); ``fmod`` is ``truncatemod`` (C's
remainder, the sign of the dividend), ``remainder`` ``floormod`` (Python's, the sign of the divisor); ``clamp``
is ``clip_by_value`` (``tf.maximum`` or ``tf.minimum`` when one bound is None); reductions take ``axis`` and
``keepdims``; ``flatten`` and ``reshape`` are ``tf.reshape``; ``@`` is ``tf.experimental.numpy.matmul`` (torch's
``@`` takes vectors, ``tf.linalg.matmul`` matrices only); an index of integer tensors, which TensorFlow's ``[]``
refuses, is ``tf.gather`` (one tensor) or ``tf.gather_nd`` (several, broadcast and stacked).

Left undeclared: the tape's specs (``autograd``, ``graph``, ``hooks``, ``retain_graph``, ...: TensorFlow's tape
is a context, not tensors that remember how they were made), ``inplace``/``version_counter`` (TensorFlow tensors
are immutable), ``nn``/``optim.sgd``/``models.resnet18`` (Keras is not TensorFlow's autograd), and, for lack of
time in this first adapter rather than of TensorFlow's operators, ``nn.functional`` (the training step's
operators) and its convolution, pooling, normalization, layer and loss families, the reductions, shapes,
indexing, ``functions`` and ``linalg``: they are "unsupported" until translated.

Lacked in the declared families, since TensorFlow has no function for them: ``frac``, ``logit`` and
``mvlgamma``; ``nan_to_num`` (the NumPy API's has no ``posinf``/``neginf``, which the catalogue passes); ``fmax``
and ``fmin`` (NaN-ignoring maximum and minimum); ``copysign``; ``lerp``, ``addcmul`` and ``addcdiv`` (fused forms of
arithmetic: composing them would imitate them); the activations ``celu``, ``hardtanh``, ``hardswish``,
``hardsigmoid``, ``mish``, ``tanhshrink``, ``softshrink``, ``hardshrink``, ``glu``, ``prelu``, ``softmin`` and
``threshold`` (``tf.nn`` has none; Keras's are not TensorFlow's), and ``softplus`` (``tf.nn.softplus`` has no
``beta`` or ``threshold``, which an entry needs).
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import capabilities as cap
from .contract import Backend, import_engine
from .proxy import TensorProxy, translate


def _tf() -> types.ModuleType:
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

    def _unary(self, name: str) -> Any:
        return _function(name)(self.wrapped)

    def _reduce(self, name: str, dim: Any, keepdim: bool) -> Any:
        """``tf.reduce_sum``/``tf.reduce_mean`` with ``axis`` and ``keepdims``."""
        reduce = getattr(_tf(), f"reduce_{name}")
        return self.wrap(reduce(self.wrapped, axis=dim, keepdims=keepdim))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> TensorflowTensor:
        """``tf.reshape`` to torch's flattened dimensions."""
        shape = self.shape
        end = end_dim % len(shape) if shape else 0
        return TensorflowTensor(_tf().reshape(self.wrapped, (*shape[:start_dim], -1, *shape[end + 1 :])))

    def reshape(self, *shape: Any) -> TensorflowTensor:
        """``tf.reshape``, the shape given as torch's arguments or one tuple."""
        sizes = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        return TensorflowTensor(_tf().reshape(self.wrapped, tuple(sizes)))

    def clamp(self, min: Any = None, max: Any = None) -> TensorflowTensor:
        """``tf.clip_by_value``; with one bound, ``tf.maximum`` or ``tf.minimum``."""
        tf, unwrap = _tf(), TensorProxy.unwrap
        if min is None and max is None:
            raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
        if max is None:
            return TensorflowTensor(tf.maximum(self.wrapped, unwrap(min)))
        if min is None:
            return TensorflowTensor(tf.minimum(self.wrapped, unwrap(max)))
        return TensorflowTensor(tf.clip_by_value(self.wrapped, unwrap(min), unwrap(max)))

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


def _functional() -> types.SimpleNamespace:
    """``nn.functional``'s activations with torch's signatures, as ``tf.nn``'s (and ``tf.math.log_sigmoid``)."""
    tf, unwrap = _tf(), TensorflowTensor.unwrap

    def elementwise(function: Any, **renamed: str) -> Any:
        """torch's ``fn(input, **options)`` as TensorFlow's ``function(x, **options)``, options renamed."""

        def operator(input: Any, *args: Any, **options: Any) -> TensorflowTensor:
            options = {renamed.get(key, key): value for key, value in options.items()}
            return TensorflowTensor(function(unwrap(input), *args, **options))

        return operator

    def gelu(input: Any, approximate: str = "none") -> TensorflowTensor:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")
        return TensorflowTensor(tf.nn.gelu(unwrap(input), approximate=approximate == "tanh"))

    def elu(input: Any, alpha: float = 1.0) -> TensorflowTensor:
        if alpha != 1.0:
            raise NotImplementedError(f"TensorFlow's tf.nn.elu has no alpha (it is 1), not {alpha}")
        return TensorflowTensor(tf.nn.elu(unwrap(input)))

    def leaky_relu(input: Any, negative_slope: float = 0.01) -> TensorflowTensor:
        return TensorflowTensor(tf.nn.leaky_relu(unwrap(input), alpha=negative_slope))

    return types.SimpleNamespace(
        gelu=gelu,
        silu=elementwise(tf.nn.silu),
        elu=elu,
        selu=elementwise(tf.nn.selu),
        leaky_relu=leaky_relu,
        relu6=elementwise(tf.nn.relu6),
        logsigmoid=elementwise(tf.math.log_sigmoid),
        softsign=elementwise(tf.nn.softsign),
        sigmoid=elementwise(tf.nn.sigmoid),
        tanh=elementwise(tf.nn.tanh),
        softmax=elementwise(tf.nn.softmax, dim="axis"),
        log_softmax=elementwise(tf.nn.log_softmax, dim="axis"),
    )


#: activations ``tf.nn`` has no operator for (``softplus``: none with ``beta`` and ``threshold``)
LACKED_ACTIVATIONS = (
    "softplus celu hardtanh hardswish hardsigmoid mish tanhshrink softshrink hardshrink glu prelu softmin threshold"
)


class TensorflowBackend(Backend):
    """TensorFlow tensors on the CPU, float32 unless float64 is asked for."""

    engine = "tensorflow"
    capabilities = frozenset(
        {cap.VJP, cap.JVP, cap.SECOND_ORDER, cap.FLOAT64, cap.TENSOR_MATH, cap.UNARY, cap.BINARY, cap.ACTIVATIONS}
    )
    #: members TensorFlow has no function for (the module docstring says what each one is)
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: frozenset({"frac", "logit", "mvlgamma", "nan_to_num"}),
        cap.BINARY: frozenset({"fmax", "fmin", "copysign", "lerp", "addcmul", "addcdiv"}),
        cap.ACTIVATIONS: frozenset(f"functional.{name}" for name in LACKED_ACTIVATIONS.split()),
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "tensorflow.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._tf = _tf()
        self._cpu = "/CPU:0"
        self.functional = _functional()

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
