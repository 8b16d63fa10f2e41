"""mygrad (NumPy-based autograd) behind the contract: a thin proxy translates torch's names to mygrad's.

mygrad spells ``requires_grad=False`` as ``constant=True``, takes ``backward(grad)``, keeps ``.grad`` as a
NumPy array, turns graph tracking off with ``mygrad.no_autodiff``, spells ``x.log()`` as ``mygrad.log(x)``
(``sigmoid`` is ``mygrad.nnet.sigmoid``), reductions' ``keepdim`` as ``keepdims`` and ``numpy()`` as the
``.data`` array. The proxy only renames; where mygrad behaves differently from torch (a vector backward
without a gradient, in-place operations rewritten instead of refused, ``.grad`` reset instead of
accumulated) the specs fail, and the failures are listed in ``known_failures/mygrad.json``.

Elementwise functions (``tensor.unary``, ``tensor.binary``) are mygrad's functions under NumPy's names
(``x.asin()`` is ``mygrad.arcsin(x)``, ``neg`` is ``negative``, ``clamp`` is ``clip``, ``relu`` is
``mygrad.nnet.relu``); the members mygrad has no function for are listed in ``lacks``, and so are ``fmod`` and
``remainder``, whose functions refuse tensors that are not constant ("cannot involve non-constant mygrad
tensors"): mygrad does not differentiate them.

Not declared, because mygrad has no counterpart and the adapter would have to imitate one: ``detach``
(no such operation; a constant tensor over the same array does not see later in-place changes),
``graph`` (``creator`` is there, but no ``is_leaf`` or ``next_functions``), ``nn.functional``
(``mygrad.nnet`` has conv, pooling, batchnorm and softmax cross-entropy, but no linear, no adaptive pooling,
no padding for ``max_pool``, no bias for ``conv_nd`` and no running-statistics batch norm), ``nn``,
``optim.sgd``, ``models.resnet18``, ``retain_grad``/``retain_graph``, hooks, ``autograd.grad``,
``grad_mode.switches`` and ``threads`` (not documented as supported).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import capabilities as cap
from .contract import Backend, import_engine
from .proxy import TensorProxy, numpy_spelling, translate


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


class MygradBackend(Backend):
    """mygrad tensors on the host, float32 like torch's default."""

    engine = "mygrad"
    capabilities = frozenset(
        {cap.AUTOGRAD, cap.GRAD_MODE, cap.INPLACE, cap.NUMPY, cap.TENSOR_MATH, cap.FLOAT64, cap.UNARY, cap.BINARY}
    )
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: frozenset(
            [
                "erf",
                "erfc",
                "erfinv",
                "rsqrt",
                "lgamma",
                "digamma",
                "polygamma",
                "mvlgamma",
                "i0",
                "frac",
                "logit",
                "deg2rad",
                "rad2deg",
                "nan_to_num",
            ]
        ),
        cap.BINARY: frozenset(
            [
                "fmod",
                "remainder",
                "fmax",
                "fmin",
                "hypot",
                "lerp",
                "addcmul",
                "addcdiv",
                "xlogy",
                "copysign",
                "float_power",
            ]
        ),
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "mygrad.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._mygrad = import_engine("mygrad")

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
