"""The extra work of a slowed engine (:mod:`backends.perf_mutants`) and the measurement of what it costs a round.

Two kinds of work, one per side of a round's time:

- :class:`HostWork`: real computation on the CPU thread that runs the round. On a GPU it delays every later
  kernel launch, so it slows a launch-bound (host-bound) step; on the CPU it slows any round.
- :class:`DeviceWork`: one kernel spinning on the current CUDA stream (``torch.cuda._sleep``). It delays every
  later kernel on the stream, so it slows a device-bound step; in a launch-bound one it fills time the device
  would have spent idle, and slows it by less than its own length, or not at all.

Either kind's own duration is therefore not, in general, what it adds to a round. :class:`Dose` measures what it
adds: each slowed round is preceded by a probe round with the work switched off, both timed on a :class:`Lap`
(the device's own clock), and the round's injected fraction is ``slowed / probe - 1``. The dose sizes the
work from the probe and corrects its gain until the measured fraction matches the requested one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


class HostWork:
    """``units`` multiplications of a 16-element vector on the CPU thread, sized in seconds by the time a
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


class DeviceWork:
    """One kernel spinning for ``cycles`` GPU cycles on the current stream, sized in seconds by the spin
    rate measured once (:meth:`cycles_per_second`)."""

    CALIBRATION_CYCLES = 10_000_000

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cycles = 0
        self._rate: float | None = None

    def cycles_per_second(self) -> float:
        if self._rate is None:
            torch.cuda.synchronize(self.device)
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            torch.cuda._sleep(self.CALIBRATION_CYCLES)
            end.record()
            end.synchronize()
            self._rate = self.CALIBRATION_CYCLES / (start.elapsed_time(end) / 1e3)
        return self._rate

    def size_to(self, seconds: float) -> None:
        self.cycles = round(seconds * self.cycles_per_second()) if seconds > 0 else 0

    def __call__(self) -> None:
        if self.cycles:
            torch.cuda._sleep(self.cycles)


class Lap:
    """The time of one stretch of work on ``device``'s clock: CUDA events around it on CUDA (recorded without
    waiting, so timing a round does not add a synchronisation to it; :meth:`seconds` waits for the end), the
    ``host_clock`` elsewhere."""

    def __init__(self, device: torch.device, host_clock: Callable[[], float] = time.perf_counter) -> None:
        self.cuda = device.type == "cuda"
        self.host_clock = host_clock
        self._start: object = None
        self._end: object = None

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> None:
        self._end = self._read()

    def seconds(self) -> float:
        if self.cuda:
            self._end.synchronize()
            return self._start.elapsed_time(self._end) / 1e3
        return self._end - self._start

    def _read(self) -> object:
        if not self.cuda:
            return self.host_clock()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event


class Dose:
    """How much work a round gets, and what it measurably added.

    The work of a round is ``fraction * gain`` of its probe (the same round without the work). Calibration
    (:meth:`calibrate`, before any timed round) runs stages of :data:`STAGE` rounds and, after each, compares
    the median injected fraction of the rounds at the current gain with the request: within
    :data:`TOLERANCE`, the gain is kept; off by more than :data:`SIGNIFICANT` standard errors of the median,
    the gain is corrected and the rounds start over; otherwise (noisy rounds, too few to tell) one more
    stage. A correction scales the gain by request / measured until a gain too low and one too high are
    known, then takes the secant between them: extra work that first fills idle time adds nothing up to a
    point, then all of its excess, which a ratio alone would overshoot back and forth. The gain ends about 1
    when the work sits on the round's critical path, higher when part of it overlaps the other side's time.
    It is then held, so that the timed rounds all get the same dose; :attr:`measured` is the median injected
    fraction of the rounds recorded since the calibration."""

    STAGE = 6
    MAX_STAGES = 10
    TOLERANCE = 0.15  # relative: 10% requested, 8.5% to 11.5% measured ends the calibration
    SIGNIFICANT = 3.0  # standard errors: at 2, one noisy stage in five corrected a gain that was right
    MAX_STEP = 4.0  # the most one correction multiplies or divides the gain by, before a bracket is known
    MAX_GAIN = 100.0

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction
        self.gain = 1.0
        self.effects: list[float] = []

    def amount(self, probe_seconds: float) -> float:
        """Seconds of work for a round whose probe took ``probe_seconds``."""
        return self.fraction * self.gain * probe_seconds

    def record(self, probe_seconds: float, slowed_seconds: float) -> None:
        self.effects.append(slowed_seconds / probe_seconds - 1)

    @property
    def measured(self) -> float | None:
        return statistics.median(self.effects) if self.effects else None

    def calibrate(self, run_round: Callable[[], None]) -> None:
        """Run calibration rounds (``run_round()`` runs one probe and one slowed round, recording both) and
        correct the gain as the class docstring says; then forget them."""
        below: tuple[float, float] | None = None  # (gain, effect): the highest gain found too low
        above: tuple[float, float] | None = None  # the lowest gain found too high
        self.effects = []
        for _ in range(self.MAX_STAGES):
            for _ in range(self.STAGE):
                run_round()
            effect = self.measured
            miss = effect - self.fraction
            if abs(miss) <= self.TOLERANCE * self.fraction:
                break
            if abs(miss) <= self.SIGNIFICANT * median_error(self.effects):
                continue
            if miss < 0 and (below is None or self.gain > below[0]):
                below = (self.gain, effect)
            if miss > 0 and (above is None or self.gain < above[0]):
                above = (self.gain, effect)
            self.gain = self._next_gain(below, above)
            self.effects = []
        self.effects = []

    def _next_gain(self, below: tuple[float, float] | None, above: tuple[float, float] | None) -> float:
        if below and above:
            (low, low_effect), (high, high_effect) = below, above
            return low + (self.fraction - low_effect) * (high - low) / (high_effect - low_effect)
        gain, effect = below or above
        step = self.fraction / effect if effect > 0 else self.MAX_STEP
        return min(self.MAX_GAIN, gain * min(self.MAX_STEP, max(1 / self.MAX_STEP, step)))


def median_error(samples: list[float]) -> float:
    """The standard error of a sample's median, from its interquartile range (normal approximation:
    ``1.2533 * sigma / sqrt(n)``, sigma = IQR / 1.349)."""
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return 1.2533 * (q3 - q1) / 1.349 / len(samples) ** 0.5
