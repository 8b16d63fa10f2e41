"""The history of saved benchmark runs: where each benchmark's time stepped, as a chart and a table.

    python -m benchmarks.history [--storage .benchmarks] --png history.png --md history.md [--effect 5]

Reads pytest-benchmark's storage (:mod:`benchmarks.storage`), orders the runs by time and follows each
benchmark's median. A **step** (change point) is a run from which the benchmark stays at another level: the
series of log-medians is segmented by PELT (:mod:`ruptures`, least-squares cost) with a penalty scaled to the
series' own run-to-run noise (estimated robustly from successive differences, so that a step does not inflate
it), each level at least :data:`MIN_LEVEL_RUNS` runs long, and a step is kept only when its levels differ by
at least ``--effect``. One slow run is therefore noise, not a step; a level that holds is one. The newest run
alone against the previous one is ``python -m benchmarks.compare``'s question.

The chart shows each benchmark's median relative to its first run, steps marked; the table gives the medians
in ms per run and each step's run and size.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path
from typing import BinaryIO

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from .storage import SavedRun, saved_runs, short_name
from .verdict import DEFAULT_EFFECT

MIN_LEVEL_RUNS = 2
#: Noise below this (relative, per run) is not believed: identical medians would make any wiggle a step.
NOISE_FLOOR = 0.005
#: PELT's penalty per step, in units of the noise variance times log(runs): BIC's 2 made stricter, so that a
#: flat series with 5% run-to-run noise shows a step in about 3% of 12-run histories (2% noise: 0.3%), while a
#: 10% step in 12 runs with 2% noise is found 96% of the time (simulated; see tests/test_regression_tracking.py).
PENALTY_SCALE = 6.0


@dataclasses.dataclass(frozen=True)
class Step:
    """The benchmark moved to another level from run ``index`` on, by ``change`` (0.12: 12% slower)."""

    index: int
    change: float


def series_of(runs: list[SavedRun], name: str) -> list[tuple[int, float]]:
    """(run index, median seconds) of every run that has benchmark ``name``."""
    return [(index, run.benchmarks[name].median) for index, run in enumerate(runs) if name in run.benchmarks]


def find_steps(medians: list[float], *, effect: float = DEFAULT_EFFECT) -> list[Step]:
    """The steps of one benchmark's medians (positions in ``medians``), oldest first."""
    import ruptures

    if len(medians) < 2 * MIN_LEVEL_RUNS:
        return []
    levels = np.log(np.asarray(medians, dtype=float))
    noise = max(1.4826 * float(np.median(np.abs(np.diff(levels)))) / math.sqrt(2), NOISE_FLOOR)
    penalty = PENALTY_SCALE * noise**2 * math.log(len(levels))
    ends = ruptures.Pelt(model="l2", min_size=MIN_LEVEL_RUNS, jump=1).fit(levels.reshape(-1, 1)).predict(pen=penalty)
    bounds = [0, *ends]
    steps = []
    for before, start, after in zip(bounds, bounds[1:], bounds[2:], strict=False):
        change = math.exp(np.median(levels[start:after]) - np.median(levels[before:start])) - 1
        if abs(change) >= effect * (1 if change > 0 else 1 / (1 + effect)):
            steps.append(Step(start, change))
    return steps


def names_of(runs: list[SavedRun]) -> list[str]:
    return sorted({name for run in runs for name in run.benchmarks})


def steps_by_run(runs: list[SavedRun], effect: float) -> dict[str, list[Step]]:
    """Each benchmark's steps, ``index`` the position in ``runs``."""
    steps = {}
    for name in names_of(runs):
        series = series_of(runs, name)
        medians = [median for _, median in series]
        steps[name] = [Step(series[step.index][0], step.change) for step in find_steps(medians, effect=effect)]
    return steps


def markdown(runs: list[SavedRun], steps_of: dict[str, list[Step]]) -> str:
    header = ["benchmark (median ms)", *(run.label for run in runs), "steps"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * (len(header) - 1) + " --- |"]
    for name, name_steps in steps_of.items():
        cells = [f"{run.benchmarks[name].median * 1e3:.3f}" if name in run.benchmarks else "" for run in runs]
        steps = ", ".join(
            f"{'⚠ ' if step.change > 0 else ''}{step.change:+.1%} at {runs[step.index].label}" for step in name_steps
        )
        lines.append(f"| `{short_name(name)}` | " + " | ".join(cells) + f" | {steps} |")
    return "\n".join(lines) + "\n"


def plot(
    runs: list[SavedRun], target: Path | BinaryIO, steps_of: dict[str, list[Step]], format: str | None = None
) -> None:
    """The chart, into a file (its format from its name) or a binary stream (``format``: ``svg``, ``png``)."""
    figure, axes = plt.subplots(figsize=(11, 4 + 0.18 * len(steps_of)), layout="constrained")
    axes.axhline(0, color="0.5", linewidth=0.8)
    for name, name_steps in steps_of.items():
        series = series_of(runs, name)
        first = series[0][1]
        (line,) = axes.plot(
            [x for x, _ in series],
            [100 * (median / first - 1) for _, median in series],
            marker="o",
            label=short_name(name),
        )
        for step in name_steps:
            axes.axvline(step.index - 0.5, color=line.get_color(), linestyle="--", linewidth=1)
    axes.set_xticks(list(range(len(runs))), [run.label for run in runs], rotation=30, ha="right")
    axes.set_xlabel("saved run (dashed: a step, where a benchmark moved to another level)")
    axes.set_ylabel("median time vs first run (%)")
    axes.set_title("Benchmark history (positive = slower)")
    axes.grid(axis="y", alpha=0.4)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    figure.savefig(target, dpi=120, format=format)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.history", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--storage", default=".benchmarks", help="pytest-benchmark's --benchmark-storage (default: .benchmarks)"
    )
    parser.add_argument("--png", type=Path, required=True, help="chart to write")
    parser.add_argument("--md", type=Path, required=True, help="Markdown table to write")
    parser.add_argument(
        "--effect", type=float, default=DEFAULT_EFFECT * 100, help="smallest step reported, in %% (default 5)"
    )
    args = parser.parse_args(argv)
    try:
        runs = saved_runs(args.storage)
    except ValueError as error:
        parser.error(str(error))
    if not runs:
        parser.error(f"no saved runs under {args.storage} (save some with --benchmark-autosave)")
    steps_of = steps_by_run(runs, args.effect / 100)
    plot(runs, args.png, steps_of)
    args.md.write_text(markdown(runs, steps_of), encoding="utf-8")
    print(f"{len(runs)} runs, {len(steps_of)} benchmarks: wrote {args.png} and {args.md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
