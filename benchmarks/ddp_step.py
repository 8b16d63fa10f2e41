"""The training step under DistributedDataParallel, one process per device, launched with torchrun.

    torchrun --standalone --nproc-per-node=2 -m benchmarks.ddp_step --backend=cpu --batch=2 --image=32 \\
        --rounds=3 --warmup=1 --json=ddp-cpu.json                      # the CPU smoke run (gloo)
    torchrun --standalone --nproc-per-node=8 -m benchmarks.ddp_step --backend=cuda --json=ddp-8gpu.json

Every process runs the seeds' step (:mod:`benchmarks.training_step`: resnet18, ``(prediction - labels).sum()``,
SGD with momentum) on its own batch of ``--batch`` images, its model wrapped in ``DistributedDataParallel``;
the engine is built again for each process's device (:meth:`~backends.Backend.for_rank`: ``cuda:<local
rank>``, or the CPU) and the group uses its communication backend (NCCL, gloo). Before the group trains,
rank 0 times the same step alone, without DDP, while the others wait: the one-process baseline.

Rank 0 writes pytest-benchmark's JSON (``machine_info``, ``commit_info``, ``benchmarks`` with ``stats`` in
seconds per step), so ``pytest-benchmark compare`` reads it: one entry for the baseline and one for the DDP
step, timed on rank 0 (every rank's step ends with the same all-reduce).
The DDP entry's ``extra_info`` holds ``images_per_s_per_process`` (per-process batch over rank 0's median
step), ``images_per_s_total`` (world size times that), ``images_per_s_one_process`` (the baseline) and
``scaling_efficiency`` (total over world size times the baseline: 1.0 is perfect scaling), beside each rank's
median step time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest_benchmark
import torch
import torch.distributed as dist
from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info
from pytest_benchmark.stats import Stats
from pytest_benchmark.utils import get_commit_info

from backends import capabilities as cap
from backends import resolve
from conformance.plugin import UNSUPPORTED

from .clocks import clock_for, clock_name, time_each
from .conftest import pytest_benchmark_update_machine_info
from .measure import device_name
from .training_step import StepConfig, build_step, math_mode, unsupported_reason

#: seconds a collective may wait (rank 0's baseline runs while the others wait in a barrier)
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=30)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="torchrun --nproc-per-node=N -m benchmarks.ddp_step", description=__doc__.split("\n\n", 1)[0]
    )
    parser.add_argument("--backend", default="cpu", help="engine, as --backend of the specs (default cpu)")
    parser.add_argument("--batch", type=int, default=32, help="images per process and step (default 32)")
    parser.add_argument("--image", type=int, default=224, help="image side in pixels (default 224)")
    parser.add_argument("--rounds", type=int, default=30, help="measured steps (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="discarded warm-up steps (default 5)")
    parser.add_argument("--json", type=Path, required=True, help="where rank 0 writes pytest-benchmark's JSON")
    args = parser.parse_args(argv)
    if "WORLD_SIZE" not in os.environ:
        parser.error("launch it with torchrun (torchrun --standalone --nproc-per-node=N -m benchmarks.ddp_step)")
    for name in ("batch", "image", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def timed_rounds(step: Any, device: torch.device, args: argparse.Namespace) -> list[float]:
    """Seconds of each measured step, after the warm-up steps."""
    time_each(step.run, device, args.warmup)
    return time_each(step.run, device, args.rounds)


def entry(name: str, times: list[float], extra_info: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """One benchmark of pytest-benchmark's JSON, its statistics computed by pytest-benchmark."""
    stats = Stats()
    for seconds in times:
        stats.update(seconds)
    return {
        "group": f"ddp {args.backend} {args.batch}x{args.image}px",
        "name": name,
        "fullname": f"benchmarks/ddp_step.py::{name}",
        "params": None,
        "param": None,
        "extra_info": extra_info,
        "options": {"rounds": args.rounds, "warmup_rounds": args.warmup, "iterations": 1, "timer": "see extra_info"},
        "stats": {**stats.as_dict(), "data": times, "iterations": 1},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rank, local_rank, world_size = (int(os.environ[key]) for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE"))
    engine = resolve(args.backend).for_rank(local_rank, world_size)
    if cap.DISTRIBUTED not in engine.capabilities:
        print(f"benchmarks.ddp_step: {UNSUPPORTED}: {engine.name} does not declare {cap.DISTRIBUTED}", file=sys.stderr)
        return 2
    if reason := unsupported_reason(engine):
        print(f"benchmarks.ddp_step: {reason}", file=sys.stderr)
        return 2
    dist.init_process_group(engine.process_group_backend(), timeout=COLLECTIVE_TIMEOUT)
    try:
        return run(engine, rank, world_size, args)
    finally:
        dist.destroy_process_group()


def run(engine: Any, rank: int, world_size: int, args: argparse.Namespace) -> int:
    device = torch.device(engine.device)
    config = StepConfig(batch=args.batch, image=args.image)
    torch.manual_seed(rank)
    with math_mode(config, device):
        if rank == 0:
            baseline = timed_rounds(build_step(engine, config), device, args)
        dist.barrier()
        times = timed_rounds(build_step(engine, config, wrap=engine.parallel.DistributedDataParallel), device, args)
    medians = [None] * world_size
    dist.all_gather_object(medians, statistics.median(times))
    if rank != 0:
        return 0
    one_process = config.batch / statistics.median(baseline)
    per_process = config.batch / statistics.median(times)
    common = {
        "backend": engine.name,
        **config.as_dict(),
        "timer": clock_name(clock_for(device)),
        "device": str(device),
        "device_name": device_name(device),
    }
    report = {
        "machine_info": machine_info(),
        "commit_info": get_commit_info(),
        "benchmarks": [
            entry("one_process", baseline, {**common, "world_size": 1, "images_per_s": one_process}, args),
            entry(
                f"ddp_{world_size}_processes",
                times,
                {
                    **common,
                    "world_size": world_size,
                    "process_group_backend": engine.process_group_backend(),
                    "step_ms_median_per_rank": [median * 1e3 for median in medians],
                    "images_per_s_per_process": per_process,
                    "images_per_s_total": per_process * world_size,
                    "images_per_s_one_process": one_process,
                    "scaling_efficiency": per_process / one_process,
                },
                args,
            ),
        ],
        "datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "version": pytest_benchmark.__version__,
    }
    args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(
        f"benchmarks.ddp_step: {world_size} processes, {per_process * world_size:.1f} img/s in total, "
        f"scaling efficiency {per_process / one_process:.2f}; wrote {args.json}"
    )
    return 0


def machine_info() -> dict[str, Any]:
    """pytest-benchmark's machine_info with the torch versions and GPUs the benchmarks' conftest adds."""
    info = pytest_benchmark_generate_machine_info()
    pytest_benchmark_update_machine_info(None, info)
    return info


if __name__ == "__main__":
    sys.exit(main())
