"""Holdouts in the engine's graph API: tensor hooks and retain_grad, grad-mode switches, autograd.grad."""

from __future__ import annotations

import types
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch.utils.hooks import RemovableHandle

from ..mutants.corrupted_tensors import CorruptedTensor, CorruptedTensorBackend
from ..torch_backend import TorchBackend
from . import holdout


class IgnoredReturnTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.register_hook and not cls.attribute(args[0], "is_leaf"):
            tensor, hook = args

            def called_only(grad: torch.Tensor) -> None:
                hook(grad)

            return cls.call(func, tensor, called_only)
        return cls.call(func, *args, **kwargs)


@holdout("nonleaf-hook-return-ignored", area="hooks", torch_gives=[20.0, 20.0])
class NonLeafHookReturnIgnored(CorruptedTensorBackend):
    """A hook registered on a non-leaf tensor is called, but the gradient it returns is dropped: backward goes on
    with the gradient the hook was given. Hooks on leaves are right.

    Probe: ``x``'s gradient after ``y = x * 2; y.register_hook(lambda g: g * 10); y.sum().backward()``."""

    tensor_type: ClassVar = IgnoredReturnTensor

    @staticmethod
    def probe(backend: Any) -> list[float]:
        x = backend.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: g * 10)
        y.sum().backward()
        return backend.to_numpy(x.grad).tolist()


class ReversedHooksTensor(CorruptedTensor):
    """Keeps a tensor's hooks in its own table and registers one torch hook that runs them newest first."""

    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is not torch.Tensor.register_hook:
            return cls.call(func, *args, **kwargs)
        tensor, hook = args
        if "holdout_hooks" not in vars(tensor):
            table: OrderedDict[int, Callable] = OrderedDict()  # weakly referable, as a handle needs
            tensor.holdout_hooks = table
            cls.call(func, tensor, lambda grad: run_newest_first(table, grad))
        handle = RemovableHandle(tensor.holdout_hooks)
        tensor.holdout_hooks[handle.id] = hook
        return handle


def run_newest_first(hooks: dict[int, Callable], grad: torch.Tensor) -> torch.Tensor:
    for hook in reversed(list(hooks.values())):
        returned = hook(grad)
        grad = grad if returned is None else returned
    return grad


@holdout("hooks-reverse-order", area="hooks", torch_gives=[3.0])
class HooksReverseOrder(CorruptedTensorBackend):
    """Several hooks registered on one tensor run in reverse order of registration (pushed on a stack, not
    appended to a list): hooks that commute give the right gradient, others a wrong one.

    Probe: ``x``'s gradient of ``x.sum()`` with hooks ``g * 2`` then ``g + 1`` registered on ``x``."""

    tensor_type: ClassVar = ReversedHooksTensor

    @staticmethod
    def probe(backend: Any) -> list[float]:
        x = backend.tensor([5.0], requires_grad=True)
        x.register_hook(lambda g: g * 2)
        x.register_hook(lambda g: g + 1)
        (x * 1).sum().backward()
        return backend.to_numpy(x.grad).tolist()


class OverwritingRetainTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if func is torch.Tensor.retain_grad and not cls.attribute(args[0], "is_leaf"):
            owner = weakref.ref(args[0])

            def forget_earlier(grad: torch.Tensor) -> None:
                # tensor hooks run before the retain_grad hook, which then finds no .grad to accumulate into
                if (tensor := owner()) is not None:
                    cls.call(torch.Tensor.grad.__set__, tensor, None)

            cls.call(torch.Tensor.register_hook, args[0], forget_earlier)
        return result


@holdout("retain-grad-overwrites", area="hooks", torch_gives=[6.0, 6.0])
class RetainGradOverwrites(CorruptedTensorBackend):
    """``retain_grad()`` on a non-leaf keeps only the last backward's gradient: each backward overwrites the
    retained ``.grad`` instead of accumulating into it, as a leaf's does. One backward gives the right value.

    Probe: ``y.grad`` after ``y = x * 2; y.retain_grad(); z = (y * 3).sum()`` and two ``z.backward()``."""

    tensor_type: ClassVar = OverwritingRetainTensor

    @staticmethod
    def probe(backend: Any) -> list[float]:
        x = backend.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        z = (y * 3).sum()
        z.backward(retain_graph=True)
        z.backward()
        return backend.to_numpy(y.grad).tolist()


class TrackedEnableGrad(torch.enable_grad):
    """torch's enable_grad that tells its backend how deeply it is nested."""

    def __new__(cls, backend: SetGradEnabledInsideEnableGrad) -> TrackedEnableGrad:
        return object.__new__(cls)  # enable_grad's own __new__ takes its argument for a function to decorate

    def __init__(self, backend: SetGradEnabledInsideEnableGrad) -> None:
        super().__init__()
        self.backend = backend

    def clone(self) -> TrackedEnableGrad:
        return TrackedEnableGrad(self.backend)

    def __enter__(self) -> None:
        self.backend.enable_grad_depth += 1
        super().__enter__()

    def __exit__(self, *exc: object) -> None:
        self.backend.enable_grad_depth -= 1
        super().__exit__(*exc)


