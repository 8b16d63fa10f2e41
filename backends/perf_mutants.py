"""Slowed engines: the torch backend made slower by a known fraction, to measure the regression tracker.

Selectable as ``--backend=slowed:<phase>:<percent>[:<device>]`` (``slowed:backward:10``,
``slowed:step:5:cuda``). The extra work runs inside one phase of a training step:

- ``forward``: a forward hook on the model built by ``models.resnet18()``;
- ``backward``: a gradient hook, on the model's output and on every leaf ``tensor(..., requires_grad=True)``
  makes, so that it runs inside ``backward()``;
- ``step``: after ``optimizer.step()`` of ``optim.SGD``.

The fraction is of the benchmarked round: the harness (:func:`benchmarks.measure.run_rounds`) calls
:meth:`SlowedBackend.calibrate` with the round, which times it as torch runs it (no hook at all), then with
the hooks in place but no extra work (a Python hook inside ``backward()`` costs microseconds of its own), and
sizes the extra work so that hooks and work together add ``percent`` of the plain round. A fraction smaller
than the hooks' own cost cannot be injected; :attr:`SlowedBackend.injected_fraction` says what was.

On the CPU the extra work is real computation (small matrix products, counted in units timed at calibration), so it
slows down with the machine as the code it is added to would; on CUDA it is a spinning kernel
(``torch.cuda._sleep``) on the current stream, sized in GPU cycles. These backends compute exactly what torch
computes: they pass every spec and exist only to measure the tracker.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from .contract import UnknownBackend
from .torch_backend import TorchBackend

PHASES = ("forward", "backward", "step")
#: Pairs of rounds per calibration measurement: enough for about a second of rounds, at least 25, at most 200
#: (the sizing's own noise is what limits how exactly a slowdown is injected on a noisy machine).
CALIBRATION_SECONDS = 1.0
CALIBRATION_PAIRS = (25, 200)


class CpuWork:
    """Extra work on the CPU: ``units`` products of two small matrices."""

    def __init__(self) -> None:
        self._matrix = torch.rand(24, 24, generator=torch.Generator().manual_seed(0))
        self.units = 0

    def unit_seconds(self) -> float:
        """Time of one unit, from the fastest of 5 batches of 200 (a first guess, which the calibration
        corrects by the slowdown the work causes in the round)."""
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            self._run(200)
            samples.append((time.perf_counter() - start) / 200)
        return min(samples)

    def size_to(self, seconds: float) -> float:
        """Set the work to about ``seconds``; returns the seconds it is expected to take."""
        unit = self.unit_seconds()
        self.units = max(0, round(seconds / unit))
        return self.units * unit

    def scale(self, factor: float) -> None:
        self.units = max(0, round(self.units * factor))

    def __call__(self) -> None:
        self._run(self.units)

    def _run(self, units: int) -> None:
        for _ in range(units):
            torch.mm(self._matrix, self._matrix)


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

    def size_to(self, seconds: float) -> float:
        rate = self.cycles_per_second()
        self.cycles = max(0, round(seconds * rate))
        return self.cycles / rate

    def scale(self, factor: float) -> None:
        self.cycles = max(0, round(self.cycles * factor))

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
        self.injected_fraction: float | None = None
        self._plain_seconds = 0.0
        self.hooked = True  # False while calibration times the round as torch runs it
        self.optim.SGD = self._sgd
        self.models.resnet18 = self._slowed_resnet18

    def calibrate(self, run_round: Callable[[], float]) -> float:
        """Size the extra work so that the round (``run_round()`` runs one and returns its seconds) is
        ``fraction`` slower than torch's own, hooks included; returns the fraction as sized.

        Measured in the round, not beside it: rounds with and without the hooks alternate (so that both see the
        machine at the same moments), first to find the hooks' own cost, then the slowdown the work sized from
        its timing alone really causes (inside the round it also evicts caches), which corrects its size once."""
        self.work.size_to(0.0)
        self._slowdown(run_round, pairs=2)  # warm-up: allocations and first-call costs are not the round's time
        hooks = self._slowdown(run_round)
        wanted = max(0.0, self.fraction - hooks)
        self.work.size_to(wanted * self._plain_seconds)
        caused = self._slowdown(run_round) - hooks
        if caused > 0:
            self.work.scale(wanted / caused)
        self.injected_fraction = hooks + wanted
        return self.injected_fraction

    def _slowdown(self, run_round: Callable[[], float], pairs: int | None = None) -> float:
        """The median over alternating pairs of rounds of (hooked round / plain round) - 1: a shared machine
        runs the same round at several speeds, changing every few rounds, which a pair of neighbouring rounds
        shares and its ratio cancels; the median ignores the pairs that straddle a change. Without ``pairs``,
        as many as :data:`CALIBRATION_SECONDS` of plain rounds take, within :data:`CALIBRATION_PAIRS`."""
        if pairs is None:
            fewest, most = CALIBRATION_PAIRS
            pairs = min(most, max(fewest, round(CALIBRATION_SECONDS / max(self._plain_seconds, 1e-6))))
        ratios, plain_times = [], []
        for _ in range(pairs):
            self.hooked = False
            plain_times.append(run_round())
            self.hooked = True
            ratios.append(run_round() / plain_times[-1])
        self._plain_seconds = statistics.median(plain_times)
        return statistics.median(ratios) - 1

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(slowed_phase=self.phase, slowed_fraction=self.fraction, injected_fraction=self.injected_fraction)
        return info

    def tensor(self, data: Any, *, requires_grad: bool = False) -> torch.Tensor:
        made = super().tensor(data, requires_grad=requires_grad)
        if requires_grad and self.phase == "backward" and self.hooked:
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
        if not self.hooked:
            return
        if self.phase == "forward":
            self.work()
        elif self.phase == "backward" and output.requires_grad:
            output.register_hook(self._in_backward)

    def _after_step(self, *_: Any) -> None:
        if self.hooked:
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
