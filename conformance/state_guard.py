"""Process-wide settings a spec must not leak into the next one.

Torch's grad mode, anomaly detection, default dtype and default device are always guarded (the oracle and
the nn pieces run on torch whatever the engine); a backend adds its own through ``global_state()``.
"""

from __future__ import annotations

from typing import Any

import torch

from backends import Backend


def torch_state() -> dict[str, Any]:
    return {
        "torch grad mode": torch.is_grad_enabled(),
        "torch anomaly detection": (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()),
        "torch default dtype": torch.get_default_dtype(),
        "torch default device": torch.get_default_device(),
    }


def restore_torch_state(state: dict[str, Any]) -> None:
    torch.set_grad_enabled(state["torch grad mode"])
    torch.set_anomaly_enabled(*state["torch anomaly detection"])
    torch.set_default_dtype(state["torch default dtype"])
    device = state["torch default device"]
    torch.set_default_device(None if device == torch.device("cpu") else device)


def snapshot(backend: Backend) -> tuple[dict[str, Any], dict[str, Any]]:
    """Torch's guarded settings and the engine's own."""
    return torch_state(), backend.global_state()


def restore(backend: Backend, before: tuple[dict[str, Any], dict[str, Any]]) -> list[str]:
    """Put back what changed since ``before``; return one line per leaked setting (empty if none)."""
    leaks = [
        f"{key}: {was!r} -> {now.get(key)!r}"
        for then, now in zip(before, snapshot(backend), strict=True)
        for key, was in then.items()
        if now.get(key) != was
    ]
    if leaks:
        torch_before, engine_before = before
        restore_torch_state(torch_before)
        backend.restore_global_state(engine_before)
    return leaks
