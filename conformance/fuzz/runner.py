"""The fuzzing loop: hypothesis draws programs, runs their checks, and shrinks the first program of each new
deviation signature to a minimal one; rounds of :data:`ROUND` programs, each seeded, until the budget is spent."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from backends import Backend

from .crashes import Flight
from .operators import pool
from .oracles import check_program
from .programs import Program, cases
from .records import Deviation

#: programs per hypothesis run: a run ends at its first new deviation, or here
ROUND = 50


@dataclass(frozen=True)
class Budget:
    """At most ``programs`` distinct programs, or ``seconds`` of wall time (checked between programs)."""

    programs: int | None = None
    seconds: float | None = None

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``500`` programs, or a time: ``60s``, ``10m``, ``1h``."""
        units = {"s": 1, "m": 60, "h": 3600}
        if text[-1:] in units:
            return cls(seconds=float(text[:-1]) * units[text[-1]])
        return cls(programs=int(text))


@dataclass
class Summary:
    programs: set = field(default_factory=set)
    unstable: Counter = field(default_factory=Counter)
    unsupported: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    deviations: dict[str, Deviation] = field(default_factory=dict)
    #: operators left out as the engine's known failures: name -> reason
    known: dict[str, str] = field(default_factory=dict)
    #: programs whose deviation a recorded one explains (:meth:`Deviation.explains`): its signature -> count
    explained: Counter = field(default_factory=Counter)
    #: programs with a binary step (an operand of their own)
    binary: int = 0

    def record(self, deviation: Deviation) -> None:
        """Keep ``deviation``, in place of the recorded ones it explains."""
        for signature, recorded in list(self.deviations.items()):
            if deviation.explains(recorded):
                del self.deviations[signature]
                self.explained[deviation.signature] += 1 + self.explained.pop(signature, 0)
        self.deviations[deviation.signature] = deviation

    def explaining(self, deviation: Deviation) -> Deviation | None:
        """The recorded deviation that explains ``deviation``, if one does."""
        return next((recorded for recorded in self.deviations.values() if recorded.explains(deviation)), None)


def program_key(program: Program, inputs: list[np.ndarray]) -> str:
    """What tells programs apart: the program and its inputs' bytes."""
    return program.key() + "|".join(array.tobytes().hex() for array in inputs)


class Stopped(BaseException):
    """A program was stopped from outside (pytest-timeout's ``Failed`` at an item's time limit, a ``SystemExit``):
    hypothesis would take either for the program's own failure and shrink it, running on past the limit, so the
    run ends at once and :func:`fuzz` raises ``cause`` again. Not an ``Exception``: hypothesis lets it through."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(repr(cause))
        self.cause = cause


class NewDeviation(Exception):
    """A deviation of a signature not seen yet: fails the hypothesis run, which shrinks its program."""

    def __init__(self, deviation: Deviation) -> None:
        super().__init__(deviation.signature)
        self.deviation = deviation


def fuzz(
    engine: Backend,
    budget: Budget,
    seed: int = 0,
    operators: list[str] | None = None,
    most_operators: int = 3,
    first: str | None = None,
    flight: Flight | None = None,
    resume: tuple[Summary, int] | None = None,
    after_round: Callable[[Summary, int], None] | None = None,
) -> Summary:
    """Fuzz ``engine`` with programs of ``operators`` (every chainable one it supports by default), each starting
    with ``first`` where given: that operator is fuzzed even where it is a known failure of the engine. Each
    program boards ``flight`` (:mod:`.crashes`); ``resume`` goes on from a summary and the round to run next,
    and ``after_round`` is told the summary and the next round after each round (:mod:`.isolated`)."""
    entries, known = pool(engine, operators)
    if first is not None and first not in entries:
        entries |= pool(engine, [first])[0]
        known.pop(first, None)
    summary, first_round = resume or (Summary(), 0)
    summary.known = known
    flight = flight or Flight()
    described = engine.describe()
    started = time.monotonic()

    def spent() -> bool:
        if budget.seconds is not None:
            return time.monotonic() - started >= budget.seconds
        return len(summary.programs) >= budget.programs

    #: whether the round has raised a new deviation, which hypothesis is shrinking: the budget ends the drawing of
    #: new programs, not the shrinking of one found (a candidate skipped as over budget would pass, and stop it)
    shrinking = [False]

    def check(case) -> None:
        program, inputs = case
        key = program_key(program, inputs)
        first_time = key not in summary.programs
        if spent() and first_time and not shrinking[0]:
            return
        summary.programs.add(key)
        if first_time and program.operands:
            summary.binary += 1
        flight.boarding(described, program, inputs)
        try:
            outcome = check_program(engine, entries, program, inputs, flight)
        except BaseException as stop:
            if isinstance(stop, Exception) and not isinstance(stop, SystemExit):
                raise
            raise Stopped(stop) from stop
        if first_time and outcome.unstable:  # hypothesis replays programs while shrinking: each counted once
            summary.unstable[outcome.unstable.split(" (")[0]] += 1
        if first_time and outcome.unsupported:
            summary.unsupported[outcome.unsupported] += 1
        if first_time and outcome.refused:
            summary.refused[outcome.refused] += 1
        for finding in outcome.findings:
            deviation = Deviation(described, program, inputs, finding)
            if (explanation := summary.explaining(deviation)) is None:
                shrinking[0] = True
                raise NewDeviation(deviation)
            if first_time and explanation.signature != deviation.signature:
                summary.explained[explanation.signature] += 1

    for round_number in range(first_round, 10**6):
        if spent():
            break
        shrinking[0] = False
        run = settings(
            max_examples=ROUND,
            database=None,
            deadline=None,
            derandomize=False,
            report_multiple_bugs=False,
            phases=(Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
        )(hypothesis_seed(seed * 100003 + round_number)(given(cases(entries, most_operators, first))(check)))
        try:
            run()
        except NewDeviation as found:
            summary.record(found.deviation)
        except Stopped as stopped:
            flight.landed()  # the process lives on: no crash to record
            raise stopped.cause from None
        if after_round is not None:
            after_round(summary, round_number + 1)
    flight.landed()
    return summary
