"""mygrad (NumPy-based autograd) behind the contract: a thin proxy translates torch's names to mygrad's.

mygrad spells ``requires_grad=False`` as ``constant=True``, takes ``backward(grad)``, keeps ``.grad`` as a
NumPy array and turns graph tracking off with ``mygrad.no_autodiff``. The proxy only renames; where mygrad
behaves differently from torch (a vector backward without a gradient, in-place operations rewritten
instead of refused) the specs fail, and the failures are listed in ``known_failures/mygrad.json``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from . import capabilities as cap
from .contract import Backend, BackendUnavailable
from .proxy import TensorProxy


def _import_mygrad():
    try:
        return importlib.import_module("mygrad")
    except ImportError as exc:
        raise BackendUnavailable("mygrad is not installed: pip install 'autograd-conformance[mygrad]'") from exc


class MygradTensor(TensorProxy):
    """A mygrad tensor seen through torch's names (``requires_grad``, ``backward(gradient=...)``, ``.grad``)."""

    @property
    def requires_grad(self) -> bool:
        return not self.wrapped.constant

    @property
    def grad(self) -> MygradTensor | None:
        grad = self.wrapped.grad
        return None if grad is None else MygradTensor(_import_mygrad().tensor(grad, constant=True))

    def backward(self, gradient: Any = None) -> None:
        self.wrapped.backward(None if gradient is None else np.asarray(self.unwrap(gradient)))

    def exp(self) -> MygradTensor:
        return MygradTensor(_import_mygrad().exp(self.wrapped))

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
        return MygradTensor(_import_mygrad().Tensor(self.wrapped.data, constant=True, copy=False))


class MygradBackend(Backend):
    """mygrad tensors on the host, float32 like torch's default."""

    engine = "mygrad"
    capabilities = frozenset({cap.AUTOGRAD, cap.GRAD_MODE, cap.INPLACE})
    known_failures_file = Path(__file__).parent / "known_failures" / "mygrad.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._mygrad = _import_mygrad()

    @property
    def engine_version(self) -> str:
        return self._mygrad.__version__

    def tensor(self, data: Any, *, requires_grad: bool = False) -> MygradTensor:
        array = np.asarray(data)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
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
