"""Crashes as deviations: an engine that kills the process (a segmentation fault in native code) deviates as one that
raises does, and the program that killed it is what an upstream report needs.

The flight recorder (:class:`Flight`) writes the program, its inputs and the oracle about to run to a file before
each oracle runs the engine; a process that dies leaves the file behind, and :func:`crashed_deviation` reads it
back as a deviation of kind ``crashed`` (``cumsum|second-order|crashed``), with its record and reproduction script.
The command's ``--isolate`` (:mod:`.isolated`) and the pytest entry's (:mod:`.items`) read it once the process is
gone.

A known crash is not run again: an oracle that a known crash signature explains for the program (one of the
engine's triaged findings of kind ``crashed``, or a crash recorded earlier in the run) is left out, and the program
deviates there with kind ``crashed`` as it would have, "not run", so that the findings explain it and the other
oracles of the program still run. Without that, one crashing operator would end every run whose programs reach it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from conformance import checks

from .oracles import Finding
from .programs import Program
from .records import Deviation, inputs_of
from .signatures import CRASHED, DIFFERENCES, FORWARD, REVERSE, SECOND, Signature

#: the check of the specs each oracle's deviations fall in (:mod:`conformance.checks`)
CHECK_OF = {REVERSE: "", FORWARD: checks.FORWARD_MODE, DIFFERENCES: "", SECOND: checks.SECOND_ORDER}
#: the flight record's name, in the folder a run writes its records to
FLIGHT_RECORD = "flight.json"


class Flight:
    """Where the engine is, for a record that outlives the process: :meth:`boarding` takes the program, each
    :meth:`entering` the oracle about to run (written to ``path`` before it runs, where ``path`` is given), and
    :meth:`landed` removes the record once the run ends alive. ``known``: the signatures of known crashes, whose
    oracles :meth:`entering` refuses."""

    def __init__(self, path: Path | None = None, known: Iterable[Signature] = ()) -> None:
        self.path = path
        self.known = list(known)
        self.record: dict = {}
        self.operators: tuple[str, ...] = ()

    def boarding(self, engine: dict, program: Program, inputs: list[np.ndarray]) -> None:
        self.operators = program.operators
        self.record = {"engine": engine, "program": program.to_json(), "inputs": [array.tolist() for array in inputs]}

    def entering(self, oracle: str) -> Finding | None:
        """None where ``oracle`` may run (its flight record written first), or the ``crashed`` finding that a known
        crash of the program's operators in that oracle stands for, where one explains it."""
        signature = Signature(self.operators, oracle, CRASHED)
        if known := next((crash for crash in self.known if crash.explains(signature)), None):
            return Finding(oracle, CRASHED, {"message": f"not run: it crashes as {known} does"}, CHECK_OF[oracle])
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({**self.record, "oracle": oracle}))
        return None

    def crashed(self, deviation: Deviation) -> None:
        """Know the crash of ``deviation`` from here on."""
        self.known.append(deviation.signed)

    def landed(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def crashed_deviation(path: Path, how: str) -> Deviation | None:
    """The deviation the flight record at ``path`` stands for, the process having died ``how`` ("of signal 11"),
    or None where there is no record (the process died outside the engine's calls); the record is consumed."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    path.unlink()
    program = Program.from_json(data["program"])
    oracle = data["oracle"]
    finding = Finding(oracle, CRASHED, {"message": f"the process died {how}"}, CHECK_OF[oracle])
    return Deviation(data["engine"], program, inputs_of(program, data["inputs"]), finding)
