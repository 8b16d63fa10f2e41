"""Compare two saved benchmark runs, or two backends of one run, over their per-round times.

    python -m benchmarks.compare                          # the newest saved run against the one before
    python -m benchmarks.compare 0003 0007                # two saved runs (ids, file names or paths)
    python -m benchmarks.compare 0007 --backends cpu slowed:step:10    # two backends of one run

For each benchmark the two sides have in common, the verdict of :mod:`benchmarks.verdict`: the ratio of medians
B/A with its 95% confidence interval, and regression, improvement, no change or inconclusive at ``--effect``.
Two runs taken at different times share no machine state, so their rounds are compared unpaired; where the
machine's noise drifts between runs the interval says so. The honest comparison on a noisy machine is
``python -m benchmarks.ab``, which alternates A and B.

Exit status: 1 if any benchmark regressed, else 3 if any was inconclusive, else 0; 2 for bad usage.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from .storage import SavedBenchmark, SavedRun, load_run, saved_runs, short_name
from .verdict import DEFAULT_EFFECT, INCONCLUSIVE, REGRESSION, Comparison, compare

EXIT_STATUS = {REGRESSION: 1, INCONCLUSIVE: 3}


def pick_run(runs: list[SavedRun], spelling: str) -> SavedRun:
    """A run by path, or by the start of its file name (``0003``) in the storage."""
    if Path(spelling).is_file():
        return load_run(Path(spelling))
    matches = [run for run in runs if run.path.name.startswith(spelling)]
    if len(matches) != 1:
        known = ", ".join(run.path.name for run in runs) or "none"
        found = "no saved run" if not matches else f"{len(matches)} saved runs"
        raise LookupError(f"{found} named {spelling!r}*; saved runs: {known}")
    return matches[0]


def backend_pairs(run: SavedRun, a: str, b: str) -> dict[str, tuple[SavedBenchmark, SavedBenchmark]]:
    """Benchmarks of backend ``a`` and ``b`` in one run, paired by their name without the backend."""
    by_backend: dict[str, dict[str, SavedBenchmark]] = {a: {}, b: {}}
    for name, bench in run.benchmarks.items():
        backend = bench.extra_info.get("backend")
        if backend in by_backend:
            by_backend[backend][short_name(name).replace(f"[{backend}-", "[", 1)] = bench
    return {name: (bench, by_backend[b][name]) for name, bench in by_backend[a].items() if name in by_backend[b]}


def run_pairs(a: SavedRun, b: SavedRun) -> dict[str, tuple[SavedBenchmark, SavedBenchmark]]:
    return {
        short_name(name): (bench, b.benchmarks[name]) for name, bench in a.benchmarks.items() if name in b.benchmarks
    }


def verdicts(pairs: dict[str, tuple[SavedBenchmark, SavedBenchmark]], effect: float) -> dict[str, Comparison]:
    """The comparison of every pair; :class:`ValueError` naming a benchmark saved without its rounds."""
    results = {}
    for name, (a, b) in sorted(pairs.items()):
        if not (a.rounds and b.rounds):
            raise ValueError(
                f"{name}: saved without its per-round times; save runs with this project's benchmarks "
                "(they keep them) or with pytest-benchmark's --benchmark-save-data"
            )
        results[name] = compare(a.rounds, b.rounds, effect=effect)
    return results


def table(results: dict[str, Comparison], a_label: str, b_label: str) -> str:
    lines = [
        f"A: {a_label}\nB: {b_label}\n",
        "| benchmark | B/A | 95% CI | spread A / B | verdict |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, result in results.items():
        lines.append(
            f"| `{name}` | {result.ratio:.3f} | {result.low:.3f}-{result.high:.3f} | "
            f"{result.noise_a:.0%} / {result.noise_b:.0%} | {result.verdict} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", help="baseline and candidate runs (default: the two newest saved)")
    parser.add_argument("--storage", default=".benchmarks", help="pytest-benchmark's --benchmark-storage")
    parser.add_argument("--backends", nargs=2, metavar=("A", "B"), help="compare two backends of one run")
    parser.add_argument("--effect", type=float, default=DEFAULT_EFFECT * 100, help="effect size in %% (default 5)")
    args = parser.parse_args(argv)
    wanted = 1 if args.backends else 2
    try:
        runs = saved_runs(args.storage)
        if args.runs:
            if len(args.runs) != wanted:
                parser.error(f"give {wanted} run(s), or none for the newest")
            chosen = [pick_run(runs, spelling) for spelling in args.runs]
        elif len(runs) < wanted:
            parser.error(f"{len(runs)} saved run(s) under {args.storage}; save runs with --benchmark-autosave")
        else:
            chosen = runs[-wanted:]
        if args.backends:
            pairs = backend_pairs(chosen[0], *args.backends)
            labels = [f"{backend} in {chosen[0].label}" for backend in args.backends]
        else:
            pairs = run_pairs(*chosen)
            labels = [run.label for run in chosen]
        if not pairs:
            parser.error(f"{labels[0]} and {labels[1]} have no benchmark in common")
        results = verdicts(pairs, args.effect / 100)
    except (ValueError, LookupError) as error:
        parser.error(str(error))
    print(table(results, *labels), end="")
    found = {result.verdict for result in results.values()}
    return next((EXIT_STATUS[verdict] for verdict in (REGRESSION, INCONCLUSIVE) if verdict in found), 0)


if __name__ == "__main__":
    raise SystemExit(main())
