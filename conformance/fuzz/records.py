"""Deviation records: what disagreed, on which engine, program and input, written as JSON with a script that
replays it; one per signature (the operators, the oracle, what disagreed), and none for a program that a recorded
shorter one explains (:meth:`Deviation.explains`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backends import Backend

from .operators import pool, program_entries
from .oracles import Finding, Outcome, check_program
from .programs import Program
from .reproduction import script
from .signatures import Signature


@dataclass(frozen=True)
class Deviation:
    """``inputs``: one array per input of the program (:meth:`Program.input_shapes`)."""

    engine: dict
    program: Program
    inputs: list[np.ndarray]
    finding: Finding

    @property
    def signed(self) -> Signature:
        return Signature(self.program.operators, self.finding.oracle, self.finding.kind)

    @property
    def signature(self) -> str:
        return str(self.signed)

    def explains(self, other: Deviation) -> bool:
        """Whether ``other`` is this deviation again in a longer program: the same oracle disagreeing the same way
        on a chain that has this one's operators in order (``prod-dim`` explains ``erf>prod-dim``,
        :meth:`Signature.explains`). An engine's broken operator makes every program through it deviate; one record
        of it is what a bug report needs."""
        return self.signed.explains(other.signed)

    def to_json(self) -> dict:
        return {
            "signature": self.signature,
            "engine": self.engine,
            "program": self.program.to_json(),
            "inputs": [array.tolist() for array in self.inputs],
            "oracle": self.finding.oracle,
            "kind": self.finding.kind,
            "figures": self.finding.figures,
            "check": self.finding.check,
        }

    @classmethod
    def from_json(cls, data: dict) -> Deviation:
        finding = Finding(data["oracle"], data["kind"], data["figures"], data.get("check", ""))
        program = Program.from_json(data["program"])
        return cls(data["engine"], program, inputs_of(program, data["inputs"]), finding)

    def write(self, directory: Path) -> Path:
        """``<signature>.json`` and ``<signature>.py``, its reproduction script (:mod:`.reproduction`), in
        ``directory``; the JSON's path."""
        directory.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", self.signature)
        record = directory / f"{stem}.json"
        record.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        entries = program_entries()
        (directory / f"{stem}.py").write_text(script(self.to_json(), record, entries))
        return record


def inputs_of(program: Program, recorded: list) -> list[np.ndarray]:
    """The recorded inputs as arrays: a list of one array per input, or, in records of the single-input version, the
    one input's array itself (told apart by its shape, the program's input's)."""
    shapes = program.input_shapes()
    if len(shapes) == 1 and np.shape(recorded) == shapes[0]:
        return [np.array(recorded, dtype=np.float64)]
    return [np.array(values, dtype=np.float64).reshape(shape) for values, shape in zip(recorded, shapes, strict=True)]


def replay(path: Path, engine: Backend) -> tuple[Deviation, Outcome]:
    """The recorded deviation and what its program and input come to on ``engine`` now."""
    deviation = Deviation.from_json(json.loads(Path(path).read_text()))
    entries, _ = pool(engine, sorted(set(deviation.program.operators)))
    return deviation, check_program(engine, entries, deviation.program, deviation.inputs)
