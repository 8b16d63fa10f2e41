"""tinygrad behind the contract, on its pure-Python device (no compiler needed).

tinygrad 0.14 has no ``requires_grad`` flag: ``backward()`` fills ``.grad`` of every floating-point tensor
the result was computed from. The proxy therefore reports ``requires_grad`` as tinygrad decides it (true for
every float tensor) and ignores the request: specs about tensors excluded from the graph fail, and the
failures are listed in ``known_failures/tinygrad.json``. Tensors are created on the ``PYTHON`` device,
which interprets kernels in Python and runs anywhere; ``TinygradBackend(device="CPU")`` needs clang.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from . import capabilities as cap
from .contract import Backend, BackendUnavailable
from .proxy import TensorProxy


def _import_tinygrad():
    try:
        return importlib.import_module("tinygrad")
    except ImportError as exc:
        raise BackendUnavailable("tinygrad is not installed: pip install 'autograd-conformance[tinygrad]'") from exc


class TinygradTensor(TensorProxy):
    """A tinygrad tensor seen through torch's names (``requires_grad``, ``backward(gradient=...)``, ``.grad``)."""

    @property
    def requires_grad(self) -> bool:
        return self.wrapped.is_floating_point()

    @property
    def grad(self) -> TinygradTensor | None:
        grad = self.wrapped.grad
        return None if grad is None else TinygradTensor(grad)

    def backward(self, gradient: Any = None) -> None:
        self.wrapped.backward(None if gradient is None else self.unwrap(gradient))

    def detach(self) -> TinygradTensor:
        return TinygradTensor(self.wrapped.detach())


class TinygradBackend(Backend):
    """tinygrad tensors on one tinygrad device, float32 like torch's default."""

    engine = "tinygrad"
    capabilities = frozenset({cap.AUTOGRAD, cap.DETACH})
    known_failures_file = Path(__file__).parent / "known_failures" / "tinygrad.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._tinygrad = _import_tinygrad()
        from tinygrad.helpers import DEV

        if not DEV.device:
            DEV.value = "PYTHON"
        self._dev = DEV

    @property
    def engine_version(self) -> str:
        from importlib.metadata import version

        return version("tinygrad")

    @property
    def device(self) -> str:
        return f"tinygrad:{self._dev.device}"

    def tensor(self, data: Any, *, requires_grad: bool = False) -> TinygradTensor:
        array = np.asarray(data)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        return TinygradTensor(self._tinygrad.Tensor(array))

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return np.array(TinygradTensor.unwrap(tensor).numpy(), copy=True)

    def global_state(self) -> dict[str, Any]:
        return {"tinygrad.DEV": self._dev.value}

    def restore_global_state(self, snapshot: dict[str, Any]) -> None:
        self._dev.value = snapshot["tinygrad.DEV"]
