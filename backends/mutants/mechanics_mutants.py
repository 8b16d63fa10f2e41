"""Mutants of autograd's mechanics (hooks, grad modes, anomaly detection, retained graphs, ...).

Behaviours that live on tensors (``backward``, ``register_hook``, ``retain_grad``) are broken through a
:class:`~backends.mutants.corrupted_tensors.CorruptedTensor` subclass that overrides the method: the mutant
creates its leaves as that subclass, and torch carries the subclass through every operation, so results
misbehave too.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import types

import torch

from ..torch_backend import TorchBackend
from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend


class RetainGraphIgnoredTensor(CorruptedTensor):
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        super().backward(gradient, retain_graph=False, create_graph=create_graph, inputs=inputs)


@mutant("retain-graph-ignored", breaks="mechanics.retain-graph")
class RetainGraphIgnored(CorruptedTensorBackend):
    """backward(retain_graph=True) frees the graph anyway, so the second backward fails."""

    tensor_type = RetainGraphIgnoredTensor


class RetainGradIgnoredTensor(CorruptedTensor):
    def retain_grad(self):
        return None


@mutant("retain-grad-ignored", breaks="mechanics.retain-grad")
class RetainGradIgnored(CorruptedTensorBackend):
    """retain_grad() does nothing: a non-leaf's .grad stays None."""

    tensor_type = RetainGradIgnoredTensor


class HooksNotCalledTensor(CorruptedTensor):
    def register_hook(self, hook):
        return types.SimpleNamespace(remove=lambda: None)


@mutant("tensor-hooks-not-called", breaks="mechanics.tensor-hook")
class TensorHooksNotCalled(CorruptedTensorBackend):
    """register_hook hands back a handle but never calls the hook."""

    tensor_type = HooksNotCalledTensor


