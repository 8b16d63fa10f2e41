"""The process groups of the distributed specs: results come back by rank, and a rank that fails, a collective
that hangs or a group that overruns fails with a clear message, with no process left behind."""

import time

import numpy as np
import pytest
import torch
import torch.distributed as dist

from backends import resolve
from conformance.process_group import GroupFailed, run_ranks

from .conftest import ROOT

CPU = resolve("cpu")


def sum_of_ranks(engine, rank, world_size, offset):
    total = torch.tensor([float(rank + offset)])
    dist.all_reduce(total)
    return {"rank": rank, "backend": dist.get_backend(), "total": engine.to_numpy(total), "draw": np.random.rand()}


def raise_on_last_rank(engine, rank, world_size):
    if rank == world_size - 1:
        raise ValueError(f"rank {rank} refuses")
    return rank


def last_rank_skips_the_collective(engine, rank, world_size):
    if rank != world_size - 1:
        dist.all_reduce(torch.ones(1))
    else:
        time.sleep(60)


def sleep_forever(engine, rank, world_size):
    time.sleep(600)


def test_results_come_back_by_rank_from_one_seeded_gloo_group():
    results = run_ranks(CPU, sum_of_ranks, 10, world_size=2, seed_key="key")
    assert [result["rank"] for result in results] == [0, 1]
    assert {result["backend"] for result in results} == {"gloo"}
    for result in results:
        np.testing.assert_array_equal(result["total"], [21.0])
    assert results[0]["draw"] == results[1]["draw"]
    distinct = run_ranks(CPU, sum_of_ranks, 0, world_size=2, seed_key="key", distinct_seeds=True)
    assert distinct[0]["draw"] != distinct[1]["draw"]


def test_a_failing_rank_fails_the_group_with_its_traceback():
    with pytest.raises(GroupFailed) as failure:
        run_ranks(CPU, raise_on_last_rank, world_size=2, seed_key="key")
    message = str(failure.value)
    assert message.startswith("rank 1 failed")
    assert "ValueError: rank 1 refuses" in message
    assert "raise_on_last_rank" in message


def test_a_hung_collective_times_out_and_names_the_rank():
    started = time.monotonic()
    with pytest.raises(GroupFailed) as failure:
        run_ranks(CPU, last_rank_skips_the_collective, world_size=2, seed_key="key", collective_timeout=2)
    assert time.monotonic() - started < 30
    assert str(failure.value).startswith("rank 0 failed")
    assert "all_reduce" in str(failure.value)


def test_a_group_that_overruns_is_killed(monkeypatch):
    alive = []
    original = torch.multiprocessing.start_processes

    def recording(*args, **kwargs):
        context = original(*args, **kwargs)
        alive.append(context.processes)
        return context

    monkeypatch.setattr(torch.multiprocessing, "start_processes", recording)
    with pytest.raises(GroupFailed, match=r"did not finish within 3 s: rank\(s\) \[0, 1\] still running"):
        run_ranks(CPU, sleep_forever, world_size=2, seed_key="key", timeout=3)
    assert [process.is_alive() for process in alive[0]] == [False, False]


ONE_DEVICE_ENGINE = """
from backends import BackendUnavailable
from backends.torch_backend import TorchBackend

class OneDevice(TorchBackend):
    def for_rank(self, rank, world_size):
        if rank > 0:
            raise BackendUnavailable(f"no device for rank {rank}")
        return super().for_rank(rank, world_size)

backend = OneDevice("cpu", name="one_device:backend")
"""


def test_a_group_without_a_device_per_rank_is_not_applicable(harness):
    harness.makepyfile(one_device=ONE_DEVICE_ENGINE)
    spec_module = ROOT / "spec_tests" / "test_distributed.py"
    result = harness.runpytest_subprocess(
        str(spec_module), "-rs", "--backend=one_device:backend", "--spec=ddp.gradients-averaged"
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*not applicable: a group of 2 needs a device per rank: no device for rank 1*"])


@pytest.mark.parametrize("value", ["0", "two"])
def test_world_size_must_be_a_count(harness, value):
    result = harness.runpytest_subprocess(f"--world-size={value}")
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*--world-size: expected a whole number, at least 1, not '{value}'*"])
