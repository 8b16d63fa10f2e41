"""Measure the regression tracker itself: how often it alarms on unchanged code, how often it catches a slowdown.

    python -m benchmarks.tracker_power [--workloads overhead step step:base] [--comparisons 20] [--rounds 30] \\
        [--backend cpu] [--sides host device] [--budget-s 240] [--json power.json] [--md power.md]

For each workload (:func:`benchmarks.workloads.build`: ``overhead``, ``step``, ``step:base``, ``step:<variant
id>``) and each way of taking samples, it runs ``--comparisons`` comparisons of the backend against itself
(unchanged code: every ``regression`` verdict is a false alarm) and ``--detections`` against each slowed backend
(:mod:`backends.perf_mutants`: 2%, 5% and 10% in each phase the workload has, on each of ``--sides``; every
``regression`` verdict is a detection). Every comparison builds both sides afresh. Ways of taking samples:

- ``interleaved``: A and B alternate round by round (``python -m benchmarks.ab``'s default), verdict paired;
- ``back-to-back``: all of A's rounds, then all of B's, as two runs of the benchmarks would be (but seconds
  apart, not hours: the most favourable case of comparing saved runs), verdict unpaired.

Each back-to-back comparison is also judged by the rule ``--benchmark-compare-fail=median:5%`` applies (B's
median more than 5% above A's), for contrast. Rates come with Wilson 95% intervals; each slowed comparison
records the slowed backend's measured injection and the side it slowed. The machine, the versions and the
load average before and after go into the JSON, since the figures hold for this machine only.

The conditions take turns, each comparison spread over the run in proportion to its condition's count, so that
drift spreads over all of them and ``--budget-s`` (stop before a comparison that would not end within it, and
write what was measured) leaves every condition with its share.
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
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from .ab import LocalSide, interleave
from .measure import device_name
from .verdict import DEFAULT_EFFECT, REGRESSION, compare
from .workloads import NAMES, step_config, workload_name

SLOWDOWNS = (2, 5, 10)
MODES = {"interleaved": 1, "back-to-back": None}  # batch size; None: all rounds in one batch
NAIVE_THRESHOLD = 0.05


def phases(workload: str) -> tuple[str, ...]:
    """The phases a workload's round contains: the overhead workload times backward alone, an inference
    variant forward alone."""
    config = step_config(workload)
    if config is None:
        return ("backward",)
    return ("forward", "backward", "step") if config.mode == "train" else ("forward",)


@dataclasses.dataclass
class Condition:
    """One cell of the measurement: a workload, a way of sampling and a B side (``slowdown`` 0: unchanged;
    ``side`` None: the slowed backend's default)."""

    workload: str
    mode: str
    phase: str | None
    slowdown: int
    side: str | None = None
    alarms: int = 0
    naive_alarms: int = 0
    comparisons: int = 0
    seconds: float = 0.0  # wall time of its comparisons so far
    ratios: list[float] = dataclasses.field(default_factory=list)
    injected: list[float] = dataclasses.field(default_factory=list)
    sides: list[str] = dataclasses.field(default_factory=list)
    verdicts: list[str] = dataclasses.field(default_factory=list)

    def b_backend(self, backend: str) -> str:
        """Side B: ``backend`` itself, or torch slowed on ``backend``'s device."""
        if not self.slowdown:
            return backend
        return f"slowed:{self.phase}:{self.slowdown}{f':{self.side}' if self.side else ''}:{backend}"

    def label(self) -> str:
        if not self.slowdown:
            return "unchanged"
        return f"{self.slowdown}% slower in {self.phase}, {self.side or 'default side'}"

    def record(self) -> dict[str, Any]:
        from scipy.stats import binomtest

        record: dict[str, Any] = {
            "workload": self.workload,
            "mode": self.mode,
            "phase": self.phase,
            "slowdown_pct": self.slowdown,
            "side": self.side,
            "comparisons": self.comparisons,
            "regression_verdicts": self.alarms,
            "rate": None,
            "rate_ci95": None,
            "median_ratio": None,
            "injected_pct_median": 100 * statistics.median(self.injected) if self.injected else None,
            "seconds_per_comparison": self.seconds / self.comparisons if self.comparisons else None,
            "each": [
                {"ratio": ratio, "verdict": verdict} for ratio, verdict in zip(self.ratios, self.verdicts, strict=True)
            ],
        }
        for each, injected, side in zip(record["each"], self.injected, self.sides, strict=False):
            each.update(injected_pct=100 * injected, side=side)
        if self.comparisons:
            rate = binomtest(self.alarms, self.comparisons).proportion_ci(method="wilson")
            record.update(
                rate=self.alarms / self.comparisons,
                rate_ci95=[rate.low, rate.high],
                median_ratio=statistics.median(self.ratios),
            )
        if self.mode == "back-to-back":
            record["naive_median_5pct_alarms"] = self.naive_alarms
        return record


def conditions(
    workloads: Sequence[str], modes: Sequence[str], slowdowns: Sequence[int], sides: Sequence[str | None] = (None,)
) -> list[Condition]:
    return [
        Condition(workload, mode, phase, slowdown, side)
        for workload in workloads
        for mode in modes
        for phase, slowdown, side in [
            (None, 0, None),
            *((p, s, side) for p in phases(workload) for s in slowdowns for side in sides),
        ]
    ]


def schedule(targets: Sequence[int]) -> Iterator[int]:
    """Indices of the conditions in the order their comparisons run: turn by turn, condition ``i`` taking
    ``targets[i]`` turns spread evenly over the ``max(targets)`` turns, so that a run cut short anywhere has
    measured every condition in proportion to its count."""
    turns = max(targets, default=0)
    for turn in range(turns):
        for index, target in enumerate(targets):
            if -(-(turn + 1) * target // turns) > -(-turn * target // turns):  # ceilings: every one from turn 0
                yield index


def measure(condition: Condition, backend: str, *, rounds: int, warmup: int) -> None:
    """One more comparison of ``condition``."""
    started = time.perf_counter()
    a = LocalSide(backend, condition.workload, warmup)
    b = LocalSide(condition.b_backend(backend), condition.workload, warmup)
    try:
        batch = MODES[condition.mode] or rounds
        times_a, times_b = interleave(a, b, rounds=rounds, batch=batch)
        injected, side = b.injected_fraction, b.describe().get("slowed_side")
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
        condition.sides.append(side)
    condition.seconds += time.perf_counter() - started


def machine(backend: str) -> dict[str, Any]:
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "device_name": device_name(torch.device(backend)),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "load_average_before": os.getloadavg(),
    }


def markdown(records: list[dict[str, Any]], info: dict[str, Any]) -> str:
    budget = f"; stopped by the budget of {info['budget_s']:g} s" if info["stopped_by_budget"] else ""
    lines = [
        f"{info['date']}, {info['device_name']}, {info['cores']} cores ({info['cpu']}), torch {info['torch']}, "
        f"{info['rounds']} rounds a side, verdict at {DEFAULT_EFFECT:.0%}; load average before "
        f"{info['load_average_before'][0]:.2f}, after {info['load_average_after'][0]:.2f}; "
        f"{info['elapsed_s']:.0f} s{budget}\n",
        "| workload | sampling | B | injected (measured) | regression verdicts | rate (95% CI) | median B/A "
        "| median(B) > 1.05 median(A) |",
        "| --- | --- | --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in records:
        b = "unchanged" if not r["slowdown_pct"] else f"{r['slowdown_pct']}% slower in {r['phase']}"
        if r["slowdown_pct"]:
            sides = sorted({each["side"] for each in r["each"] if "side" in each}) or [r["side"] or "default side"]
            b += f" ({', '.join(sides)})"
        injected = "" if r["injected_pct_median"] is None else f"{r['injected_pct_median']:.1f}%"
        naive = f"{r['naive_median_5pct_alarms']}/{r['comparisons']}" if "naive_median_5pct_alarms" in r else ""
        if r["comparisons"]:
            low, high = r["rate_ci95"]
            rate, ratio = f"{r['rate']:.0%} ({low:.0%}-{high:.0%})", f"{r['median_ratio']:.3f}"
        else:
            rate, ratio = "not measured (budget)", ""
        lines.append(
            f"| {r['workload']} | {r['mode']} | {b} | {injected} | {r['regression_verdicts']}/{r['comparisons']} | "
            f"{rate} | {ratio} | {naive} |"
        )
    return "\n".join(lines) + "\n"


def estimate(cell: Condition, cells: Sequence[Condition]) -> float:
    """Seconds the next comparison of ``cell`` will take: its own so far, else the slowest of its workload's."""
    if cell.comparisons:
        return cell.seconds / cell.comparisons
    same = [c.seconds / c.comparisons for c in cells if c.workload == cell.workload and c.comparisons]
    return max(same, default=0.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tracker_power", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workloads",
        nargs="+",
        type=workload_name,
        default=["overhead", "step"],
        help=f"workloads, of {', '.join(NAMES)} (default overhead step)",
    )
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument(
        "--slowdowns", nargs="+", type=int, default=list(SLOWDOWNS), help="injected slowdowns in %% (default 2 5 10)"
    )
    parser.add_argument("--backend", default="cpu", help="the unchanged backend, a torch device (default cpu)")
    parser.add_argument(
        "--sides",
        nargs="+",
        choices=["host", "device", "default"],
        help="sides of the slowed backends (default: host on the CPU; host and device on CUDA)",
    )
    parser.add_argument("--comparisons", type=int, default=20, help="comparisons of unchanged code (default 20)")
    parser.add_argument(
        "--detections", type=int, help="comparisons per slowed backend (default: as many as --comparisons)"
    )
    parser.add_argument("--rounds", type=int, default=50, help="measured rounds per side (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="discarded rounds per side (default 5)")
    parser.add_argument(
        "--budget-s", type=float, help="stop before a comparison that would end after this many seconds"
    )
    parser.add_argument("--json", type=Path, help="write the rates and the machine here")
    parser.add_argument("--md", type=Path, help="write the Markdown table here")
    args = parser.parse_args(argv)
    detections = args.comparisons if args.detections is None else args.detections
    if args.comparisons < 1 or detections < 0 or args.rounds < 5:
        parser.error("need --comparisons >= 1, --detections >= 0 and --rounds >= 5")
    sides = args.sides or (["host", "device"] if torch.device(args.backend).type == "cuda" else ["host"])
    started = time.perf_counter()
    info = {**machine(args.backend), "backend": args.backend, "rounds": args.rounds, "effect": DEFAULT_EFFECT}
    cells = conditions(args.workloads, args.modes, args.slowdowns, [None if s == "default" else s for s in sides])
    info.update(budget_s=args.budget_s, stopped_by_budget=False)
    targets = [detections if cell.slowdown else args.comparisons for cell in cells]
    for done, index in enumerate(schedule(targets)):
        cell = cells[index]
        if args.budget_s and time.perf_counter() - started + estimate(cell, cells) > args.budget_s:
            info["stopped_by_budget"] = True
            print(f"budget of {args.budget_s:g} s reached after {done} comparisons", file=sys.stderr)
            break
        measure(cell, args.backend, rounds=args.rounds, warmup=args.warmup)
        print(f"{done + 1} of {sum(targets)} comparisons done: {cell.workload}, {cell.label()}", file=sys.stderr)
        write(cells, info, started, args.json, args.md)  # a run killed from outside keeps what it measured
    print(write(cells, info, started, args.json, args.md), end="")
    return 0


def write(
    cells: Sequence[Condition], info: dict[str, Any], started: float, json_path: Path | None, md_path: Path | None
) -> str:
    """The figures so far, to ``json_path`` and ``md_path`` if given; returns the Markdown table."""
    info.update(load_average_after=os.getloadavg(), elapsed_s=time.perf_counter() - started)
    records = [cell.record() for cell in cells]
    table = markdown(records, info)
    if json_path:
        json_path.write_text(json.dumps({"machine": info, "conditions": records}, indent=2) + "\n", encoding="utf-8")
    if md_path:
        md_path.write_text(table, encoding="utf-8")
    return table


if __name__ == "__main__":
    raise SystemExit(main())
