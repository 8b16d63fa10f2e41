"""How a benchmark is timed, and what it reports in ``extra_info``.

Warm-up rounds (compilation, cuDNN autotuning, CUDA-graph capture, allocator growth) run first and are
discarded; then ``rounds`` rounds of one step each. On CUDA, pytest-benchmark's timer is replaced by a
:class:`~benchmarks.clocks.CudaEventClock` for the benchmark, so every measured round *is* the step's
CUDA-event time and pytest-benchmark's own statistics (median, IQR, min, ... in its table, its JSON and
``--benchmark-compare``) are statistics of per-step device time. On the CPU the timer is ``perf_counter``.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Any

import torch

from backends import Backend
from backends.torch_backend import TorchBackend

from .clocks import clock_for, clock_name
from .peaks import peak_tflops


def clock_device(engine: Backend) -> torch.device:
    """The device whose clock times ``engine``: a torch backend's own (CUDA events on a GPU); the host's for
    any other engine, which finishes its work in :meth:`~backends.Backend.synchronize` before the clock reads."""
    return torch.device(engine.device) if isinstance(engine, TorchBackend) else torch.device("cpu")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine() or device.type


def run_rounds(
    benchmark: Any,
    target: Callable[[], object],
    device: torch.device,
    *,
    rounds: int,
    warmup_rounds: int,
    setup: Callable[[], object] | None = None,
) -> dict[str, Any]:
    """Time ``target`` with pytest-benchmark on ``device``'s clock; returns the timing keys of extra_info
    (empty when benchmarks are disabled: the target then runs once, as a test)."""
    clock = clock_for(device)
    if not hasattr(benchmark, "_timer"):  # a timer that cannot be replaced would time CUDA launches, not steps
        raise RuntimeError("this pytest-benchmark's fixture has no _timer to replace (pytest-benchmark 4 and 5 do)")
    benchmark._timer = clock  # the fixture's timer (from --benchmark-timer); pedantic reads it for every round
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    benchmark.pedantic(target, setup=setup, rounds=rounds, warmup_rounds=warmup_rounds, iterations=1)
    if benchmark.stats is None:
        return {}
    stats = benchmark.stats.stats
    info = {
        "timer": clock_name(clock),
        "device": str(device),
        "device_name": device_name(device),
        "step_ms_median": stats.median * 1e3,
        "step_ms_iqr": stats.iqr * 1e3,
    }
    if device.type == "cuda":
        info["peak_memory_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return info


def throughput(timing: dict[str, Any], *, images: int, flops: int, precision: str) -> dict[str, Any]:
    """images/s, achieved TFLOP/s and, on a device of the peak table, the percentage of its peak."""
    if not timing:
        return {}
    seconds = timing["step_ms_median"] / 1e3
    info = {"images_per_s": images / seconds, "flops_per_step": flops, "tflops": flops / seconds / 1e12}
    if timing["timer"] == "cuda_event" and (peak := peak_tflops(timing["device_name"], precision)):
        info["peak_tflops"] = peak
        info["peak_pct"] = 100 * info["tflops"] / peak
    return info
