"""pytest-xdist workers share the cores (conformance.worker_threads); a serial run and a user's choice are left
alone."""

import subprocess
import sys

import pytest

from conformance.worker_threads import THREADS_VARIABLE, available_cores, threads_per_worker

#: a spec that writes the thread counts it runs with (an xdist worker's output does not reach the controller)
THREADS_SEEN = """
import os, pathlib, torch

def test_threads(engine):
    seen = f"torch={torch.get_num_threads()} omp={os.environ.get('OMP_NUM_THREADS')}"
    pathlib.Path(f"threads-{os.getpid()}-{engine.name}.txt").write_text(seen)
"""


@pytest.mark.parametrize(("cores", "workers", "threads"), [(2, 2, 1), (16, 3, 5), (8, 1, 8), (1, 4, 1)])
def test_each_worker_gets_its_share_of_the_cores_and_at_least_one(cores, workers, threads):
    assert threads_per_worker(cores, workers) == threads


def threads_seen(harness: pytest.Pytester) -> set[str]:
    return {path.read_text() for path in harness.path.glob("threads-*.txt")}


def test_xdist_workers_split_the_cores_for_torch_and_openmp(harness, monkeypatch):
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    harness.makepyfile(THREADS_SEEN)
    result = harness.runpytest_subprocess("-n", "2", "--backend=cpu,torch:cpu")
    result.assert_outcomes(passed=2)
    share = threads_per_worker(available_cores(), 2)
    assert threads_seen(harness) == {f"torch={share} omp={share}"}


def test_a_serial_run_keeps_torchs_default(harness, monkeypatch):
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    harness.makepyfile(THREADS_SEEN)
    result = harness.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    fresh = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
        capture_output=True,
        text=True,
        check=True,
    )  # this process's count may be an xdist worker's share
    assert threads_seen(harness) == {f"torch={fresh.stdout.strip()} omp=None"}


def test_the_users_thread_count_wins(harness, monkeypatch):
    """One worker would take every core; the user asked for one thread."""
    monkeypatch.setenv(THREADS_VARIABLE, "1")
    harness.makepyfile(THREADS_SEEN)
    result = harness.runpytest_subprocess("-n", "1")
    result.assert_outcomes(passed=1)
    assert threads_seen(harness) == {"torch=1 omp=1"}
