"""PyTorch on any torch device: the reference backend, and the base of the mutants."""

from __future__ import annotations

import functools
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.autograd import forward_ad

from . import capabilities as cap
from .contract import Backend, BackendUnavailable


def require_device(device: torch.device) -> None:
    """Raise :class:`BackendUnavailable` with the reason when ``device`` cannot hold tensors here."""
    kind = device.type
    if kind == "cuda":
        if not torch.cuda.is_available():
            built = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "built without CUDA"
            raise BackendUnavailable(
                f"CUDA was requested but torch {torch.__version__} ({built}) finds no CUDA device "
                "(torch.cuda.is_available() is False). Run on a machine with an NVIDIA GPU and driver and a "
                "CUDA build of torch, or choose --backend=cpu."
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise BackendUnavailable(f"{device} was requested but this machine has {count} CUDA device(s)")
        return
    if kind == "mps" and not torch.backends.mps.is_available():
        raise BackendUnavailable(
            f"MPS was requested but torch {torch.__version__} finds no Apple GPU (torch.backends.mps.is_available() "
            "is False)"
        )
    if kind == "xpu" and not (hasattr(torch, "xpu") and torch.xpu.is_available()):
        raise BackendUnavailable(f"XPU was requested but torch {torch.__version__} finds no Intel GPU")
    try:
        torch.empty(1, device=device)
    except Exception as exc:  # any failure to allocate means the device is unusable here
        raise BackendUnavailable(f"torch {torch.__version__} cannot allocate on {device}: {exc}") from exc


def namespace(prefix: str, module: types.ModuleType) -> types.SimpleNamespace:
    """``module``'s members that the capability table grants under ``prefix`` (``functional.gelu`` ->
    ``torch.nn.functional.gelu``), so that the backend offers exactly what the table names."""
    names = {
        member.split(".", 1)[1] for group in cap.TABLE for member in group.backend if member.startswith(f"{prefix}.")
    }
    return types.SimpleNamespace(**{name: getattr(module, name) for name in sorted(names) if hasattr(module, name)})


class TorchBackend(Backend):
    """torch tensors, nn modules and optimizers, all created on one torch device."""

    engine = "torch"
    capabilities = cap.ALL
    #: what a torch release that pyproject.toml admits lacks, each entry keyed by the torch versions it applies to
    known_failures_file = Path(__file__).parent / "known_failures" / "torch.json"
    findings_file = Path(__file__).parent / "findings" / "torch.json"

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(name or device)
        self._device = torch.device(device)
        require_device(self._device)
        self.nn = types.SimpleNamespace(
            Linear=functools.partial(torch.nn.Linear, device=self._device),
            Conv2d=functools.partial(torch.nn.Conv2d, device=self._device),
            Sequential=torch.nn.Sequential,
            Module=torch.nn.Module,
        )
        self.optim = types.SimpleNamespace(SGD=torch.optim.SGD)
        self.models = types.SimpleNamespace(resnet18=self._resnet18)
        self.functional = namespace("functional", torch.nn.functional)
        self.ops = namespace("ops", torch)
        self.linalg = namespace("linalg", torch.linalg)
        self.special = namespace("special", torch.special)
        self.autograd = types.SimpleNamespace(
            grad=torch.autograd.grad,
            Function=torch.autograd.Function,
            graph=types.SimpleNamespace(saved_tensors_hooks=torch.autograd.graph.saved_tensors_hooks),
            detect_anomaly=torch.autograd.detect_anomaly,
        )
        if self.process_group_backend() is None:
            self.capabilities = cap.ALL - {cap.DISTRIBUTED}
        else:
            from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook

            self.parallel = types.SimpleNamespace(
                DistributedDataParallel=torch.nn.parallel.DistributedDataParallel, allreduce_hook=allreduce_hook
            )

    @property
    def engine_version(self) -> str:
        return torch.__version__

    @property
    def device(self) -> str:
        return str(self._device)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if self._device.type == "cuda":
            info["device_name"] = torch.cuda.get_device_name(self._device)
            info["cuda_version"] = torch.version.cuda
        return info

    def tensor(self, data: Any, *, requires_grad: bool = False) -> torch.Tensor:
        return torch.tensor(data, device=self._device, requires_grad=requires_grad)

    def to_numpy(self, tensor: torch.Tensor) -> np.ndarray:
        host = tensor.detach().cpu()
        if host._is_zerotensor():  # torch's symbolic zeros (a second derivative of abs) have no storage to read
            return np.zeros(tuple(host.shape), dtype=torch.empty(0, dtype=host.dtype).numpy().dtype)
        return host.numpy().copy()

    def no_grad(self) -> torch.no_grad:
        return torch.no_grad()

    def is_grad_enabled(self) -> bool:
        return torch.is_grad_enabled()

    def set_grad_enabled(self, mode: bool) -> torch.set_grad_enabled:
        return torch.set_grad_enabled(mode)

    def enable_grad(self) -> torch.enable_grad:
        return torch.enable_grad()

    def inference_mode(self) -> torch.inference_mode:
        return torch.inference_mode()

    def tensor64(self, data: Any, *, requires_grad: bool = False) -> torch.Tensor:
        return torch.tensor(data, dtype=torch.float64, device=self._device, requires_grad=requires_grad)

    def jvp(self, fn: Any, primals: Any, tangents: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward mode with torch.autograd's dual tensors: each primal carries its tangent through ``fn``."""
        with forward_ad.dual_level():
            output = fn(*(forward_ad.make_dual(p, t) for p, t in zip(primals, tangents, strict=True)))
            value, tangent = forward_ad.unpack_dual(output)
            return value.clone(), tangent.clone()

    def process_group_backend(self) -> str | None:
        """torch.distributed's default backend for this device type (gloo, nccl, ...); None where torch.distributed
        is not built in or has none for the device (the backend then does not declare ``distributed``)."""
        if not torch.distributed.is_available():
            return None
        return torch.distributed.Backend.default_device_backend_map.get(self._device.type)

    def for_rank(self, rank: int, world_size: int) -> TorchBackend:
        """The same backend class on rank ``rank``'s device: the CPU for every rank, or the device ``rank``
        places after this backend's own (``cuda:1`` is rank 1's device of ``cuda``, rank 0's of ``cuda:1``)."""
        if self._device.type == "cpu":
            return type(self)("cpu", name=self.name)
        index = (self._device.index or 0) + rank
        return type(self)(str(torch.device(self._device.type, index)), name=self.name)

    def _resnet18(self, **kwargs: Any) -> torch.nn.Module:
        """torchvision's resnet18 on this device. Weights come from the local hub cache only: the harness
        refuses downloads."""
        import torchvision

        return torchvision.models.resnet18(**kwargs).to(self._device)
