"""Hostile engines: torch backends that each break one thing the harness must survive, as the mutants each break
one behaviour a spec must catch (``--backend=tests.hostile_backends:<class>``; see tests/test_hostile.py)."""

from __future__ import annotations

import contextlib
import signal
import time

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from backends.torch_backend import TorchBackend

#: what an engine may say to a report: markup, an image, a link, ANSI escapes that paint a green "complete run",
#: a pipe and a newline that break the table, NUL, a bidirectional override and a lone surrogate
HOSTILE_TEXT = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> ![pixel](https://example.invalid/p.png) "
    "[click](https://example.invalid) | cell\nnew line \x00 \x1b[2J\x1b[32mcomplete run (exit status 0)\x1b[0m "
    "\u202eevil \ud800 `code` **bold** & &amp;"
)


class HostileError(RuntimeError):
    """An exception whose message is :data:`HOSTILE_TEXT`."""


HostileError.__name__ = "Hostile<b>|\x1b[31mError"


class Unprintable(RuntimeError):
    """An exception that cannot be printed."""

    def __str__(self) -> str:
        raise ValueError("no message for you")


class Hostile(TorchBackend):
    """An engine named and versioned in hostile text, failing every tensor that requires grad with an exception
    whose name and message are hostile."""

    engine = HOSTILE_TEXT

    @property
    def engine_version(self) -> str:
        return "1.0\x1b[2K | <i>x</i>"

    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            raise HostileError(HOSTILE_TEXT)
        return super().tensor(data)


class RaisesUnprintable(TorchBackend):
    """Fails every tensor that requires grad with an exception whose ``__str__`` raises."""

    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            raise Unprintable()
        return super().tensor(data)


class DescribeFailsLate(TorchBackend):
    """Describes itself at startup, raises when described again (at the end, for the report)."""

    described = 0

    def describe(self):
        self.described += 1
        if self.described > 1:
            raise RuntimeError("gone")
        return super().describe()


class VersionNotAString(TorchBackend):
    @property
    def engine_version(self):
        return (2, 1)


class DescribesAnObject(TorchBackend):
    def describe(self):
        return {**super().describe(), "device_handle": object()}


class GlobalStateNotADict(TorchBackend):
    def global_state(self):
        return ["grad"]


class CapabilitiesAList(TorchBackend):
    capabilities = ["autograd"]  # noqa: RUF012 (the hostile declaration)


class LacksAList(TorchBackend):
    lacks = {"tensor.unary": ["erfinv"]}  # noqa: RUF012 (the hostile declaration)


class DeviceRaises(TorchBackend):
    @property
    def device(self):
        raise RuntimeError("no device here")


class SkipsAsNotApplicable(TorchBackend):
    """Skips every tensor that requires grad as if the spec did not apply."""

    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            pytest.skip("not applicable: this engine decides for itself")
        return super().tensor(data)


class SkipsAsUnsupported(TorchBackend):
    """Skips in its reset, before the spec, as if a capability were missing."""

    def reset(self):
        pytest.skip("unsupported: nothing, really")


class Xfails(TorchBackend):
    """Declares its own known failure, with no known-failures file behind it."""

    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            pytest.xfail("known failure, says the engine")
        return super().tensor(data)


class PassThroughFunctions(TorchFunctionMode):
    """A torch function mode that changes nothing."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


class PassThroughDispatch(TorchDispatchMode):
    """A torch dispatch mode that changes nothing."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


#: engines that leave a torch mode on when asked for a tensor that requires grad


class LeavesInferenceMode(TorchBackend):
    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            self.held = torch.inference_mode()  # held: torch ends inference mode when its guard is collected
            self.held.__enter__()
        return super().tensor(data, requires_grad=requires_grad)


class LeavesSavedTensorHooks(TorchBackend):
    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            torch.autograd.graph.saved_tensors_hooks(lambda x: x, lambda x: x).__enter__()
        return super().tensor(data, requires_grad=requires_grad)


class LeavesDualLevel(TorchBackend):
    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            torch.autograd.forward_ad.enter_dual_level()
        return super().tensor(data, requires_grad=requires_grad)


class LeavesFunctionMode(TorchBackend):
    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            PassThroughFunctions().__enter__()
        return super().tensor(data, requires_grad=requires_grad)


class LeavesDispatchMode(TorchBackend):
    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            PassThroughDispatch().__enter__()
        return super().tensor(data, requires_grad=requires_grad)


class DispatchModePerSpec(TorchBackend):
    """Benign: holds a dispatch mode from each spec's reset to the next (what an engine that intercepts torch
    does), leaking nothing out of a spec."""

    mode = None

    def reset(self):
        if self.mode is not None:
            self.mode.__exit__(None, None, None)
        self.mode = PassThroughDispatch()
        self.mode.__enter__()


class IgnoresAlarm(TorchBackend):
    """Makes a tensor that requires grad by spinning forever with the alarm that ends a spec ignored (its handler
    put back, as any handler that swallowed the alarm would be, once the spec is stopped)."""

    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            previous = signal.signal(signal.SIGALRM, signal.SIG_IGN)
            try:
                while True:
                    time.sleep(0.01)
            finally:
                signal.signal(signal.SIGALRM, previous)
        return super().tensor(data)


class CannotBeStopped(TorchBackend):
    """Like :class:`IgnoresAlarm`, and swallows every exception raised to stop it."""

    def tensor(self, data, *, requires_grad=False):
        if requires_grad:
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            while True:
                with contextlib.suppress(BaseException):  # the point: nothing stops it
                    time.sleep(0.01)
        return super().tensor(data)
