"""The mechanism of the tensor-level mutants: torch tensors of a subclass that corrupts one operation.

A mutant subclasses :class:`CorruptedTensor` and overrides :meth:`CorruptedTensor.corrupt`, which sees every
torch function called on its tensors (methods, operators and attribute reads such as ``grad`` or
``_version``) and may change what it does; :class:`CorruptedTensorBackend` creates the mutant's leaves.
Results keep the subclass without an extra autograd node, so everything the mutant does not corrupt behaves
exactly as torch does (``grad_fn`` names and ``next_functions`` included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch

from ..torch_backend import TorchBackend


def reads(func: Callable, name: str) -> bool:
    """Whether ``func``, as ``__torch_function__`` receives it, reads the tensor attribute ``name``."""
    return func == getattr(torch.Tensor, name).__get__


class CorruptedTensor(torch.Tensor):
    """A torch tensor whose operations pass through :meth:`corrupt`, and whose results stay corrupted."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return cls._keep_class(cls.corrupt(func, args, kwargs or {}))

    @classmethod
    def corrupt(cls, func: Callable, args: tuple, kwargs: dict) -> Any:
        """What ``func(*args, **kwargs)`` returns on this mutant; by default exactly what torch returns."""
        return cls.call(func, *args, **kwargs)

    @staticmethod
    def call(func: Callable, *args: Any, **kwargs: Any) -> Any:
        """torch's own ``func``, without this subclass's interception."""
        with torch._C.DisableTorchFunctionSubclass():
            return func(*args, **kwargs)

    @classmethod
    def attribute(cls, tensor: torch.Tensor, name: str) -> Any:
        """torch's own value of ``tensor.<name>``, without this subclass's interception."""
        return cls.call(getattr, tensor, name)

    @classmethod
    def is_leaf_requiring_grad(cls, value: Any) -> bool:
        """Whether ``value`` is a leaf tensor that requires grad (as torch itself says, uncorrupted)."""
        return (
            isinstance(value, torch.Tensor)
            and cls.attribute(value, "is_leaf")
            and cls.attribute(value, "requires_grad")
        )

    @classmethod
    def _keep_class(cls, result: Any) -> Any:
        # Re-classing in place (unlike as_subclass) adds no AliasBackward0 node to the graph.
        if type(result) is torch.Tensor:
            result.__class__ = cls
        elif isinstance(result, (tuple, list)):
            return type(result)(cls._keep_class(item) for item in result)
        return result


class CorruptedTensorBackend(TorchBackend):
    """The torch backend whose tensors are of the mutant's :attr:`tensor_type`."""

    tensor_type: ClassVar[type[CorruptedTensor]] = CorruptedTensor

    def tensor(self, data: Any, *, requires_grad: bool = False) -> torch.Tensor:
        return torch.Tensor._make_subclass(self.tensor_type, super().tensor(data), requires_grad)

    def tensor64(self, data: Any, *, requires_grad: bool = False) -> torch.Tensor:
        return torch.Tensor._make_subclass(self.tensor_type, super().tensor64(data), requires_grad)