@holdout("set-grad-enabled-inside-enable-grad", area="grad mode", torch_gives=[False, False])
class SetGradEnabledInsideEnableGrad(TorchBackend):
    """``set_grad_enabled(False)`` nested inside ``enable_grad()`` is not honoured: grad mode stays on (the switch
    consults enable_grad's flag before its own argument). Outside ``enable_grad()``, and inside ``no_grad()``, it
    is right.

    Probe: ``is_grad_enabled()`` and ``(x * 2).requires_grad`` inside ``enable_grad(): set_grad_enabled(False)``."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.enable_grad_depth = 0

    def enable_grad(self) -> TrackedEnableGrad:
        return TrackedEnableGrad(self)

    def set_grad_enabled(self, mode: bool) -> torch.set_grad_enabled:
        return torch.set_grad_enabled(mode or self.enable_grad_depth > 0)

    @staticmethod
    def probe(backend: Any) -> list[bool]:
        x = backend.tensor([1.0], requires_grad=True)
        with backend.enable_grad(), backend.set_grad_enabled(False):
            return [backend.is_grad_enabled(), bool((x * 2).requires_grad)]


class ContextOnlyNoGrad(torch.no_grad):
    """torch's no_grad as a context manager; as a decorator, it returns the function unchanged."""

    def __call__(self, func: Callable) -> Callable:
        return func


@holdout("no-grad-decorator-ignored", area="grad mode", torch_gives=[False, True])
class NoGradDecoratorIgnored(TorchBackend):
    """``no_grad()`` works as a context manager but not as a decorator: a decorated function records its
    operations.

    Probe: ``requires_grad`` of a ``@no_grad()`` function's ``x * 2``, and of ``x * 2`` after it."""

    def no_grad(self) -> ContextOnlyNoGrad:
        return ContextOnlyNoGrad()

    @staticmethod
    def probe(backend: Any) -> list[bool]:
        x = backend.tensor([1.0], requires_grad=True)

        @backend.no_grad()
        def doubled(t: Any) -> Any:
            return t * 2

        return [bool(doubled(x).requires_grad), bool((x * 2).requires_grad)]


def as_tuple(value: Any) -> tuple:
    return (value,) if isinstance(value, torch.Tensor) or value is None else tuple(value)


def ones_for_non_scalars(outputs: Any, grad_outputs: Any) -> tuple:
    """``grad_outputs`` with each non-scalar output's entry replaced by ones."""
    return tuple(
        grad if grad is None or output.dim() == 0 else torch.ones_like(output)
        for output, grad in zip(as_tuple(outputs), as_tuple(grad_outputs), strict=True)
    )


@holdout("grad-outputs-ignored", area="autograd.grad", torch_gives=[2.0, 0.0, 12.0])
class GradOutputsIgnored(TorchBackend):
    """``autograd.grad`` ignores ``grad_outputs`` for non-scalar outputs and backpropagates ones (the vector-Jacobian
    product taken as a plain sum); a scalar output's ``grad_outputs`` is honoured.

    Probe: ``autograd.grad(x * x, x, grad_outputs=[1, 0, 2])`` at ``x = [1, 2, 3]``."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.autograd = types.SimpleNamespace(**{**vars(self.autograd), "grad": self.grad_ignoring_grad_outputs})

    @staticmethod
    def grad_ignoring_grad_outputs(outputs: Any, inputs: Any, grad_outputs: Any = None, *args: Any, **kwargs: Any):
        if grad_outputs is not None:
            grad_outputs = ones_for_non_scalars(outputs, grad_outputs)
        return torch.autograd.grad(outputs, inputs, grad_outputs, *args, **kwargs)

    @staticmethod
    def probe(backend: Any) -> list[float]:
        x = backend.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (grad,) = backend.autograd.grad(x * x, x, grad_outputs=backend.tensor([1.0, 0.0, 2.0]))
        return backend.to_numpy(grad).tolist()


@holdout("allow-unused-zeros", area="autograd.grad", torch_gives=[False, True])
class AllowUnusedZeros(TorchBackend):
    """``autograd.grad(..., allow_unused=True)`` returns zeros for an input the outputs do not depend on, instead of
    None (as ``materialize_grads=True`` would): a caller cannot tell an unused input from a zero gradient.

    Probe: which of ``autograd.grad((x * 2).sum(), [x, z], allow_unused=True)`` are None."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.autograd = types.SimpleNamespace(**{**vars(self.autograd), "grad": self.grad_with_zeros_for_unused})

    @staticmethod
    def grad_with_zeros_for_unused(outputs: Any, inputs: Any, *args: Any, **kwargs: Any):
        grads = torch.autograd.grad(outputs, inputs, *args, **kwargs)
        if not kwargs.get("allow_unused"):
            return grads
        pairs = zip(as_tuple(inputs), grads, strict=True)
        return tuple(torch.zeros_like(tensor) if grad is None else grad for tensor, grad in pairs)

    @staticmethod
    def probe(backend: Any) -> list[bool]:
        x = backend.tensor([1.0, 2.0], requires_grad=True)
        z = backend.tensor([3.0], requires_grad=True)
        grads = backend.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
        return [grad is None for grad in grads]
