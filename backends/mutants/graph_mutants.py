"""Mutants of the graph and of flags that read wrong silently: AccumulateGrad nodes holding another tensor, a
graph kept from the first forward, requires_grad that is None instead of False."""

from __future__ import annotations

from typing import Any

import torch

from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend, reads
from .tensor_mutants import leaves_of


class _CopiedVariableNode:
    """A graph node as torch's, except that an AccumulateGrad node's .variable is a copy of the leaf."""

    def __init__(self, node: Any) -> None:
        self._node = node

    def name(self) -> str:
        return self._node.name()

    @property
    def next_functions(self) -> tuple:
        return tuple((None if f is None else _CopiedVariableNode(f), i) for f, i in self._node.next_functions)

    @property
    def variable(self) -> torch.Tensor:
        return self._node.variable.detach().clone().requires_grad_(True)


class CopiedAccumulateGradVariable(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if reads(func, "grad_fn") and result is not None:
            return _CopiedVariableNode(result)
        return result


@mutant("accumulate-grad-holds-a-copy", breaks="graph.walk-reaches-leaves")
class CopiedAccumulateGradVariableBackend(CorruptedTensorBackend):
    """The AccumulateGrad nodes at the end of the graph hold a copy of the leaf, not the leaf itself."""

    tensor_type = CopiedAccumulateGradVariable


class ReplayedGraph(CorruptedTensor):
    """Every backward reaching a leaf replays the graph of the first backward that reached it."""

    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is not torch.Tensor.backward:
            return cls.call(func, *args, **kwargs)
        leaves = leaves_of(args[0])
        first = leaves[0].__dict__.get("first_graph") if leaves else None
        if first is not None:
            return cls.call(func, first, retain_graph=True)
        for leaf in leaves:
            leaf.__dict__["first_graph"] = args[0]
        return cls.call(func, *args, **{**kwargs, "retain_graph": True})


@mutant("first-graph-replayed", breaks="graph.rebuilt-every-forward")
class ReplayedGraphBackend(CorruptedTensorBackend):
    """The graph of the first forward is kept: later backward passes replay it, whatever the later forward
    computed (a static graph)."""

    tensor_type = ReplayedGraph


class RequiresGradNoneWhenFalse(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if reads(func, "requires_grad") and result is False:
            return None
        return result


@mutant("requires-grad-none-when-false", breaks="mechanics.set-grad-enabled")
class RequiresGradNoneWhenFalseBackend(CorruptedTensorBackend):
    """requires_grad reads None instead of False: falsy, but not the documented bool."""

    tensor_type = RequiresGradNoneWhenFalse
