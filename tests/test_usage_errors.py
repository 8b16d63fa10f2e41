"""Bad input is a clear usage error (exit status 4) naming what is wrong, before any spec runs: never a silent
default, a traceback, or a column of FAILs blamed on the engine (or on torch)."""

import pytest
import torch

from tests.conftest import ROOT

SPEC = """
from conformance.catalogue import spec

@spec("alpha.holds", sources=["000"], kind="value")
def test_holds(engine):
    '''Holds.'''
    assert engine.to_numpy(engine.tensor([1.0])).tolist() == [1.0]
"""

PLUGINS = """
import torch

from backends.torch_backend import TorchBackend


class TypoInCapabilities(TorchBackend):
    capabilities = TorchBackend.capabilities | {"tensor.maths"}


class VersionRaises(TorchBackend):
    @property
    def engine_version(self):
        raise RuntimeError("no version attribute")


class GlobalStateRaises(TorchBackend):
    def global_state(self):
        raise RuntimeError("engine not initialised")


class CannotRunHere(TorchBackend):
    '''Like tinygrad with DEV=CPU on a machine without clang: every tensor fails.'''

    def tensor(self, data, *, requires_grad=False):
        raise FileNotFoundError("[Errno 2] No such file or directory: 'clang'")


class LeavesTorchInFloat64(TorchBackend):
    '''Changes torch's default dtype when built.'''

    def __init__(self):
        super().__init__("cpu")
        torch.set_default_dtype(torch.float64)
"""


def usage_error(harness, monkeypatch, *args):
    """Run the one spec with ``args``; assert exit status 4 and no spec run; return the error output."""
    monkeypatch.setenv("PYTHONPATH", f"{ROOT}:{harness.path}")
    harness.makepyfile(test_spec=SPEC, plugins=PLUGINS)
    result = harness.runpytest(*args)
    assert result.ret == 4, result.stdout.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert "passed" not in result.stdout.str()
    return result.stderr.str()


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("", "empty backend name (an unset variable?)"),
        ("cpu,,torch:cpu", "empty backend name"),
        ("torch:nonsense", "backend 'torch:nonsense': 'nonsense' is not a torch device"),
        ("cuda:x", "backend 'cuda:x': 'cuda:x' is not a torch device"),
        ("plugins:TypoInCapabilities", "declares unknown capabilities tensor.maths; known: anomaly, autograd,"),
        ("plugins:VersionRaises", "cannot run here: engine_version raised RuntimeError: no version attribute"),
        ("plugins:GlobalStateRaises", "cannot run here: global_state() raised RuntimeError: engine not initialised"),
        ("plugins:CannotRunHere", "cannot run here: to_numpy(tensor([1.0])) raised FileNotFoundError: [Errno 2]"),
    ],
)
def test_a_backend_that_cannot_be_used_is_a_usage_error(harness, monkeypatch, backend, message):
    assert message in usage_error(harness, monkeypatch, f"--backend={backend}")


def test_a_backend_that_changes_torch_state_when_built_is_refused_and_torch_left_alone(harness, monkeypatch):
    error = usage_error(harness, monkeypatch, "--backend=cpu,plugins:LeavesTorchInFloat64")
    assert "building backend 'plugins:LeavesTorchInFloat64' changed torch's global state: torch default dtype" in error
    assert torch.get_default_dtype() == torch.float32


def test_two_known_failures_files_for_one_backend_are_a_usage_error(harness, monkeypatch):
    error = usage_error(harness, monkeypatch, "--known-failures=cpu=a.json", "--known-failures=cpu=b.json")
    assert "--known-failures: two files for backend 'cpu': a.json and b.json" in error


def test_a_known_failures_path_may_contain_an_equals_sign(harness):
    harness.makepyfile(test_spec=SPEC.replace("[1.0]", "[2.0]", 1))
    (harness.path / "known=cpu.json").write_text('{"alpha.holds": "gives back another value"}')
    result = harness.runpytest("--known-failures=cpu=known=cpu.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*alpha.holds ?cpu? known failure: gives back another value"])
