"""Mutants of device placement: what the documentation promises about tensors on an accelerator."""

from __future__ import annotations

from ..torch_backend import TorchBackend
from . import mutant


@mutant("accelerator-numpy-without-copy", breaks="conversion.gpu-numpy-needs-cpu")
class AcceleratorNumpyWithoutCopy(TorchBackend):
    """An accelerator backend whose tensors convert to NumPy directly, without .cpu(): it reports an
    accelerator device but keeps its tensors in host memory."""

    @property
    def device(self) -> str:
        return "accelerator"