class MainThreadBackwardTensor(CorruptedTensor):
    def backward(self, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            super().backward(*args, **kwargs)


@mutant("backward-only-on-main-thread", breaks="mechanics.threads-independent-backward")
class BackwardOnlyOnMainThread(CorruptedTensorBackend):
    """backward() called from any thread but the main one silently does nothing."""

    tensor_type = MainThreadBackwardTensor


@mutant("create-graph-ignored", breaks="mechanics.autograd-grad-create-graph")
class CreateGraphIgnored(TorchBackend):
    """autograd.grad drops create_graph, so its result cannot be differentiated again."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.autograd.grad = self._grad_without_graph

    @staticmethod
    def _grad_without_graph(outputs, inputs, *args, create_graph=False, **kwargs):
        return torch.autograd.grad(outputs, inputs, *args, **kwargs)


@mutant("enable-grad-ignored", breaks="mechanics.enable-grad-inside-no-grad")
class EnableGradIgnored(TorchBackend):
    """enable_grad() leaves grad mode as it is, so inside no_grad nothing is recorded."""

    def enable_grad(self) -> contextlib.nullcontext:
        return contextlib.nullcontext()


@mutant("inference-mode-is-no-grad", breaks="mechanics.inference-tensors-refused-by-autograd")
class InferenceModeIsNoGrad(TorchBackend):
    """inference_mode() is plain no_grad: its tensors are accepted by autograd afterwards."""

    def inference_mode(self) -> torch.no_grad:
        return torch.no_grad()


@mutant("anomaly-detection-inert", breaks="mechanics.anomaly-names-forward-op")
class AnomalyDetectionInert(TorchBackend):
    """detect_anomaly() does nothing: a NaN gradient passes silently and no forward traceback is shown."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.autograd.detect_anomaly = contextlib.nullcontext


@mutant("saved-tensors-hooks-ignored", breaks="mechanics.saved-tensors-hooks")
class SavedTensorsHooksIgnored(TorchBackend):
    """saved_tensors_hooks(pack_hook, unpack_hook) installs neither hook."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.autograd.graph.saved_tensors_hooks = lambda pack_hook, unpack_hook: contextlib.nullcontext()


class DetachingFunction(torch.autograd.Function):
    """Function.apply whose result is cut from the graph, so backward never reaches the inputs."""

    @classmethod
    def apply(cls, *args, **kwargs):
        return super().apply(*args, **kwargs).detach().requires_grad_()


@mutant("custom-function-detached", breaks="mechanics.custom-function")
class CustomFunctionDetached(TorchBackend):
    """autograd.Function's apply returns a fresh leaf: the custom backward is never called."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.autograd.Function = DetachingFunction


class OutputCopyingFunction(torch.autograd.Function):
    """Function.apply that hands back a copy of the result, so in-place changes never reach what was saved."""

    @classmethod
    def apply(cls, *args, **kwargs):
        return super().apply(*args, **kwargs).clone()


@mutant("saved-tensors-unversioned", breaks="mechanics.custom-function-saved-version-check")
class SavedTensorsUnversioned(TorchBackend):
    """A custom Function's output modified in place does not make backward fail (the saved copy is intact)."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.autograd.Function = OutputCopyingFunction


@mutant("set-grad-enabled-ignored", breaks="mechanics.set-grad-enabled")
class SetGradEnabledIgnored(TorchBackend):
    """set_grad_enabled(mode) leaves grad mode as it is."""

    def set_grad_enabled(self, mode: bool) -> contextlib.nullcontext:
        return contextlib.nullcontext()


class LinearWithoutBackwardHooks(torch.nn.Linear):
    def register_full_backward_hook(self, hook, prepend=False):
        return types.SimpleNamespace(remove=lambda: None)


@mutant("module-backward-hooks-not-called", breaks="mechanics.module-hooks")
class ModuleBackwardHooksNotCalled(TorchBackend):
    """nn.Linear accepts a full backward hook and never calls it."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.nn.Linear = functools.partial(LinearWithoutBackwardHooks, device=self._device)


def _grad_also_accumulating(outputs, inputs, *args, **kwargs):
    inputs = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
    torch.autograd.backward(outputs, inputs=inputs, retain_graph=True)
    return torch.autograd.grad(outputs, inputs, *args, **kwargs)


@mutant("autograd-grad-accumulates", breaks="mechanics.autograd-grad")
class AutogradGradAccumulates(TorchBackend):
    """autograd.grad returns the right gradients but also accumulates them into the inputs' .grad, as
    backward() does."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.autograd.grad = _grad_also_accumulating


class HookRemovalIgnored(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.register_hook:
            cls.call(func, *args, **kwargs)
            return types.SimpleNamespace(remove=lambda: None)
        return cls.call(func, *args, **kwargs)


@mutant("tensor-hook-removal-ignored", breaks="mechanics.tensor-hook-remove")
class TensorHookRemovalIgnored(CorruptedTensorBackend):
    """register_hook's handle.remove() does nothing: the hook is still called at every backward."""

    tensor_type = HookRemovalIgnored


@mutant("inference-mode-records", breaks="mechanics.inference-mode-no-grad")
class InferenceModeRecords(TorchBackend):
    """inference_mode() leaves gradient recording on, so results computed inside it still require grad."""

    def inference_mode(self) -> torch.inference_mode:
        return torch.inference_mode(mode=False)


class GraphAlwaysRetained(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.backward:
            call = inspect.signature(torch.Tensor.backward).bind(*args, **kwargs)
            call.arguments["retain_graph"] = True
            return cls.call(func, *call.args, **call.kwargs)
        return cls.call(func, *args, **kwargs)


@mutant("graph-always-retained", breaks="mechanics.retain-graph-second-backward-fails")
class GraphAlwaysRetainedBackend(CorruptedTensorBackend):
    """backward() keeps the graph as if retain_graph=True were passed, so a second backward through it
    silently succeeds."""

    tensor_type = GraphAlwaysRetained


class NonLeafHookResultIgnoredTensor(CorruptedTensor):
    def register_hook(self, hook):
        if self.attribute(self, "is_leaf"):
            return super().register_hook(hook)
        return super().register_hook(functools.partial(result_dropped, hook))


def result_dropped(hook, grad) -> None:
    """Call ``hook`` with ``grad`` and drop the gradient it returns."""
    hook(grad)


@mutant("non-leaf-hook-result-ignored", breaks="mechanics.tensor-hook-non-leaf")
class NonLeafHookResultIgnored(CorruptedTensorBackend):
    """A hook on a non-leaf tensor is called, but the gradient it returns is dropped: the original gradient flows
    upstream into the leaves' .grad (hooks on leaves still replace theirs)."""

    tensor_type = NonLeafHookResultIgnoredTensor


class HooksSeeOriginalGradientTensor(CorruptedTensor):
    def register_hook(self, hook):
        hooks = self.__dict__.setdefault("_hooks_given_the_original", [])
        if not hooks:
            super().register_hook(lambda grad: last_result(hooks, grad))
        hooks.append(hook)
        return types.SimpleNamespace(remove=lambda: hooks.remove(hook))


def last_result(hooks, grad):
    """What the last of ``hooks`` to return a gradient returned, each called with ``grad`` itself; None if none
    did."""
    results = [result for hook in hooks if (result := hook(grad)) is not None]
    return results[-1] if results else None


@mutant("tensor-hooks-given-the-original-gradient", breaks="mechanics.tensor-hooks-in-order")
class TensorHooksGivenTheOriginalGradient(CorruptedTensorBackend):
    """Several hooks on one tensor all receive the original gradient, not the previous hook's result; the last
    gradient returned wins (one hook alone behaves as torch's)."""

    tensor_type = HooksSeeOriginalGradientTensor


class HooksReversedTensor(CorruptedTensor):
    def register_hook(self, hook):
        hooks = self.__dict__.setdefault("_hooks_newest_first", [])
        if not hooks:
            super().register_hook(lambda grad: functools.reduce(run_hook, hooks, grad))
        hooks.insert(0, hook)
        return types.SimpleNamespace(remove=lambda: hooks.remove(hook))


def run_hook(grad, hook):
    """The gradient after ``hook``: what it returns, or ``grad`` when it returns None."""
    result = hook(grad)
    return grad if result is None else result


@mutant("tensor-hooks-reversed", breaks="mechanics.tensor-hooks-in-order")
class TensorHooksReversed(CorruptedTensorBackend):
    """Several hooks on one tensor run newest first, each given the previous one's result."""

    tensor_type = HooksReversedTensor


class RetainGradLastBackwardTensor(CorruptedTensor):
    def retain_grad(self):
        self.register_hook(lambda grad: setattr(self, "grad", grad))


@mutant("retain-grad-last-backward-only", breaks="mechanics.retain-grad-accumulates")
class RetainGradLastBackwardOnly(CorruptedTensorBackend):
    """retain_grad() keeps the gradient of the last backward only: a second backward replaces a non-leaf's .grad
    instead of adding to it."""

    tensor_type = RetainGradLastBackwardTensor


class RetainGradInRegistrationOrderTensor(CorruptedTensor):
    def retain_grad(self):
        def keep(grad):
            kept = self.__dict__.get("_kept_grad")
            self._kept_grad = grad if kept is None else kept + grad
            self.grad = self._kept_grad

        self.register_hook(keep)


@mutant("retain-grad-in-registration-order", breaks="mechanics.retain-grad-after-tensor-hooks")
class RetainGradInRegistrationOrder(CorruptedTensorBackend):
    """retain_grad() is an ordinary hook run in registration order: a hook registered after it changes the
    gradient that flows on but not the retained .grad."""

    tensor_type = RetainGradInRegistrationOrderTensor


@mutant("grad-outputs-ignored", breaks="mechanics.autograd-grad-non-leaf-inputs")
class GradOutputsIgnored(TorchBackend):
    """autograd.grad drops grad_outputs and differentiates the sum of the outputs (a vector of ones), which is
    right for a scalar output only."""

    def __init__(self, device: str = "cpu", name: str | None = None) -> None:
        super().__init__(device, name)
        self.autograd.grad = self._grad_of_the_sum

    @staticmethod
    def _grad_of_the_sum(outputs, inputs, grad_outputs=None, **kwargs):
        return torch.autograd.grad(outputs.sum(), inputs, **kwargs)
