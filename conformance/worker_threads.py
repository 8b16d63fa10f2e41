"""pytest plugin: pytest-xdist workers share the machine's cores instead of each taking all of them.

torch starts one intra-op thread per core in every process, and so do the OpenMP runtimes of other engines.
Under ``pytest -n N`` that is N times as many threads as cores; their spinning threads then wait on each other
and the run gets slower, not faster (on 2 cores ``-n 2`` took longer than a serial run). Each worker is
therefore given ``cores // N`` threads, at least one, for torch and, through ``OMP_NUM_THREADS``, for what it
imports or starts later. A thread count the user chose (``OMP_NUM_THREADS`` in the environment) is left alone,
and so is a serial run. The verdicts do not depend on it: intra-op threads change no result the specs compare
beyond their tolerances, and the ``threads.*`` specs start threads of their own.
"""

from __future__ import annotations

import os

import pytest
import torch

#: the variable OpenMP runtimes (torch's, paddle's, ...) read their thread count from
THREADS_VARIABLE = "OMP_NUM_THREADS"


def available_cores() -> int:
    """The cores this process may run on (its affinity where the platform tells it, else all of them)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_per_worker(cores: int, workers: int) -> int:
    """Each worker's share of ``cores``: at least one thread."""
    return max(1, cores // workers)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """In an xdist worker, before any backend is built: torch's threads and ``OMP_NUM_THREADS`` set to the
    worker's share of the cores, unless the user set ``OMP_NUM_THREADS``."""
    worker = getattr(config, "workerinput", None)
    if worker is None or THREADS_VARIABLE in os.environ:
        return
    threads = threads_per_worker(available_cores(), worker["workercount"])
    os.environ[THREADS_VARIABLE] = str(threads)
    torch.set_num_threads(threads)
