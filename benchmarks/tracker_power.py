"""Measure the regression tracker itself: how often it alarms on unchanged code, how often it catches a slowdown.

    python -m benchmarks.tracker_power [--workloads overhead step] [--comparisons 20] [--rounds 30] \\
        [--backend cpu] [--json power.json] [--md power.md]

For each workload (:data:`benchmarks.workloads.WORKLOADS`) and each way of taking samples, it runs
``--comparisons`` comparisons of the backend against itself (unchanged code: every ``regression`` verdict is a
false alarm) and against each slowed backend (:mod:`backends.perf_mutants`: 2%, 5% and 10% in each phase the
workload has; every ``regression`` verdict is a detection). Every comparison builds both sides afresh. Ways of
taking samples:

- ``interleaved``: A and B alternate round by round (``python -m benchmarks.ab``'s default), verdict paired;
- ``back-to-back``: all of A's rounds, then all of B's, as two runs of the benchmarks would be (but seconds
  apart, not hours: the most favourable case of comparing saved runs), verdict unpaired.

Each back-to-back comparison is also judged by the rule ``--benchmark-compare-fail=median:5%`` applies (B's
median more than 5% above A's), for contrast. Rates come with Wilson 95% intervals. The machine, the versions
and the load average before and after go into the JSON, since the figures hold for this machine only.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from .ab import LocalSide, interleave
from .verdict import DEFAULT_EFFECT, REGRESSION, compare
from .workloads import WORKLOADS

SLOWDOWNS = (2, 5, 10)
#: The phases a workload's round contains (the overhead workload times backward alone).
PHASES = {"overhead": ("backward",), "step": ("forward", "backward", "step")}
MODES = {"interleaved": 1, "back-to-back": None}  # batch size; None: all rounds in one batch
NAIVE_THRESHOLD = 0.05


@dataclasses.dataclass
class Condition:
    """One cell of the measurement: a workload, a way of sampling and a B side (``slowdown`` 0: unchanged)."""

    workload: str
    mode: str
    phase: str | None
    slowdown: int
    alarms: int = 0
    naive_alarms: int = 0
    comparisons: int = 0
    ratios: list[float] = dataclasses.field(default_factory=list)
    injected: list[float] = dataclasses.field(default_factory=list)
    verdicts: list[str] = dataclasses.field(default_factory=list)

    def b_backend(self, backend: str) -> str:
        """Side B: ``backend`` itself, or torch slowed on ``backend``'s device."""
        return backend if not self.slowdown else f"slowed:{self.phase}:{self.slowdown}:{backend}"

    def record(self) -> dict[str, Any]:
        from scipy.stats import binomtest

        rate = binomtest(self.alarms, self.comparisons).proportion_ci(method="wilson")
        record = {
            "workload": self.workload,
            "mode": self.mode,
            "phase": self.phase,
            "slowdown_pct": self.slowdown,
            "comparisons": self.comparisons,
            "regression_verdicts": self.alarms,
            "rate": self.alarms / self.comparisons,
            "rate_ci95": [rate.low, rate.high],
            "median_ratio": statistics.median(self.ratios),
            "injected_pct_median": 100 * statistics.median(self.injected) if self.injected else 0.0,
            "each": [
                {"ratio": ratio, "verdict": verdict} for ratio, verdict in zip(self.ratios, self.verdicts, strict=True)
            ],
        }
        if self.mode == "back-to-back":
            record["naive_median_5pct_alarms"] = self.naive_alarms
        return record


def conditions(workloads: Sequence[str], modes: Sequence[str], slowdowns: Sequence[int]) -> list[Condition]:
    return [
        Condition(workload, mode, phase, slowdown)
        for workload in workloads
        for mode in modes
        for phase, slowdown in [(None, 0), *((p, s) for p in PHASES[workload] for s in slowdowns)]
    ]


