"""Mutants of data-parallel training: DistributedDataParallel and the optimizer step under it."""

from __future__ import annotations

import contextlib
import functools

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ..torch_backend import TorchBackend
from . import mutant
from .model_mutants import _MomentumlessSGD


def _allreduce_sum(process_group, bucket):
    """A communication hook that all-reduces a bucket's gradients with SUM and never divides by the world size.
    (Not annotated: DDP refuses a hook whose annotations are strings, as postponed annotations make them.)"""
    work = dist.all_reduce(bucket.buffer(), group=process_group, async_op=True)
    return work.get_future().then(lambda future: future.value()[0])


class _SummingDDP(DistributedDataParallel):
    def __init__(self, module: torch.nn.Module, *args, **kwargs) -> None:
        super().__init__(module, *args, **kwargs)
        self.register_comm_hook(None, _allreduce_sum)


class _MutantDDPBackend(TorchBackend):
    """The torch backend with parallel.DistributedDataParallel replaced by ``ddp``."""

    ddp = DistributedDataParallel

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.parallel.DistributedDataParallel = self.ddp


@mutant("ddp-sums-gradients", breaks="ddp.gradients-averaged")
class DDPSumsGradients(_MutantDDPBackend):
    """DistributedDataParallel sums the ranks' gradients instead of averaging them."""

    ddp = _SummingDDP


@mutant("ddp-skips-initial-broadcast", breaks="ddp.broadcast-at-construction")
class DDPSkipsInitialBroadcast(_MutantDDPBackend):
    """DistributedDataParallel's constructor does not broadcast rank 0's parameters and buffers: every rank
    keeps its own."""

    ddp = functools.partial(DistributedDataParallel, init_sync=False)


class _AlwaysSyncingDDP(DistributedDataParallel):
    def no_sync(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()


@mutant("ddp-syncs-inside-no-sync", breaks="ddp.no-sync-accumulates")
class DDPSyncsInsideNoSync(_MutantDDPBackend):
    """DistributedDataParallel.no_sync() does nothing: gradients are averaged inside it too."""

    ddp = _AlwaysSyncingDDP


class _FrozenTrainingDDP(DistributedDataParallel):
    def __init__(self, module: torch.nn.Module, *args, **kwargs) -> None:
        module.requires_grad_(True)
        super().__init__(module, *args, **kwargs)


@mutant("ddp-trains-frozen-parameters", breaks="ddp.freeze-then-replace-fc")
class DDPTrainsFrozenParameters(_MutantDDPBackend):
    """DistributedDataParallel unfreezes the parameters it wraps: frozen ones get gradients and are
    all-reduced."""

    ddp = _FrozenTrainingDDP


@mutant("sgd-momentum-ignored-on-last-rank", breaks="ddp.sgd-momentum-identical")
class SGDMomentumIgnoredOnLastRank(TorchBackend):
    """On the last rank of a process group optim.SGD ignores momentum, so that rank's replica drifts from the
    others from the second step on."""

    def for_rank(self, rank: int, world_size: int) -> TorchBackend:
        backend = super().for_rank(rank, world_size)
        if rank == world_size - 1:
            backend.optim.SGD = _MomentumlessSGD
        return backend
