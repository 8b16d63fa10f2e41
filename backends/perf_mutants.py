"""Slowed engines: the torch backend made slower by a known fraction, to measure the regression tracker.

Selectable as ``--backend=slowed:<phase>:<percent>[:<side>][:<device>]`` (``slowed:backward:10``,
``slowed:step:5:host:cuda``, ``slowed:forward:2:device:cuda:1``; ``slowed:step:5:cuda`` leaves the side to the
default). The extra work runs inside one phase of a training step:

- ``forward``: a forward hook on the model built by ``models.resnet18()``;
- ``backward``: a gradient hook, on the model's output and on every leaf ``tensor(..., requires_grad=True)``
  makes, so that it runs inside ``backward()``;
- ``step``: after ``optimizer.step()`` of ``optim.SGD``.

and on one side of the round's time (:mod:`backends.injection`): ``host`` (computation on the thread that runs
the round: a slower dispatcher) or ``device`` (a spinning CUDA kernel: a slower kernel; CUDA only). By default
the CPU's side is the host, and on CUDA the side is chosen when the round is prepared (:meth:`SlowedBackend.slow`):
the host when the round is host-bound (launching its kernels takes at least :data:`HOST_BOUND` of its device
time, so the device waits for the host), the device otherwise. A regression where a round's time does not go
would not slow it, and neither would this extra work.

The fraction is of the benchmarked round, and the harness hands the round to :meth:`SlowedBackend.slow`.

- On the CPU each round is sized by the one before: the round is timed, and the next round's extra work is
  sized to ``percent`` of its time without the extra work. The work runs on the round's own thread, in line
  with it, so its seconds are exactly what it adds: :attr:`SlowedBackend.injected_fraction` is the median over
  rounds of the extra work's seconds over the rest's (a median: on a shared machine a preemption that lands
  in the work now and then would make a mean, or a ratio of sums, run several points high).
- On CUDA the work can overlap the other side's time (host work while the device is still busy, a kernel in
  time the device would have idled), so its own seconds are not what it adds. Each round is preceded, in the
  round's untimed setup, by a probe: the same round with the work off, on the device's clock. The round's work is
  sized from its probe, the gain calibrated before timing until the measured fraction matches the request
  (:class:`~backends.injection.Dose`), and :attr:`SlowedBackend.injected_fraction` is the median over rounds of
  the slowed round's time over its probe's, minus one: measured, never the requested figure.

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
from .injection import DeviceWork, Dose, HostWork, Lap
from .torch_backend import TorchBackend

PHASES = ("forward", "backward", "step")
SIDES = ("host", "device")
#: A round whose kernels take at least this fraction of its device time to launch is host-bound.
HOST_BOUND = 0.8
#: Plain rounds timed on both clocks to choose the side on CUDA, after two of warm-up.
SIDE_ROUNDS = 5
USAGE = (
    f"slowed backends are spelled slowed:<phase>:<percent>[:<side>][:<device>], phase one of {', '.join(PHASES)}, "
    f"side one of {', '.join(SIDES)}"
)


class SlowedBackend(TorchBackend):
    """The torch backend with ``fraction`` of a round's time added as extra work in ``phase``, on ``side``
    (None: the default of the module docstring). ``probed``: measure by probe rounds on the CPU too (on CUDA
    always)."""

    def __init__(
        self,
        phase: str,
        fraction: float,
        device: str = "cpu",
        side: str | None = None,
        *,
        probed: bool = False,
        name: str | None = None,
    ) -> None:
        spelled = f"slowed:{phase}:{fraction * 100:g}{f':{side}' if side else ''}:{device}"
        super().__init__(device, name=name or spelled)
        if side == "device" and self._device.type != "cuda":
            raise ValueError(f"side 'device' needs a CUDA device, not {device!r}: on the CPU the host is the device")
        self.phase = phase
        self.fraction = fraction
        self.side = side or (None if self._device.type == "cuda" else "host")  # None: chosen by slow()
        self.probed = probed or self._device.type == "cuda"
        self.work: Callable[[], None] = DeviceWork(self._device) if side == "device" else HostWork()
        self.dose = Dose(fraction)
        self.host_clock: Callable[[], float] = time.perf_counter
        self._sized = False  # unprobed: the next round has work sized by the one before
        self._probe_seconds = 0.0  # probed: the current round's probe
        self._pending: Lap | None = None  # probed: the last slowed round, not yet recorded
        self.optim.SGD = self._sgd
        self.models.resnet18 = self._slowed_resnet18

    @property
    def engine(self) -> str:  # type: ignore[override]  # its name follows the side, once chosen
        return f"torch (slowed {self.fraction:.0%} in {self.phase}, {self.side or 'side not chosen yet'})"

    @property
    def injected_fraction(self) -> float | None:
        """The extra work's share of a round, measured (see the module docstring); None before any round."""
        self._record_pending()
        return self.dose.measured

    def slow(self, workload: Any) -> Any:
        """``workload`` (a :class:`benchmarks.workloads.Workload`) with its rounds slowed: unprobed, each
        round timed and the next one's extra work sized from it; probed, each round preceded by its probe, the
        side chosen if it was not named, and the dose calibrated."""
        if not self.probed:
            return self._sized_by_previous(workload)
        if self.side is None:
            self._choose_side(workload)
        slowed = self._probed(workload)

        def one_round() -> None:
            args, kwargs = slowed.setup()
            slowed.run(*args, **kwargs)
            self._record_pending()

        self.dose.calibrate(one_round)
        return slowed

    def _sized_by_previous(self, workload: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> object:
            sized, start, spent = self._sized, time.perf_counter(), self.work.spent
            result = workload.run(*args, **kwargs)
            extra = self.work.spent - spent
            plain = time.perf_counter() - start - extra
            if sized:
                self.dose.record(plain, plain + extra)
            self.work.size_to(self.fraction * plain)
            self._sized = True
            return result

        return dataclasses.replace(workload, run=run)

    def _probed(self, workload: Any) -> Any:
        probe, slowed = Lap(self._device, self.host_clock), Lap(self._device, self.host_clock)

        def setup() -> tuple[tuple, dict[str, Any]]:
            self._record_pending()
            self.work.size_to(0)
            args, kwargs = arguments(workload)
            probe.start()
            workload.run(*args, **kwargs)
            probe.stop()
            self._probe_seconds = probe.seconds()
            self.work.size_to(self.dose.amount(self._probe_seconds))
            return arguments(workload)

        def run(*args: Any, **kwargs: Any) -> object:
            slowed.start()
            result = workload.run(*args, **kwargs)
            slowed.stop()
            self._pending = slowed
            return result

        return dataclasses.replace(workload, setup=setup, run=run)

    def _record_pending(self) -> None:
        if self._pending is not None:
            self.dose.record(self._probe_seconds, self._pending.seconds())
            self._pending = None

    def _choose_side(self, workload: Any) -> None:
        """Host if plain rounds are host-bound (their launch takes :data:`HOST_BOUND` of their device time or
        more), device otherwise."""
        lap, shares = Lap(self._device, self.host_clock), []
        for _ in range(2 + SIDE_ROUNDS):
            args, kwargs = arguments(workload)
            lap.start()
            start = self.host_clock()
            workload.run(*args, **kwargs)
            host = self.host_clock() - start
            lap.stop()
            shares.append(host / lap.seconds())
        self.side = "host" if statistics.median(shares[2:]) >= HOST_BOUND else "device"
        if self.side == "device":
            self.work = DeviceWork(self._device)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(
            slowed_phase=self.phase,
            slowed_fraction=self.fraction,
            slowed_side=self.side,
            injected_fraction=self.injected_fraction,
            injection_measured_by="probe rounds" if self.probed else "the work's own time",
        )
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


def arguments(workload: Any) -> tuple[tuple, dict[str, Any]]:
    """A round's arguments, made by the workload's untimed setup."""
    return workload.setup() if workload.setup else ((), {})


def parse(spelling: str) -> SlowedBackend:
    """``slowed:<phase>:<percent>[:<side>][:<device>]`` -> its backend; :class:`UnknownBackend` explains a bad
    spelling."""
    phase, fraction, side, device = parts(spelling)
    try:
        return SlowedBackend(phase, fraction, device, side)
    except ValueError as error:
        raise UnknownBackend(f"backend {spelling!r}: {error}; {USAGE}") from None


def parts(spelling: str) -> tuple[str, float, str | None, str]:
    """The phase, fraction, side (None: the default) and device a slowed backend's spelling names."""
    _, _, rest = spelling.partition(":")
    phase, _, rest = rest.partition(":")
    percent, _, rest = rest.partition(":")
    side, _, device = rest.partition(":")
    if side not in SIDES:
        side, device = None, rest
    if phase not in PHASES:
        raise UnknownBackend(f"backend {spelling!r}: unknown phase {phase!r}; {USAGE}")
    try:
        fraction = float(percent.removesuffix("%")) / 100
    except ValueError:
        raise UnknownBackend(f"backend {spelling!r}: {percent!r} is not a percentage; {USAGE}") from None
    if not 0 < fraction <= 10:
        raise UnknownBackend(f"backend {spelling!r}: the slowdown must be above 0% and at most 1000%; {USAGE}")
    return phase, fraction, side, device or "cpu"
