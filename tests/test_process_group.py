"""The process groups of the distributed specs: results come back by rank, and a rank that fails, a collective
that hangs or a group that overruns fails with a clear message, with no process left behind."""

import time

import numpy as np
import pytest
import torch
import torch.distributed as dist

from backends import resolve
from conformance.process_group import GroupFailed, run_ranks

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
