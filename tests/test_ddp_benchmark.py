"""The DDP training-step benchmark: torchrun's CPU smoke run writes pytest-benchmark's JSON with the scaling
figures, and running it without torchrun is refused. Nothing here asserts on a duration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

SMOKE = ["--backend=cpu", "--batch=2", "--image=32", "--rounds=2", "--warmup=1"]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CI smoke run: two CPU processes (gloo) launched with torchrun."""
    report = tmp_path_factory.mktemp("ddp") / "ddp.json"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    command += ["-m", "benchmarks.ddp_step", *SMOKE, f"--json={report}"]
    result = subprocess.run(command, cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return report


def test_rank_0_writes_the_one_process_and_ddp_entries(smoke_report: Path) -> None:
    report = json.loads(smoke_report.read_text())
    assert {"machine_info", "commit_info", "benchmarks", "datetime", "version"} <= report.keys()
    assert "torch" in report["machine_info"]
    baseline, ddp = report["benchmarks"]
    assert (baseline["name"], ddp["name"]) == ("one_process", "ddp_2_processes")
    for entry in (baseline, ddp):
        assert entry["stats"]["rounds"] == 2 and len(entry["stats"]["data"]) == 2
        assert entry["stats"]["median"] > 0
    info = ddp["extra_info"]
    assert (info["world_size"], info["process_group_backend"], info["batch"]) == (2, "gloo", 2)
    assert len(info["step_ms_median_per_rank"]) == 2
    assert info["images_per_s_per_process"] == pytest.approx(2 / ddp["stats"]["median"])
    assert info["images_per_s_total"] == pytest.approx(2 * info["images_per_s_per_process"])
    assert info["images_per_s_one_process"] == pytest.approx(baseline["extra_info"]["images_per_s"])
    assert info["scaling_efficiency"] == pytest.approx(
        info["images_per_s_total"] / (2 * info["images_per_s_one_process"])
    )


def test_pytest_benchmark_reads_the_report(smoke_report: Path) -> None:
    cli = "import sys; from pytest_benchmark.cli import main; sys.exit(main())"  # pytest-benchmark's command
    command = [sys.executable, "-c", cli, "compare", str(smoke_report)]
    result = subprocess.run(command, cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ddp_2_processes" in result.stdout and "one_process" in result.stdout


def test_without_torchrun_it_says_how_to_launch(tmp_path: Path) -> None:
    env = {key: value for key, value in environment().items() if key not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    command = [sys.executable, "-m", "benchmarks.ddp_step", *SMOKE, f"--json={tmp_path / 'x.json'}"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "launch it with torchrun" in result.stderr
