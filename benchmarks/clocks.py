"""Clocks that see device time.

CUDA runs kernels asynchronously, so a host clock read right after a step measures its launch, not its
work. :class:`CudaEventClock` is a pytest-benchmark timer (a function returning seconds) that records a CUDA
event on the current stream and waits for it: the difference of two readings is the device time between the
two events, i.e. the step's CUDA-event time, and pytest-benchmark's statistics (min, median, IQR, ...) are
computed over exactly those per-step times.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


class CudaEventClock:
    """Monotonic seconds measured by CUDA events on ``device``.

    Each reading adds the (short) event-to-event interval since the previous reading to a float64 total:
    ``cudaEventElapsedTime`` is a float32 of milliseconds, which loses precision over long spans.
    """

    __name__ = "CudaEventClock"

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._last = self._record()
        self._total = 0.0

    def _record(self) -> torch.cuda.Event:
        event = torch.cuda.Event(enable_timing=True)
        event.record(torch.cuda.current_stream(self.device))
        event.synchronize()
        return event

    def __call__(self) -> float:
        event = self._record()
        self._total += self._last.elapsed_time(event) / 1e3
        self._last = event
        return self._total


def clock_for(device: torch.device) -> Callable[[], float]:
    """The timer for work on ``device``: CUDA events on CUDA, the host's perf_counter elsewhere (CPU
    kernels are synchronous)."""
    return CudaEventClock(device) if device.type == "cuda" else time.perf_counter


def clock_name(clock: Callable[[], float]) -> str:
    return "cuda_event" if isinstance(clock, CudaEventClock) else "perf_counter"


def time_each(step: Callable[[], object], device: torch.device, rounds: int) -> list[float]:
    """Seconds of each of ``rounds`` back-to-back calls of ``step``, with no harness in between: on CUDA a
    pair of events around each step and one synchronisation at the end (the bare loop the harness overhead
    is compared against)."""
    if device.type != "cuda":
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        return times
    stream = torch.cuda.current_stream(device)
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(rounds)]
    for start, end in events:
        start.record(stream)
        step()
        end.record(stream)
    torch.cuda.synchronize(device)
    return [start.elapsed_time(end) / 1e3 for start, end in events]
