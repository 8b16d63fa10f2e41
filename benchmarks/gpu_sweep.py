"""Run the full benchmark sweep on a GPU and check the harness's own overhead.

    python -m benchmarks.gpu_sweep [--backend cuda] [--results benchmarks/results] [-- extra pytest args]
    python -m benchmarks.gpu_sweep --overhead-only [--variant b32-224px] [--backend cuda]   # the check alone

1. ``pytest benchmarks --backend=<backend> --benchmark-json=<results>/<device>.json`` (every variant; the
   ones the device cannot run skip with their reason), the file named after the device
   (``nvidia-h100-80gb-hbm3.json``).
2. The harness-overhead check (:func:`overhead_check`): one variant's step (default the base) timed in
   alternation by the harness (a round as pytest-benchmark's ``pedantic`` times it: the clock read before and
   after, which on CUDA records an event and waits for it) and by a bare loop (CUDA events around each step
   and one synchronisation after the batch, no harness in between), batch by batch, as ``benchmarks.ab``
   alternates two sides. The verdict (:mod:`benchmarks.verdict`) pairs the two sides' rounds: the ratio
   harness/bare with its 95% confidence interval, expected at most 1.02, written to
   ``<results>/<device>-overhead.json``. It is a report, not an assertion. (Two medians taken minutes apart,
   the harness's from the sweep, would compare two states of the machine as much as the two loops.)
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from backends import BackendError, resolve

from .ab import interleave
from .clocks import clock_for, time_each
from .measure import device_name, time_round
from .sweep import BASE
from .training_step import StepConfig, build_step, math_mode
from .verdict import compare
from .workloads import Workload

EXPECTED_MAX_RATIO = 1.02
OVERHEAD_ROUNDS = 50
OVERHEAD_BATCH = 10
WARMUP = 10


def slug(name: str) -> str:
    """A file name for a device: ``NVIDIA H100 80GB HBM3`` -> ``nvidia-h100-80gb-hbm3``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class HarnessLoop:
    """Rounds of ``step`` as the harness times them: :func:`benchmarks.measure.time_round` on the clock of the
    device, one round at a time."""

    def __init__(self, step: Any, device: torch.device) -> None:
        self.workload, self.clock = Workload(run=step.run, readback=step.readback), clock_for(device)

    def measure(self, rounds: int) -> list[float]:
        return [time_round(self.workload, self.clock) for _ in range(rounds)]


class BareLoop:
    """Rounds of ``step`` back to back with no harness in between (:func:`benchmarks.clocks.time_each`)."""

    def __init__(self, step: Any, device: torch.device) -> None:
        self.step, self.device = step, device

    def measure(self, rounds: int) -> list[float]:
        return time_each(self.step.run, self.device, rounds)


def overhead_check(
    engine: Any,
    config: StepConfig = BASE,
    *,
    rounds: int = OVERHEAD_ROUNDS,
    batch: int = OVERHEAD_BATCH,
    warmup: int = WARMUP,
) -> dict[str, Any]:
    """The harness's rounds against the bare loop's, in alternating batches of ``batch`` rounds, after
    ``warmup`` rounds of both; the verdict's ratio harness/bare, its interval and both medians."""
    device = torch.device(engine.device)
    with math_mode(config, device):
        step = build_step(engine, config)
        bare, harness = BareLoop(step, device), HarnessLoop(step, device)
        bare.measure(warmup)
        harness.measure(warmup)
        bare_s, harness_s = interleave(bare, harness, rounds=rounds, batch=batch)
    comparison = compare(bare_s, harness_s, effect=EXPECTED_MAX_RATIO - 1, paired=batch < rounds)
    return {
        "variant": config.id,
        "rounds": rounds,
        "batch": batch,
        "harness_median_ms": statistics.median(harness_s) * 1e3,
        "bare_loop_median_ms": statistics.median(bare_s) * 1e3,
        "ratio": comparison.ratio,
        "ratio_ci95": [comparison.low, comparison.high],
        "verdict": comparison.verdict,
        "expected_max_ratio": EXPECTED_MAX_RATIO,
        "within_expected": comparison.ratio <= EXPECTED_MAX_RATIO,
        "harness_seconds": harness_s,
        "bare_loop_seconds": bare_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="cuda", help="a torch backend (default: cuda)")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results", help="output folder")
    parser.add_argument("--overhead-only", action="store_true", help="the harness-overhead check alone, no sweep")
    parser.add_argument(
        "--variant", type=StepConfig.from_id, default=BASE, help="the overhead check's variant id (default the base)"
    )
    parser.add_argument("--rounds", type=int, default=OVERHEAD_ROUNDS, help="overhead check: rounds per side")
    parser.add_argument("--batch", type=int, default=OVERHEAD_BATCH, help="overhead check: rounds per turn")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="overhead check: discarded rounds per side")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)

    try:
        engine = resolve(args.backend)
    except BackendError as error:
        parser.error(str(error))
    if torch.device(engine.device).type == "cpu" and not args.overhead_only:
        parser.error(
            f"--backend={args.backend} runs on the CPU: the sweep is for a GPU (hours on a CPU); "
            "for the CPU run `pytest benchmarks -m smoke`"
        )
    if args.rounds < 5 or not 1 <= args.batch <= args.rounds or args.warmup < 1:
        parser.error("need --rounds >= 5, 1 <= --batch <= --rounds and --warmup >= 1")
    name = slug(device_name(torch.device(engine.device)))
    args.results.mkdir(parents=True, exist_ok=True)
    if not args.overhead_only:
        report_path = args.results / f"{name}.json"
        command = [sys.executable, "-m", "pytest", str(Path(__file__).parent), f"--backend={args.backend}"]
        command += [f"--benchmark-json={report_path}", "--benchmark-disable-gc", "-p", "no:cacheprovider"]
        status = subprocess.call([*command, *args.pytest_args])
        if status != 0 or not report_path.exists():
            return status or 1
        print(f"wrote {report_path}")

    check = {
        "device_name": device_name(torch.device(engine.device)),
        **overhead_check(engine, args.variant, rounds=args.rounds, batch=args.batch, warmup=args.warmup),
    }
    overhead_path = args.results / f"{name}-overhead.json"
    overhead_path.write_text(json.dumps(check, indent=2) + "\n", encoding="utf-8")
    low, high = check["ratio_ci95"]
    print(
        f"harness overhead on {check['variant']}, interleaved: harness/bare {check['ratio']:.3f} "
        f"(95% CI {low:.3f}-{high:.3f}; medians {check['harness_median_ms']:.3f} ms and "
        f"{check['bare_loop_median_ms']:.3f} ms; expected <= {EXPECTED_MAX_RATIO})"
    )
    print(f"wrote {overhead_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
