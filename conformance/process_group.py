"""Run a function on every rank of a process group spawned for one spec, and bring the results back.

The distributed specs need no launcher: :func:`run_ranks` starts ``world_size`` processes with
``torch.multiprocessing``, each of which builds the backend again from its name
(:meth:`~backends.Backend.for_rank`), seeds itself as the spec's own process was seeded, joins a
``torch.distributed`` group on a free local port with the backend's communication backend (gloo on the CPU,
NCCL on CUDA) and calls ``function(engine, rank, world_size, *args)``. What the function returns (NumPy
arrays, names: anything picklable) comes back to the spec, one result per rank, so that the spec asserts in
its own process.

The start method is forkserver where the platform has it, spawn elsewhere: either way a rank is a fresh
process that inherits nothing of the spec's process (no pytest state, no threads, no CUDA context), but the
fork server imports torch once per test session (:data:`PRELOAD`), so a group starts in a fraction of a
second instead of importing torch again in every rank of every spec.

Nothing may hang the run: every collective has a timeout (``init_process_group(timeout=...)``), the spec
waits a bounded time for its ranks, and a rank that raised, died or overran is reported with its traceback
after every rank has been stopped.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import pickle
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing

from backends import Backend, resolve

from . import seeding

#: seconds a collective may wait for the other ranks before it fails
COLLECTIVE_TIMEOUT_S = 30.0
#: seconds the spec waits for all its ranks (start-up, importing torch, the work): past it they are killed
GROUP_TIMEOUT_S = 120.0
#: seconds a failed group's other ranks get to stop after SIGTERM before SIGKILL
GRACE_S = 2.0
#: what the fork server imports once, before it forks the ranks (DistributedDataParallel's constructor imports
#: torch._dynamo, seconds of imports that every rank would otherwise repeat)
PRELOAD = ["conformance.process_group", "conformance.catalogue", "torch._dynamo"]


def start_method() -> str:
    """forkserver (with :data:`PRELOAD` imported in the server) where the platform offers it, else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return "spawn"
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    return "forkserver"


class GroupFailed(Exception):
    """A rank raised, died or overran; the message names it and carries its traceback."""


def free_port() -> int:
    """A TCP port that is free on this host now: bound with port 0, read back and released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_ranks(
    engine: Backend,
    function: Callable[..., Any],
    *args: Any,
    world_size: int,
    seed_key: str,
    distinct_seeds: bool = False,
    timeout: float = GROUP_TIMEOUT_S,
    collective_timeout: float = COLLECTIVE_TIMEOUT_S,
) -> list[Any]:
    """``function(engine_of_rank, rank, world_size, *args)`` on every rank of a new group; the results by rank.

    ``function`` must be importable by name (a module-level function) for the spawned processes. Each rank
    is seeded with ``seed_key`` (see :mod:`conformance.seeding`), so it draws what the spec's own process
    draws after seeding with the same key; with ``distinct_seeds`` rank ``r`` is seeded with
    ``f"{seed_key}/rank{r}"`` instead, as independent processes would be. Raises :class:`GroupFailed` when a
    rank fails (its traceback in the message) or the group does not finish within ``timeout`` seconds.
    """
    with tempfile.TemporaryDirectory(prefix="ddp-ranks-") as results:
        context = torch.multiprocessing.start_processes(
            _rank_main,
            args=(
                engine.name,
                world_size,
                free_port(),
                seed_key,
                distinct_seeds,
                collective_timeout,
                results,
                function,
                args,
            ),
            nprocs=world_size,
            join=False,
            start_method=start_method(),
        )
        _wait(context, timeout)
        return [pickle.loads(Path(results, f"rank{rank}.pkl").read_bytes()) for rank in range(world_size)]


def _wait(context: torch.multiprocessing.ProcessContext, timeout: float) -> None:
    """Wait until every rank has finished; stop them all and raise :class:`GroupFailed` if one fails or the
    group overruns ``timeout``."""
    deadline = time.monotonic() + timeout
    try:
        while not context.join(timeout=max(0.0, deadline - time.monotonic()), grace_period=GRACE_S):
            if time.monotonic() >= deadline:
                running = [rank for rank, process in enumerate(context.processes) if process.is_alive()]
                raise GroupFailed(
                    f"the process group did not finish within {timeout:g} s: rank(s) {running} still running "
                    "(a collective waiting for a rank that never joins it?); every rank was killed"
                )
    except (torch.multiprocessing.ProcessRaisedException, torch.multiprocessing.ProcessExitedException) as error:
        raise GroupFailed(f"rank {error.error_index} failed: {str(error).strip()}") from None
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
            process.join()


def _rank_main(
    rank: int,
    engine_name: str,
    world_size: int,
    port: int,
    seed_key: str,
    distinct_seeds: bool,
    collective_timeout: float,
    results: str,
    function: Callable[..., Any],
    args: tuple[Any, ...],
) -> None:
    """The body of one spawned rank (see :func:`run_ranks`). An exception propagates: torch's spawn hands its
    traceback to the parent."""
    torch.set_num_threads(1)  # the ranks share the machine's cores; oversubscribing them only slows the specs
    engine = resolve(engine_name).for_rank(rank, world_size)
    engine.seed(seeding.seed_everything(f"{seed_key}/rank{rank}" if distinct_seeds else seed_key))
    dist.init_process_group(
        engine.process_group_backend(),
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=collective_timeout),
    )
    try:
        with engine.spec_scope():
            result = function(engine, rank, world_size, *args)
    finally:
        dist.destroy_process_group()
    path = Path(results, f"rank{rank}.pkl")
    path.with_suffix(".tmp").write_bytes(pickle.dumps(result))
    os.replace(path.with_suffix(".tmp"), path)
