"""Slowed engines: the torch backend made slower by a known fraction, to measure the regression tracker.

Selectable as ``--backend=slowed:<phase>:<percent>[:<device>]`` (``slowed:backward:10``,
``slowed:step:5:cuda``). The extra work runs inside one phase of a training step:

- ``forward``: a forward hook on the model built by ``models.resnet18()``;
- ``backward``: a gradient hook, on the model's output and on every leaf ``tensor(..., requires_grad=True)``
  makes, so that it runs inside ``backward()``;
- ``step``: after ``optimizer.step()`` of ``optim.SGD``.

The fraction is of the benchmarked round, and the harness hands the round to :meth:`SlowedBackend.slow`.

- On the CPU each round is sized by the one before: the round is timed, and the next round's extra work is
  sized to ``percent`` of its time without the extra work. The work is real computation (multiplications of a small
  vector, counted by the time one has taken lately), so it slows down with the machine as the round's own code
  does, and a shared machine's speed, which changes every few rounds, changes the work with it.
  :attr:`SlowedBackend.injected_fraction` is then measured: the extra work's seconds over the rest's, over every
  round so far.
- On CUDA the extra work is one kernel spinning on the current stream (``torch.cuda._sleep``), sized in GPU
  cycles to ``percent`` of the median round timed by the harness's clock (device time, which is steady).

These backends compute exactly what torch computes: they pass every spec and exist only to measure the tracker.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from .contract import UnknownBackend
from .torch_backend import TorchBackend

PHASES = ("forward", "backward", "step")


class CpuWork:
    """Extra work on the CPU: ``units`` multiplications of a 16-element vector, sized in seconds by the time a
    unit has taken lately (:meth:`size_to`), so that the work slows down with the machine as the round's own
    does. Elementwise and small, the unit never enters torch's thread pool, whose start on a busy machine
    would cost milliseconds once in a while instead of work proportional to the units."""

    RECENT = 9

    def __init__(self) -> None:
        self._vector = torch.rand(16, generator=torch.Generator().manual_seed(0))
        self.units = 0
        self.spent = 0.0  # seconds of extra work done so far
        self._unit_seconds: list[float] = []
        for units in (10, 100):  # a first estimate of a unit's time, after a warm-up (torch's first call)
            self._run(units)
        self._unit_seconds, self.spent = self._unit_seconds[-1:], 0.0

    def size_to(self, seconds: float) -> None:
        self.units = round(seconds / statistics.median(self._unit_seconds))

    def __call__(self) -> None:
        if self.units:
            self._run(self.units)

    def _run(self, units: int) -> None:
        start = time.perf_counter()
        for _ in range(units):
            torch.mul(self._vector, 1.0001)
        elapsed = time.perf_counter() - start
        self._unit_seconds = [*self._unit_seconds[-(self.RECENT - 1) :], elapsed / units]
        self.spent += elapsed


class CudaWork:
    """Extra work on CUDA: one kernel spinning for ``cycles`` GPU cycles on the current stream."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cycles = 0

    def cycles_per_second(self) -> float:
        torch.cuda.synchronize(self.device)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.cuda._sleep(10_000_000)
        end.record()
        end.synchronize()
        return 10_000_000 / (start.elapsed_time(end) / 1e3)

    def __call__(self) -> None:
        if self.cycles:
            torch.cuda._sleep(self.cycles)


class SlowedBackend(TorchBackend):
    """The torch backend with ``fraction`` of a round's time added as extra work in ``phase``."""

    def __init__(self, phase: str, fraction: float, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name=name or f"slowed:{phase}:{fraction * 100:g}:{device}")
        self.phase = phase
        self.fraction = fraction
        self.engine = f"torch (slowed {fraction:.0%} in {phase})"
        self.work = CudaWork(self._device) if self._device.type == "cuda" else CpuWork()
        self._plain_seconds = 0.0  # CPU: the rounds' seconds without the extra work, so far
        self.optim.SGD = self._sgd
        self.models.resnet18 = self._slowed_resnet18

    @property
    def injected_fraction(self) -> float | None:
        """The extra work's share of a round: measured on the CPU (over every round so far), as sized on CUDA;
        None before any."""
        if isinstance(self.work, CpuWork):
            return self.work.spent / self._plain_seconds if self._plain_seconds else None
        return self.fraction if self.work.cycles else None

    def slow(self, workload: Any, time_round: Callable[[], float]) -> Any:
        """``workload`` (a :class:`benchmarks.workloads.Workload`) with its rounds slowed: on the CPU each round
        timed and the next one's extra work sized from it; on CUDA the kernel sized once from rounds of the
        workload timed by ``time_round()`` (the harness's clock: device time)."""
        if isinstance(self.work, CudaWork):
            round_seconds = statistics.median([time_round() for _ in range(12)][2:])  # the first two: warm-up
            self.work.cycles = round(self.fraction * round_seconds * self.work.cycles_per_second())
            return workload

        def run(*args: Any, **kwargs: Any) -> object:
            start, spent = time.perf_counter(), self.work.spent
            result = workload.run(*args, **kwargs)
            plain = time.perf_counter() - start - (self.work.spent - spent)
            self._plain_seconds += plain
            self.work.size_to(self.fraction * plain)
            return result

        return dataclasses.replace(workload, run=run)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(slowed_phase=self.phase, slowed_fraction=self.fraction, injected_fraction=self.injected_fraction)
        return info

    def tensor(self, data: Any, *, requires_grad: bool = False) -> torch.Tensor:
        made = super().tensor(data, requires_grad=requires_grad)
        if requires_grad and self.phase == "backward":
            made.register_hook(self._in_backward)
        return made

    def _in_backward(self, gradient: torch.Tensor) -> torch.Tensor:
        self.work()
        return gradient

    def _slowed_resnet18(self, **kwargs: Any) -> torch.nn.Module:
        model = self._resnet18(**kwargs)
        model.register_forward_hook(self._after_forward)
        return model

    def _after_forward(self, module: torch.nn.Module, inputs: Any, output: torch.Tensor) -> None:
        if self.phase == "forward":
            self.work()
        elif self.phase == "backward" and output.requires_grad:
            output.register_hook(self._in_backward)

    def _after_step(self, *_: Any) -> None:
        self.work()

    def _sgd(self, *args: Any, **kwargs: Any) -> torch.optim.SGD:
        optimizer = torch.optim.SGD(*args, **kwargs)
        if self.phase == "step":
            optimizer.register_step_post_hook(self._after_step)
        return optimizer


def parse(spelling: str) -> SlowedBackend:
    """``slowed:<phase>:<percent>[:<device>]`` -> its backend; :class:`UnknownBackend` explains a bad spelling."""
    _, _, rest = spelling.partition(":")
    phase, _, rest = rest.partition(":")
    percent, _, device = rest.partition(":")
    usage = f"slowed backends are spelled slowed:<phase>:<percent>[:<device>], phase one of {', '.join(PHASES)}"
    if phase not in PHASES:
        raise UnknownBackend(f"backend {spelling!r}: unknown phase {phase!r}; {usage}")
    try:
        fraction = float(percent.removesuffix("%")) / 100
    except ValueError:
        raise UnknownBackend(f"backend {spelling!r}: {percent!r} is not a percentage; {usage}") from None
    if not 0 < fraction <= 10:
        raise UnknownBackend(f"backend {spelling!r}: the slowdown must be above 0% and at most 1000%; {usage}")
    return SlowedBackend(phase, fraction, device or "cpu")
