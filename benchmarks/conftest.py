"""pytest configuration of the benchmarks: rounds, markers, the refusal to run under xdist, and the
environment recorded in pytest-benchmark's machine_info."""

from __future__ import annotations

import os
from typing import Any

import pytest
import torch
import torchvision

from .sweep import MARKERS

XDIST_REFUSAL = (
    "the benchmarks cannot run under pytest-xdist (-n/--dist): pytest-benchmark does not measure in xdist "
    "workers, and parallel workers would share the device. Run them without -n, or add --benchmark-disable "
    "to run them once each as plain tests."
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("training-step benchmarks")
    group.addoption("--step-rounds", type=int, default=30, help="measured rounds per benchmark (default 30)")
    group.addoption(
        "--step-warmup",
        type=int,
        default=5,
        help="discarded warm-up rounds per benchmark: compilation, cuDNN autotuning, graph capture (default 5)",
    )


def xdist_active(config: pytest.Config) -> bool:
    return config.getoption("dist", "no") != "no" or "PYTEST_XDIST_WORKER" in os.environ


@pytest.hookimpl(trylast=True)  # after pytest-benchmark has loaded the baseline
def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    if xdist_active(config) and not config.getoption("benchmark_disable"):
        raise pytest.UsageError(XDIST_REFUSAL)
    check_baseline(config)
    keep_rounds(config)


def keep_rounds(config: pytest.Config) -> None:
    """Saved runs keep every round's time (pytest-benchmark's ``--benchmark-save-data``, on by default here):
    ``python -m benchmarks.compare`` compares samples, not two medians."""
    session = getattr(config, "_benchmarksession", None)
    if session is not None:
        session.save_data = True


def check_baseline(config: pytest.Config) -> None:
    """``--benchmark-compare-fail`` without a baseline to compare with is a usage error before the benchmarks
    run (pytest-benchmark finds out only after them, with a traceback)."""
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.compare_fail or session.compared_mapping:
        return
    raise pytest.UsageError(
        f"--benchmark-compare-fail needs a saved run to compare with: none found in {session.storage} "
        f"(--benchmark-compare={config.getoption('benchmark_compare') or 'not given'}); "
        "save one first with --benchmark-autosave and pass --benchmark-compare"
    )


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    """torch, torchvision, CUDA and cuDNN versions and the GPUs, beside pytest-benchmark's CPU and Python
    (the suite's own git commit is in pytest-benchmark's commit_info)."""
    machine_info["torch"] = torch.__version__
    machine_info["torchvision"] = torchvision.__version__
    machine_info["cuda"] = torch.version.cuda
    machine_info["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    machine_info["gpus"] = (
        [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]
        if torch.cuda.is_available()
        else []
    )


@pytest.fixture
def rounds(request: pytest.FixtureRequest) -> dict[str, int]:
    """pedantic's rounds and warmup_rounds from --step-rounds / --step-warmup."""
    return {"rounds": request.config.getoption("step_rounds"), "warmup_rounds": request.config.getoption("step_warmup")}
