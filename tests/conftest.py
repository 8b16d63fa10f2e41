"""The project's own tests: pytester runs the harness on throwaway test files."""

import contextlib
from pathlib import Path

import pytest
import torch._dynamo  # noqa: F401  (see below)
import torchvision  # noqa: F401  (see below)

from backends.torch_backend import TorchBackend
from conformance import known_failures

# scipy's optimize imported once, whole, before any test runs: seen on scipy 1.15.0 (the lowest pins), a later first
# import of it in a worker (torch.testing._internal's, for the OpInfo coverage tests) after other tests' in-process
# runs failed with "scipy.optimize._highspy._core is not a package"; scipy is absent where only [test] is installed
with contextlib.suppress(ImportError):
    import scipy.optimize  # noqa: F401

# pytester's in-process runs (``inline_run``) forget the modules first imported during them. torch imports
# torch._dynamo lazily (torch.manual_seed does, in the specs' seeding), and it registers a torch library at
# import, which fails the second time in one process; so does torchvision on torch 2.11 (its meta kernels, when a
# spec builds resnet18): import both here, before any in-process run.

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reproduces(engine, *spec_ids): the test shows, in the engine's own code, the observed behaviour that the"
        " engine's known-failures file states for each spec ID (checked by tests/test_engines.py)",
    )


@pytest.fixture
def harness(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs load the conformance plugin, as the root conftest does in this checkout."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest('pytest_plugins = ["conformance.plugin", "conformance.report"]')
    return pytester


def torch_known_failures_here() -> dict[str, known_failures.Entry]:
    """Spec ID -> known-failures entry, of the specs torch itself is known to fail on the installed torch
    (``backends/known_failures/torch.json``, the entries whose versions apply: on every release three float64
    kernels right to float32's precision only, in the ``float64`` check; before 2.15 the Bessel functions'
    gradients, before 2.14 and 2.12 two double backwards)."""
    from backends.torch_backend import TorchBackend

    return known_failures.load(TorchBackend.known_failures_file).entries


class OneElementFor0d(TorchBackend):
    """torch, but a 0-d result comes back of shape (1,) (as jittor's do: it has no 0-d tensor), ``scale`` times it."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def to_numpy(self, tensor):
        array = super().to_numpy(tensor)
        return array.reshape(1) * self.scale if array.ndim == 0 else array
