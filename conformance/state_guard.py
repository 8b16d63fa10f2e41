"""Process-wide settings a spec must not leak into the next one.

Torch's grad mode, anomaly detection, default dtype and default device, inference mode, the innermost
saved-tensor hooks, the forward-AD dual level and the stacks of torch function modes and dispatch modes are
always guarded (the oracle and the nn pieces run on torch whatever the engine); a backend adds its own through
``global_state()``. The guard compares the state before a spec with the state after it, so a backend that enters
a mode for a spec and leaves it afterwards (or holds it over the whole run) leaks nothing.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.autograd import forward_ad
from torch.overrides import _get_current_function_mode_stack
from torch.utils._python_dispatch import _get_current_dispatch_mode_stack, _pop_mode

from backends import Backend

#: the most modes, hooks or levels a restore pops: a leak is a few, an endless stack a broken engine
MAX_POPS = 1000
#: inference-mode guards that put back the state a spec left changed (torch ends inference mode only with the
#: guard that began it, which the spec kept): held for the rest of the run
HELD_GUARDS: list[Any] = []


def torch_state() -> dict[str, Any]:
    return {
        "torch grad mode": torch.is_grad_enabled(),
        "torch anomaly detection": (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()),
        "torch default dtype": torch.get_default_dtype(),
        "torch default device": torch.get_default_device(),
        "torch inference mode": torch.is_inference_mode_enabled(),
        "torch saved-tensor hooks": torch._C._autograd._top_saved_tensors_default_hooks(False),
        "torch forward-AD dual level": forward_ad._current_level,
        "torch function modes": tuple(_get_current_function_mode_stack()),
        "torch dispatch modes": tuple(_get_current_dispatch_mode_stack()),
    }


def pop_while(changed: Any, pop: Any) -> None:
    """Call ``pop`` until ``changed()`` is false (at most :data:`MAX_POPS` times)."""
    for _ in range(MAX_POPS):
        if not changed():
            return
        pop()


def restore_torch_state(state: dict[str, Any]) -> None:
    torch.set_grad_enabled(state["torch grad mode"])
    torch.set_anomaly_enabled(*state["torch anomaly detection"])
    torch.set_default_dtype(state["torch default dtype"])
    device = state["torch default device"]
    torch.set_default_device(None if device == torch.device("cpu") else device)
    if torch.is_inference_mode_enabled() != state["torch inference mode"]:
        guard = torch._C._InferenceMode(state["torch inference mode"])
        guard.__enter__()
        HELD_GUARDS.append(guard)
    pop_while(
        lambda: torch._C._autograd._top_saved_tensors_default_hooks(False) != state["torch saved-tensor hooks"],
        torch._C._autograd._pop_saved_tensors_default_hooks,
    )
    pop_while(lambda: forward_ad._current_level > state["torch forward-AD dual level"], forward_ad.exit_dual_level)
    functions, dispatches = state["torch function modes"], state["torch dispatch modes"]
    pop_while(lambda: len(_get_current_function_mode_stack()) > len(functions), torch._C._pop_torch_function_stack)
    pop_while(lambda: len(_get_current_dispatch_mode_stack()) > len(dispatches), _pop_mode)


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
