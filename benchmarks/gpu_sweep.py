"""Run the full benchmark sweep on a GPU and check the harness's own overhead.

    python -m benchmarks.gpu_sweep [--backend cuda] [--results benchmarks/results] [-- extra pytest args]

1. ``pytest benchmarks --backend=<backend> --benchmark-json=<results>/<device>.json`` (every variant; the
   ones the device cannot run skip with their reason), the file named after the device
   (``nvidia-h100-80gb-hbm3.json``).
2. The harness-overhead check: the base variant's step timed again by a bare loop (CUDA events around each
   step, one synchronisation at the end, no pytest-benchmark in between) in the same sweep; the ratio of
   the harness's median to the bare loop's median is reported (expected ≤ 1.02) and written to
   ``<results>/<device>-overhead.json``. It is a report, not an assertion.
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

from .clocks import time_each
from .measure import device_name
from .sweep import BASE
from .training_step import build_step, math_mode

EXPECTED_MAX_RATIO = 1.02
BARE_ROUNDS = 50
BARE_WARMUP = 10


def slug(name: str) -> str:
    """A file name for a device: ``NVIDIA H100 80GB HBM3`` -> ``nvidia-h100-80gb-hbm3``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def harness_median_ms(report: dict[str, Any], backend: str) -> float:
    """The base variant's median step time in a ``--benchmark-json`` report."""
    for bench in report["benchmarks"]:
        if bench["name"] == f"test_training_step[{backend}-{BASE.id}]":
            return bench["stats"]["median"] * 1e3
    raise LookupError(f"the report has no base benchmark for backend {backend!r} ({BASE.id})")


def bare_median_ms(engine: Any) -> float:
    """The base step's median time from a bare loop, after the same kind of warm-up."""
    device = torch.device(engine.device)
    with math_mode(BASE, device):
        step = build_step(engine, BASE)
        time_each(step.run, device, BARE_WARMUP)
        return statistics.median(time_each(step.run, device, BARE_ROUNDS)) * 1e3


def overhead(harness_ms: float, bare_ms: float) -> dict[str, Any]:
    ratio = harness_ms / bare_ms
    return {
        "variant": BASE.id,
        "harness_median_ms": harness_ms,
        "bare_loop_median_ms": bare_ms,
        "ratio": ratio,
        "expected_max_ratio": EXPECTED_MAX_RATIO,
        "within_expected": ratio <= EXPECTED_MAX_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="cuda", help="a torch backend (default: cuda)")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results", help="output folder")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)

    try:
        engine = resolve(args.backend)
    except BackendError as error:
        parser.error(str(error))
    if torch.device(engine.device).type == "cpu":
        parser.error(
            f"--backend={args.backend} runs on the CPU: the sweep is for a GPU (hours on a CPU); "
            "for the CPU run `pytest benchmarks -m smoke`"
        )
    name = slug(device_name(torch.device(engine.device)))
    args.results.mkdir(parents=True, exist_ok=True)
    report_path = args.results / f"{name}.json"
    command = [sys.executable, "-m", "pytest", str(Path(__file__).parent), f"--backend={args.backend}"]
    command += [f"--benchmark-json={report_path}", "--benchmark-disable-gc", "-p", "no:cacheprovider"]
    status = subprocess.call([*command, *args.pytest_args])
    if status != 0 or not report_path.exists():
        return status or 1

    check = overhead(
        harness_median_ms(json.loads(report_path.read_text(encoding="utf-8")), args.backend), bare_median_ms(engine)
    )
    (args.results / f"{name}-overhead.json").write_text(json.dumps(check, indent=2) + "\n", encoding="utf-8")
    print(
        f"harness overhead on {BASE.id}: {check['harness_median_ms']:.3f} ms vs bare loop "
        f"{check['bare_loop_median_ms']:.3f} ms, ratio {check['ratio']:.3f} (expected <= {EXPECTED_MAX_RATIO})"
    )
    print(f"wrote {report_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
