"""How a benchmark is timed, and what it reports in ``extra_info``.

Before timing, two things are settled: a slowed engine (:mod:`backends.perf_mutants`) gets the round to slow
down, and :func:`check_synchronize` refuses an engine whose ``synchronize()`` returns before
its work is done (the clock would then time the launch of the work, not the work). Warm-up rounds
(compilation, cuDNN autotuning, CUDA-graph capture, allocator growth) run first and are discarded; then
``rounds`` rounds of one step each. On CUDA, pytest-benchmark's timer is replaced by a
:class:`~benchmarks.clocks.CudaEventClock` for the benchmark, so every measured round *is* the step's
CUDA-event time and pytest-benchmark's own statistics (median, IQR, min, ... in its table, its JSON and
``--benchmark-compare``) are statistics of per-step device time. On the CPU the timer is ``perf_counter``.
"""

from __future__ import annotations

import platform
import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from backends import Backend
from backends.perf_mutants import SlowedBackend
from backends.torch_backend import TorchBackend

from .clocks import clock_for, clock_name
from .peaks import peak_tflops
from .verdict import noise

if TYPE_CHECKING:
    from .workloads import Workload

#: A round whose result is still being computed after ``synchronize()`` for more than this fraction of the
#: round's measured time means the clock did not see the work.
UNFINISHED_LIMIT = 0.25
SYNC_CHECK_ROUNDS = 7


class UnsynchronizedEngine(RuntimeError):
    """The engine's ``synchronize()`` does not wait for its work: its timings would be the wrong ones."""


def clock_device(engine: Backend) -> torch.device:
    """The device whose clock times ``engine``: a torch backend's own (CUDA events on a GPU); the host's for
    any other engine, which finishes its work in :meth:`~backends.Backend.synchronize` before the clock reads."""
    return torch.device(engine.device) if isinstance(engine, TorchBackend) else torch.device("cpu")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine() or device.type


def time_round(workload: Workload, clock: Callable[[], float]) -> float:
    """Seconds of one round on ``clock``, its setup untimed."""
    args, kwargs = workload.setup() if workload.setup else ((), {})
    start = clock()
    workload.run(*args, **kwargs)
    return clock() - start


def check_synchronize(engine: Backend, workload: Workload, clock: Callable[[], float]) -> None:
    """Refuse, with :class:`UnsynchronizedEngine`, an engine whose round is not finished when the clock stops.

    After each of a few rounds the result is read back twice: the first read waits for whatever work the
    round left pending, the second (all work done) costs the read alone. Their difference is the unfinished
    work; a lazy engine whose ``synchronize()`` does not realise its work shows it as a large fraction of the
    round. A correct engine shows none."""
    measured, unfinished = [], []
    for _ in range(SYNC_CHECK_ROUNDS):
        measured.append(time_round(workload, clock))
        stop = clock()
        workload.readback()
        first_read = clock()
        workload.readback()
        unfinished.append((first_read - stop) - (clock() - first_read))
    round_s, pending_s = statistics.median(measured), statistics.median(unfinished)
    if pending_s > UNFINISHED_LIMIT * round_s:
        raise UnsynchronizedEngine(
            f"{engine.name}: a round measured {round_s * 1e6:.0f} µs, but reading its result back then took "
            f"{pending_s * 1e6:.0f} µs more than reading it again: the engine was still computing the round when "
            f"the clock stopped, so its timings would be wrong. {type(engine).__name__}.synchronize() must wait "
            "until all pending work of the engine is done (realise lazy tensors, wait for the device)."
        )


def prepare(engine: Backend, workload: Workload, clock: Callable[[], float]) -> Workload:
    """The workload as it is timed: slowed by a slowed engine (:mod:`backends.perf_mutants`), and refused by
    :func:`check_synchronize` if the engine's ``synchronize()`` does not wait for it."""
    if isinstance(engine, SlowedBackend):
        workload = engine.slow(workload)
    check_synchronize(engine, workload, clock)
    return workload


def run_rounds(
    benchmark: Any, engine: Backend, workload: Workload, *, rounds: int, warmup_rounds: int
) -> dict[str, Any]:
    """Time ``workload`` with pytest-benchmark on the clock of ``engine``'s device; returns the timing keys of
    extra_info (empty when benchmarks are disabled: the round then runs once, as a test)."""
    device = clock_device(engine)
    clock = clock_for(device)
    if not hasattr(benchmark, "_timer"):  # a timer that cannot be replaced would time CUDA launches, not steps
        raise RuntimeError("this pytest-benchmark's fixture has no _timer to replace (pytest-benchmark 4 and 5 do)")
    if not benchmark.disabled:
        workload = prepare(engine, workload, clock)
    benchmark._timer = clock  # the fixture's timer (from --benchmark-timer); pedantic reads it for every round
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    benchmark.pedantic(workload.run, setup=workload.setup, rounds=rounds, warmup_rounds=warmup_rounds, iterations=1)
    if benchmark.stats is None:
        return {}
    stats = benchmark.stats.stats
    info: dict[str, Any] = {}
    if isinstance(engine, SlowedBackend):
        info["injected_fraction"] = engine.injected_fraction
    info.update(
        timer=clock_name(clock),
        device=str(device),
        device_name=device_name(device),
        step_ms_median=stats.median * 1e3,
        step_ms_iqr=stats.iqr * 1e3,
        noise_pct=100 * noise(stats.data),
    )
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
