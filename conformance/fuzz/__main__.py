"""``python -m conformance.fuzz --backend=NAME [--budget=60s|500] [--seed=N] [--out=DIR] [--operators=a,b]
[--isolate]``: exit 0 when no new deviation is found, 1 when one is (each written to ``--out``); a deviation that a
triaged finding of the engine explains (``backends/findings/<engine>.json``, or ``--findings=PATH``) is listed as a
known finding and does not fail the run. ``--isolate`` fuzzes in a child process that is replaced when the engine
kills it: the crash is a deviation (kind ``crashed``) with its program, read back from the flight record
(:mod:`.crashes`, :mod:`.isolated`). A known crash (a finding of kind ``crashed``) is not run again, isolated or
not. ``--replay=RECORD`` runs a recorded deviation again instead, exiting 1 while it is still there. A malformed
findings file is a usage error (exit 2)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pytest

from backends import resolve

from . import findings
from .crashes import FLIGHT_RECORD, Flight
from .isolated import fuzz_isolated
from .records import replay
from .runner import Budget, fuzz
from .summary import report


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m conformance.fuzz", description=__doc__)
    parser.add_argument("--backend", default="cpu", help="as the specs' --backend (cpu, jax, mutant:<name>, ...)")
    parser.add_argument("--budget", type=Budget.parse, default=Budget(seconds=60), help="500 programs, or 60s, 10m")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("fuzz-out"), help="where deviation records are written")
    parser.add_argument("--operators", help="comma-separated catalogue names to chain (default: every chainable one)")
    parser.add_argument("--most-operators", type=int, default=3, help="the longest chain")
    parser.add_argument("--replay", type=Path, help="a deviation record (JSON) to run again")
    parser.add_argument(
        "--isolate",
        action="store_true",
        help="fuzz in a child process, replaced when the engine crashes it (the crash is recorded as a deviation)",
    )
    parser.add_argument(
        "--findings",
        type=Path,
        help="the engine's triaged findings (JSON), in place of backends/findings/<engine>.json",
    )
    return parser.parse_args(argv)


def load_torch_compiler_stack() -> None:
    """torch's double backward of some operators runs Python references that import torch's compiler stack
    (torch._dynamo, and with it triton) on first use, as the oracle's second derivatives do in a program; triton
    imported into a process that already holds another LLVM (TensorFlow's) aborts it ("LLVM ERROR: inconsistency in
    registered CommandLine options"), imported before it does not."""
    import torch._dynamo  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    load_torch_compiler_stack()
    engine = resolve(args.backend)
    if args.replay:
        deviation, outcome = replay(args.replay, engine)
        recorded = (deviation.finding.oracle, deviation.finding.kind)
        again = [finding for finding in outcome.findings if (finding.oracle, finding.kind) == recorded]
        print(f"{deviation.signature}: {'still there ' + str(again[0].figures) if again else 'gone'}")
        return 1 if again else 0
    try:
        known = findings.of_engine(engine, args.findings)
    except pytest.UsageError as error:
        print(f"python -m conformance.fuzz: error: {error}", file=sys.stderr)
        return 2
    operators = args.operators.split(",") if args.operators else None
    started = time.monotonic()
    if args.isolate:
        flight = args.out / FLIGHT_RECORD
        summary = fuzz_isolated(
            args.backend, args.budget, args.seed, operators, args.most_operators, flight, known.crashes
        )
    else:
        summary = fuzz(
            engine, args.budget, args.seed, operators, args.most_operators, flight=Flight(None, known.crashes)
        )
    print(report(engine.name, summary, time.monotonic() - started, args.out, known))
    _, new = known.split(summary.deviations)
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
