"""pytest-benchmark's saved runs, read back: the JSON files ``--benchmark-save``/``--benchmark-autosave`` write
under ``<storage>/<machine>/NNNN_*.json``. The benchmarks' conftest makes every saved run keep its per-round
times (pytest-benchmark's ``--benchmark-save-data``), which the statistical comparison needs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any


@dataclasses.dataclass
class SavedBenchmark:
    """One benchmark of a run: its median and per-round times in seconds (``rounds`` is empty for a run saved
    without them) and its extra_info."""

    median: float
    rounds: list[float]
    extra_info: dict[str, Any]


@dataclasses.dataclass
class SavedRun:
    label: str
    datetime: str
    path: Path
    benchmarks: dict[str, SavedBenchmark]


def load_run(path: Path) -> SavedRun:
    """One saved run; :class:`ValueError` naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        commit = (data.get("commit_info") or {}).get("id") or "no-commit"
        benchmarks = {
            bench["fullname"]: SavedBenchmark(
                median=bench["stats"]["median"],
                rounds=list(bench["stats"].get("data") or []),
                extra_info=bench.get("extra_info") or {},
            )
            for bench in data["benchmarks"]
        }
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{path}: not a pytest-benchmark run ({type(error).__name__}: {error})") from error
    return SavedRun(f"{path.stem.split('_', 1)[0]} {commit[:7]}", data.get("datetime", ""), path, benchmarks)


def saved_runs(storage: str) -> list[SavedRun]:
    """Every saved run under ``storage`` (a path, or pytest-benchmark's ``file://`` URL), oldest first."""
    root = Path(storage.removeprefix("file://"))
    return sorted((load_run(path) for path in sorted(root.rglob("*.json"))), key=lambda run: run.datetime)


def short_name(fullname: str) -> str:
    """``benchmarks/test_training_step.py::test_training_step[cuda-b32-...]`` -> ``training_step[cuda-b32-...]``."""
    return fullname.rsplit("::", 1)[-1].removeprefix("test_")
