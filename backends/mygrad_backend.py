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


def _import_mygrad():
    try:
        return importlib.import_module("mygrad")
    except ImportError as exc:
        raise BackendUnavailable("mygrad is not installed: pip install 'autograd-conformance[mygrad]'") from exc


def _unwrap(value: Any) -> Any:
    return value._tensor if isinstance(value, MygradTensor) else value


class MygradTensor:
    """A mygrad tensor seen through torch's names (``requires_grad``, ``backward(gradient=...)``, ``.grad``)."""

    __array_priority__ = 100

    def __init__(self, tensor: Any) -> None:
        self._tensor = tensor

    @property
    def requires_grad(self) -> bool:
        return not self._tensor.constant

    @property
    def grad(self) -> MygradTensor | None:
        grad = self._tensor.grad
        return None if grad is None else MygradTensor(_import_mygrad().tensor(grad, constant=True))

    @property
    def shape(self) -> tuple[int, ...]:
        return self._tensor.shape

    def backward(self, gradient: Any = None) -> None:
        self._tensor.backward(None if gradient is None else np.asarray(_unwrap(gradient)))

    def sum(self) -> MygradTensor:
        return MygradTensor(self._tensor.sum())

    def mean(self) -> MygradTensor:
        return MygradTensor(self._tensor.mean())

    def exp(self) -> MygradTensor:
        return MygradTensor(_import_mygrad().exp(self._tensor))

    def __getitem__(self, index: Any) -> MygradTensor:
        return MygradTensor(self._tensor[index])

    def __repr__(self) -> str:
        return f"MygradTensor({self._tensor!r})"


def _binary(name: str):
    def operator(self: MygradTensor, other: Any) -> MygradTensor:
        return MygradTensor(getattr(self._tensor, name)(_unwrap(other)))

    operator.__name__ = name
    return operator


for _name in ("add", "sub", "mul", "truediv", "pow"):
    for _spelling in (f"__{_name}__", f"__r{_name}__"):
        setattr(MygradTensor, _spelling, _binary(_spelling))
MygradTensor.__neg__ = lambda self: MygradTensor(-self._tensor)


class MygradBackend(Backend):
    """mygrad tensors on the host, float32 like torch's default."""

    engine = "mygrad"
    capabilities = frozenset({cap.AUTOGRAD, cap.GRAD_MODE})
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
        return np.array(_unwrap(tensor), copy=True)

    def no_grad(self):
        return self._mygrad.no_autodiff

    def is_grad_enabled(self) -> bool:
        return self._mygrad.no_autodiff.state

    def global_state(self) -> dict[str, Any]:
        return {"mygrad.no_autodiff.state": self._mygrad.no_autodiff.state}

    def restore_global_state(self, snapshot: dict[str, Any]) -> None:
        self._mygrad.no_autodiff.state = snapshot["mygrad.no_autodiff.state"]
