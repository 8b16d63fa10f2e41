"""The command's ``--isolate``: the fuzzing runs in a child process, replaced when the engine kills it, so that a
crash costs one program, not the run (as the specs' ``--isolate`` costs one spec).

The child sends the summary after every round; when it dies, the parent reads the flight record it left
(:func:`.crashes.crashed_deviation`), records the crash as a deviation, and starts a new child from the round
after, which knows the crash and does not run it again (:class:`.crashes.Flight`). The budget is the run's: the
programs of every child count, and a time budget is the parent's clock. A child is a fresh interpreter (spawned,
not forked: an engine's thread pools do not survive a fork).
"""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.connection import Connection
from pathlib import Path

from backends import resolve

from .crashes import Flight, crashed_deviation
from .runner import Budget, Summary, fuzz, program_key
from .signatures import Signature


class DiedOutsideAProgram(RuntimeError):
    """The child died with no flight record: outside the engine's calls (importing the engine, drawing)."""


def child(
    connection: Connection,
    backend: str,
    budget: Budget,
    seed: int,
    operators: list[str] | None,
    most_operators: int,
    flight: tuple[Path, list[Signature]],
    resume: tuple[Summary, int],
) -> None:
    """The child's work: fuzz from ``resume``, sending ``(summary, next round, finished)`` after each round and
    at the end."""
    path, known = flight

    def sent(summary: Summary, next_round: int) -> None:
        connection.send((summary, next_round, False))

    summary = fuzz(
        resolve(backend), budget, seed, operators, most_operators, None, Flight(path, known), resume, after_round=sent
    )
    connection.send((summary, 0, True))
    connection.close()


def fuzz_isolated(
    backend: str,
    budget: Budget,
    seed: int,
    operators: list[str] | None,
    most_operators: int,
    flight_path: Path,
    known_crashes: list[Signature],
) -> Summary:
    """:func:`.runner.fuzz` on the backend spelled ``backend``, in children replaced on each crash: each crash is a
    deviation of the summary (kind ``crashed``), and its program counts against the budget (a known crash is not
    run again, so the run ends)."""
    context = multiprocessing.get_context("spawn")
    summary, next_round, started = Summary(), 0, time.monotonic()
    known = list(known_crashes)
    while True:
        left = (
            budget
            if budget.seconds is None
            else Budget(seconds=max(0.0, budget.seconds - (time.monotonic() - started)))
        )
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(
            target=child,
            args=(sending, backend, left, seed, operators, most_operators, (flight_path, known), (summary, next_round)),
        )
        process.start()
        sending.close()
        finished = False
        while not finished:
            try:
                summary, sent_round, finished = receiving.recv()
            except EOFError:
                break
            next_round = sent_round or next_round
        process.join()
        if finished:
            return summary
        how = f"of signal {-process.exitcode}" if process.exitcode < 0 else f"with exit status {process.exitcode}"
        crash = crashed_deviation(flight_path, how)
        if crash is None:
            raise DiedOutsideAProgram(f"the fuzzing process died {how} outside the engine's calls")
        summary.record(crash)
        summary.programs.add(program_key(crash.program, crash.inputs))
        known.append(crash.signed)
        next_round += 1