def measure(condition: Condition, backend: str, *, rounds: int, warmup: int) -> None:
    """One more comparison of ``condition``."""
    a = LocalSide(backend, condition.workload, warmup)
    b = LocalSide(condition.b_backend(backend), condition.workload, warmup)
    try:
        batch = MODES[condition.mode] or rounds
        times_a, times_b = interleave(a, b, rounds=rounds, batch=batch)
        injected = b.injected_fraction
    finally:
        a.close()
        b.close()
    result = compare(times_a, times_b, effect=DEFAULT_EFFECT, paired=batch < rounds, seed=condition.comparisons)
    condition.comparisons += 1
    condition.alarms += result.verdict == REGRESSION
    condition.naive_alarms += result.ratio > 1 + NAIVE_THRESHOLD
    condition.ratios.append(result.ratio)
    condition.verdicts.append(result.verdict)
    if injected is not None:
        condition.injected.append(injected)


def machine() -> dict[str, Any]:
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "load_average_before": os.getloadavg(),
    }


def markdown(records: list[dict[str, Any]], info: dict[str, Any]) -> str:
    lines = [
        f"{info['date']}, {info['cores']} cores ({info['cpu']}), torch {info['torch']}, {info['rounds']} rounds a "
        f"side, verdict at {DEFAULT_EFFECT:.0%}; load average before {info['load_average_before'][0]:.2f}, "
        f"after {info['load_average_after'][0]:.2f}\n",
        "| workload | sampling | B | regression verdicts | rate (95% CI) | median B/A | median(B) > 1.05 median(A) |",
        "| --- | --- | --- | ---: | --- | ---: | ---: |",
    ]
    for r in records:
        b = "unchanged" if not r["slowdown_pct"] else f"{r['slowdown_pct']}% slower in {r['phase']}"
        naive = f"{r['naive_median_5pct_alarms']}/{r['comparisons']}" if "naive_median_5pct_alarms" in r else ""
        low, high = r["rate_ci95"]
        lines.append(
            f"| {r['workload']} | {r['mode']} | {b} | {r['regression_verdicts']}/{r['comparisons']} | "
            f"{r['rate']:.0%} ({low:.0%}-{high:.0%}) | {r['median_ratio']:.3f} | {naive} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tracker_power", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", choices=sorted(WORKLOADS), default=sorted(WORKLOADS))
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument(
        "--slowdowns", nargs="+", type=int, default=list(SLOWDOWNS), help="injected slowdowns in %% (default 2 5 10)"
    )
    parser.add_argument("--backend", default="cpu", help="the unchanged backend, a torch device (default cpu)")
    parser.add_argument("--comparisons", type=int, default=20, help="comparisons of unchanged code (default 20)")
    parser.add_argument(
        "--detections", type=int, help="comparisons per slowed backend (default: as many as --comparisons)"
    )
    parser.add_argument("--rounds", type=int, default=50, help="measured rounds per side (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="discarded rounds per side (default 5)")
    parser.add_argument("--json", type=Path, help="write the rates and the machine here")
    parser.add_argument("--md", type=Path, help="write the Markdown table here")
    args = parser.parse_args(argv)
    detections = args.comparisons if args.detections is None else args.detections
    if args.comparisons < 1 or detections < 1 or args.rounds < 5:
        parser.error("need --comparisons >= 1, --detections >= 1 and --rounds >= 5")
    info = {**machine(), "backend": args.backend, "rounds": args.rounds, "effect": DEFAULT_EFFECT}
    cells = conditions(args.workloads, args.modes, args.slowdowns)
    for round_number in range(max(args.comparisons, detections)):  # conditions take turns: drift spreads over all
        for cell in cells:
            if round_number < (detections if cell.slowdown else args.comparisons):
                measure(cell, args.backend, rounds=args.rounds, warmup=args.warmup)
        print(f"round {round_number + 1} of comparisons done", file=sys.stderr)
    info["load_average_after"] = os.getloadavg()
    records = [cell.record() for cell in cells]
    table = markdown(records, info)
    print(table, end="")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "conditions": records}, indent=2) + "\n", encoding="utf-8")
    if args.md:
        args.md.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
