"""Interleaved A/B: is B slower than A on this machine? Rounds alternate between the two, so both see the
same machine, and the answer is a ratio with its confidence interval and a verdict (:mod:`benchmarks.verdict`).

    python -m benchmarks.ab --a cpu --b slowed:backward:10                  # two backends, one process
    python -m benchmarks.ab --a cpu --python-a envA/bin/python --python-b envB/bin/python   # two environments
    python -m benchmarks.ab --workload step --a cpu --b mypkg.engine:backend --json ab.json
    python -m benchmarks.ab --workload step:base --a cuda --b slowed:forward:5:host:cuda     # the base variant
    python -m benchmarks.ab --workload step:b32-224px-bf16-channels_last --a cuda ...        # any variant by id

Two backends of one process alternate round by round. With ``--python-a``/``--python-b`` each side is its own
interpreter (an environment with another torch, another build of an engine), started once as a worker
(:mod:`benchmarks.ab_worker`) that runs the rounds it is asked for and sends their times back; the two workers
alternate batches of ``--batch`` rounds. Cycles alternate the order (A then B, then B then A) so that neither
side always runs first. Each side first checks that the engine's ``synchronize()`` really waits, then runs its
warm-up rounds.

Exit status: 0 for no change or an improvement, 1 for a regression, 3 when the samples are too noisy for a
verdict, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from backends import registry
from backends.contract import BackendError, Unsupported
from backends.perf_mutants import SlowedBackend
from conformance.seeding import seed_everything

from . import workloads
from .clocks import clock_for
from .measure import clock_device, prepare, time_round
from .verdict import DEFAULT_EFFECT, INCONCLUSIVE, REGRESSION, Comparison, compare

ROOT = Path(__file__).resolve().parent.parent
EXIT_STATUS = {REGRESSION: 1, INCONCLUSIVE: 3}


class Side(Protocol):
    """One side of the comparison: runs rounds when asked and returns their seconds."""

    def describe(self) -> dict[str, Any]: ...

    def measure(self, rounds: int) -> list[float]: ...

    def close(self) -> None: ...


class LocalSide:
    """A backend in this process running one workload, built from the same seed on every side: the same weights
    and inputs (random weights change a step's speed on the CPU: two models built apart differ by up to 10%)."""

    def __init__(self, backend: str, workload: str, warmup: int) -> None:
        self.engine = registry.resolve(backend)
        self.clock = clock_for(clock_device(self.engine))
        self.engine.seed(seed_everything(f"benchmarks.ab:{workload}"))
        self.workload = prepare(self.engine, workloads.build(workload, self.engine), self.clock)
        self.measure(warmup)

    @property
    def injected_fraction(self) -> float | None:
        """A slowed backend's extra work, as a fraction of its rounds; None for any other."""
        return self.engine.injected_fraction if isinstance(self.engine, SlowedBackend) else None

    def describe(self) -> dict[str, Any]:
        info = {"python": sys.version.split()[0], "executable": sys.executable, **self.engine.describe()}
        info.pop("capabilities")
        return info

    def measure(self, rounds: int) -> list[float]:
        return [time_round(self.workload, self.clock) for _ in range(rounds)]

    def close(self) -> None:
        self.engine.reset()


class InterpreterSide:
    """A backend in another interpreter: a :mod:`benchmarks.ab_worker` process, started once."""

    def __init__(self, python: str, backend: str, workload: str, warmup: int) -> None:
        self.python = python
        command = [python, "-m", "benchmarks.ab_worker", "--backend", backend, "--workload", workload]
        command += ["--warmup", str(warmup)]
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        environment = {**os.environ, "PYTHONPATH": path}
        try:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
        except OSError as error:
            raise BackendError(f"cannot start the interpreter {python!r}: {error}") from error
        self.info = self._reply()["ready"]

    def _reply(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            status = self.process.wait()
            raise BackendError(f"the worker in {self.python} exited with status {status} (its error is printed above)")
        reply = json.loads(line)
        if "error" in reply:
            raise BackendError(f"the worker in {self.python}: {reply['error']}")
        return reply

    def describe(self) -> dict[str, Any]:
        return self.info

    def measure(self, rounds: int) -> list[float]:
        self.process.stdin.write(f"{rounds}\n")
        self.process.stdin.flush()
        return self._reply()["seconds"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)


def interleave(a: Side, b: Side, *, rounds: int, batch: int) -> tuple[list[float], list[float]]:
    """``rounds`` rounds of each side, in alternating batches of ``batch`` (A B, B A, A B, ...); a batch of
    ``rounds`` runs one side after the other, as two separate runs would."""
    if rounds < 1 or not 1 <= batch <= rounds:
        raise ValueError(f"need rounds >= 1 and 1 <= batch <= rounds, got rounds={rounds}, batch={batch}")
    times: dict[int, list[float]] = {0: [], 1: []}
    sides = (a, b)
    cycle = 0
    while len(times[0]) < rounds:
        size = min(batch, rounds - len(times[0]))
        for index in (0, 1) if cycle % 2 == 0 else (1, 0):
            times[index] += sides[index].measure(size)
        cycle += 1
    return times[0], times[1]


def run(a: Side, b: Side, *, rounds: int, batch: int, effect: float) -> tuple[Comparison, dict[str, Any]]:
    """Interleave ``a`` and ``b`` and compare; returns the comparison and a JSON-ready record of the run."""
    load_before = load_average()
    times_a, times_b = interleave(a, b, rounds=rounds, batch=batch)
    comparison = compare(times_a, times_b, effect=effect, paired=batch < rounds)
    record = {
        "a": a.describe(),
        "b": b.describe(),
        "rounds": rounds,
        "batch": batch,
        "load_average": {"before": load_before, "after": load_average(), "cores": os.cpu_count()},
        "comparison": comparison.as_dict(),
        "seconds_a": times_a,
        "seconds_b": times_b,
    }
    return comparison, record


def load_average() -> list[float] | None:
    """The machine's 1, 5 and 15-minute load averages (None where the platform has none): how busy it was."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", default="cpu", help="side A's --backend (default cpu)")
    parser.add_argument("--b", help="side B's --backend (default: side A's)")
    parser.add_argument("--python-a", help="side A's interpreter (default: this one, in this process)")
    parser.add_argument("--python-b", help="side B's interpreter (default: this one, in this process)")
    parser.add_argument(
        "--workload",
        type=workloads.workload_name,
        default="overhead",
        help=f"what a round runs, one of {', '.join(workloads.NAMES)} (default overhead)",
    )
    parser.add_argument("--rounds", type=int, default=50, help="measured rounds per side (default 50)")
    parser.add_argument("--batch", type=int, default=1, help="rounds per turn of a side (default 1: alternate)")
    parser.add_argument("--warmup", type=int, default=5, help="discarded rounds per side first (default 5)")
    parser.add_argument("--effect", type=float, default=DEFAULT_EFFECT * 100, help="effect size in %% (default 5)")
    parser.add_argument("--json", type=Path, help="write the samples, both sides' versions and the verdict here")
    args = parser.parse_args(argv)
    if args.rounds < 5 or not 1 <= args.batch <= args.rounds or args.warmup < 0 or not args.effect > 0:
        parser.error("need --rounds >= 5, 1 <= --batch <= --rounds, --warmup >= 0 and --effect > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    backend_b = args.b or args.a
    sides: list[Side] = []
    try:
        if args.python_a or args.python_b:
            for python, backend in ((args.python_a, args.a), (args.python_b, backend_b)):
                sides.append(InterpreterSide(python or sys.executable, backend, args.workload, args.warmup))
        else:
            sides += [LocalSide(backend, args.workload, args.warmup) for backend in (args.a, backend_b)]
        comparison, record = run(*sides, rounds=args.rounds, batch=args.batch, effect=args.effect / 100)
    except (BackendError, Unsupported) as error:
        print(f"python -m benchmarks.ab: {error}", file=sys.stderr)
        return 2
    finally:
        for side in sides:
            side.close()
    for label, info in (("A", record["a"]), ("B", record["b"])):
        print(f"{label}: {info['backend']} ({info['engine']} {info['engine_version']}, python {info['python']})")
    print(f"{args.workload}, {args.rounds} rounds each, alternating in batches of {args.batch}")
    load = record["load_average"]
    print(f"load average {load['before']} before, {load['after']} after, on {load['cores']} cores")
    print(comparison.describe())
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return EXIT_STATUS.get(comparison.verdict, 0)


if __name__ == "__main__":
    raise SystemExit(main())
