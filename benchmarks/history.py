"""Draw the history of saved benchmark runs: one PNG chart and one Markdown table.

    python -m benchmarks.history [--storage .benchmarks] --png history.png --md history.md

Reads pytest-benchmark's storage (the JSON files ``--benchmark-save``/``--benchmark-autosave`` write, under
``<storage>/<machine>/NNNN_*.json``), orders the runs by time and follows each benchmark's median: the chart
shows its change relative to the first run that has it (with the ±5% band of ``--benchmark-compare-fail=
median:5%``), the table its median in ms per run and the change of the last run against the first.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

REGRESSION_BAND_PCT = 5.0


@dataclass
class Run:
    label: str
    datetime: str
    medians_ms: dict[str, float]


def load_runs(storage: Path) -> list[Run]:
    """Every saved run under ``storage``, oldest first."""
    runs = []
    for path in sorted(storage.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
            if "benchmarks" not in data:
                continue
            commit = (data.get("commit_info") or {}).get("id") or "no-commit"
            medians_ms = {bench["fullname"]: bench["stats"]["median"] * 1e3 for bench in data["benchmarks"]}
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise ValueError(f"{path}: not a pytest-benchmark run ({type(error).__name__}: {error})") from error
        runs.append(Run(f"{path.stem.split('_', 1)[0]} {commit[:7]}", data.get("datetime", ""), medians_ms))
    return sorted(runs, key=lambda run: run.datetime)


def short_name(fullname: str) -> str:
    """``benchmarks/test_training_step.py::test_training_step[cuda-b32-...]`` -> ``training_step[cuda-b32-...]``."""
    return fullname.rsplit("::", 1)[-1].removeprefix("test_")


def names_of(runs: list[Run]) -> list[str]:
    return sorted({name for run in runs for name in run.medians_ms})


def change_pct(runs: list[Run], name: str) -> float | None:
    """Last median against the first, in percent (positive: slower)."""
    series = [run.medians_ms[name] for run in runs if name in run.medians_ms]
    return 100 * (series[-1] / series[0] - 1) if len(series) > 1 else None


def markdown(runs: list[Run]) -> str:
    header = ["benchmark (median ms)", *(run.label for run in runs), "change"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * (len(header) - 1) + " ---: |"]
    for name in names_of(runs):
        cells = [f"{run.medians_ms[name]:.3f}" if name in run.medians_ms else "" for run in runs]
        change = change_pct(runs, name)
        flag = " ⚠" if change is not None and change > REGRESSION_BAND_PCT else ""
        lines.append(f"| `{short_name(name)}` | " + " | ".join(cells) + f" | {_signed(change)}{flag} |")
    return "\n".join(lines) + "\n"


def _signed(change: float | None) -> str:
    return "" if change is None else f"{change:+.1f}%"


def plot(runs: list[Run], png: Path) -> None:
    names = names_of(runs)
    figure, axes = plt.subplots(figsize=(11, 4 + 0.18 * len(names)), layout="constrained")
    positions = range(len(runs))
    axes.axhspan(-REGRESSION_BAND_PCT, REGRESSION_BAND_PCT, color="0.9", label=f"±{REGRESSION_BAND_PCT:g}%")
    axes.axhline(0, color="0.5", linewidth=0.8)
    for name in names:
        points = [(x, run.medians_ms[name]) for x, run in zip(positions, runs, strict=True) if name in run.medians_ms]
        first = points[0][1]
        axes.plot(
            [x for x, _ in points], [100 * (ms / first - 1) for _, ms in points], marker="o", label=short_name(name)
        )
    axes.set_xticks(list(positions), [run.label for run in runs], rotation=30, ha="right")
    axes.set_xlabel("saved run")
    axes.set_ylabel("median step time vs first run (%)")
    axes.set_title("Benchmark history (positive = slower)")
    axes.grid(axis="y", alpha=0.4)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    figure.savefig(png, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.history", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--storage", default=".benchmarks", help="pytest-benchmark's --benchmark-storage (default: .benchmarks)"
    )
    parser.add_argument("--png", type=Path, required=True, help="chart to write")
    parser.add_argument("--md", type=Path, required=True, help="Markdown table to write")
    args = parser.parse_args(argv)
    storage = Path(args.storage.removeprefix("file://"))
    try:
        runs = load_runs(storage)
    except ValueError as error:
        parser.error(str(error))
    if not runs:
        parser.error(f"no saved runs under {storage} (save some with --benchmark-autosave)")
    plot(runs, args.png)
    args.md.write_text(markdown(runs))
    print(f"{len(runs)} runs, {len(names_of(runs))} benchmarks: wrote {args.png} and {args.md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
