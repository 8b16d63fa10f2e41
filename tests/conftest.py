"""The project's own tests: pytester runs the harness on throwaway test files."""

from pathlib import Path

import pytest
import torch._dynamo  # noqa: F401  (see below)

# pytester's in-process runs (``inline_run``) forget the modules first imported during them. torch imports
# torch._dynamo lazily (torch.manual_seed does, in the specs' seeding), and it registers a torch library at
# import, which fails the second time in one process: import it here, before any in-process run.

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
