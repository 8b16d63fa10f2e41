"""pytest plugin: a hanging or crashing engine costs one spec, not the run.

Hangs: every spec gets a time limit, :data:`DEFAULT_TIMEOUT` seconds unless pytest-timeout is configured
(``--timeout=SECONDS``, ``0`` for none, or its ``timeout`` ini setting or ``PYTEST_TIMEOUT``). pytest-timeout's
default method on POSIX (a signal) fails the spec and the run goes on; the report calls it ``timed-out``.

Crashes: a segfault or abort kills the process running the spec. Under ``pytest -n N`` pytest-xdist reports the
spec the worker died in and starts a new worker (up to ``--max-worker-restart``); the report calls it
``crashed``. ``--isolate`` asks for that for a serial run: the specs run in one xdist worker (``-n 1``), so the
run survives a crash at the cost of one worker start per crash. A worker process is cheaper and safer than a
fork per spec (pytest-forked): torch's thread pools do not survive ``fork``, and a fork per spec would cost
every spec, not only those that crash.
"""

from __future__ import annotations

import os

import pytest

from .catalogue import spec_of

#: seconds a spec may take by default: the slowest spec takes a few seconds on a 2-core CPU
DEFAULT_TIMEOUT = 120.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("conformance").addoption(
        "--isolate",
        action="store_true",
        help="run the specs in a worker process that is replaced when an engine crashes it (pytest-xdist -n 1)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``--isolate`` is ``-n 1`` unless ``-n`` is given (before xdist reads ``-n``; not in the worker itself)."""
    worker = hasattr(config, "workerinput")
    if not config.getoption("isolate") or worker:
        return
    if not config.pluginmanager.hasplugin("xdist"):
        raise pytest.UsageError("--isolate runs the specs in a pytest-xdist worker: do not disable xdist (-p no:xdist)")
    if not config.getoption("numprocesses"):
        config.option.numprocesses = 1


def timeout_configured(config: pytest.Config) -> bool:
    """Whether pytest-timeout was given a limit, in any of its ways (0 included)."""
    return (
        config.getoption("timeout") is not None
        or os.environ.get("PYTEST_TIMEOUT") is not None
        or bool(config.getini("timeout"))
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every spec the default time limit, where pytest-timeout has none (a spec's own mark wins). A run
    that disabled pytest-timeout (``-p no:timeout``) asked for no limit."""
    if not config.pluginmanager.hasplugin("timeout") or timeout_configured(config):
        return
    for item in items:
        if spec_of(item) is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT))
