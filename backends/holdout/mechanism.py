"""The two ways a holdout plants its bug below the contract, besides replacing a module or an optimizer class.

- :class:`KernelBackend`: a :class:`~torch.utils._python_dispatch.TorchDispatchMode` held in
  :meth:`~backends.contract.Backend.spec_scope` sends every ATen operator through :meth:`KernelBackend.kernel`,
  forward and backward (:func:`backward_node` names the autograd node a backward operator runs for): a wrong
  kernel. The oracles of ``conformance`` pause it, as they pause the benign variants' modes.
- a tensor subclass (:class:`~backends.mutants.corrupted_tensors.CorruptedTensor`, the mutants' mechanism): the
  engine's tensor methods, where a wrong graph is recorded. :func:`on_backward` replaces what one recorded node
  hands back to its inputs, as a wrong derivative formula would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ..mutants.corrupted_tensors import CorruptedTensor
from ..torch_backend import TorchBackend

aten = torch.ops.aten

#: the in-place arithmetic methods a holdout's tensor intercepts, by ``__name__``
INPLACE_ARITHMETIC = frozenset({"add_", "sub_", "mul_", "div_", "__iadd__", "__isub__", "__imul__", "__itruediv__"})


def backward_node() -> str | None:
    """The class name of the autograd node whose backward is running (``MmBackward0``), None in a forward."""
    node = torch._C._current_autograd_node()
    return None if node is None else type(node).__name__


class Kernels(TorchDispatchMode):
    """Sends every operator through ``kernel(func, args, kwargs)``; inside it, torch's operators run as shipped."""

    def __init__(self, kernel: Callable[[Any, tuple, dict], Any]) -> None:
        super().__init__()
        self.kernel = kernel

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        return self.kernel(func, args, kwargs or {})


class KernelBackend(TorchBackend):
    """torch whose operators pass through :meth:`kernel` while a spec runs."""

    def kernel(self, func: Any, args: tuple, kwargs: dict) -> Any:
        """What the operator ``func`` returns on this engine; by default torch's own result."""
        return func(*args, **kwargs)

    @contextlib.contextmanager
    def spec_scope(self) -> Iterator[None]:
        with Kernels(self.kernel):
            yield


def on_backward(result: torch.Tensor, replace: Callable[[tuple, tuple], tuple]) -> None:
    """Make the node that recorded ``result`` hand ``replace(grad_inputs, grad_outputs)`` to its inputs."""
    node = CorruptedTensor.attribute(result, "grad_fn")
    if node is not None:
        node.register_hook(replace)


def plain(tensor: torch.Tensor) -> torch.Tensor:
    """A detached copy of ``tensor``'s values as a plain torch tensor, for a backward formula to use."""
    return CorruptedTensor.call(torch.Tensor.clone, CorruptedTensor.call(torch.Tensor.detach, tensor))


def is_tensor_requiring_grad(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and CorruptedTensor.attribute(value, "requires_grad")
