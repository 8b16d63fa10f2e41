"""pytest plugin: a run ends through pytest, so that it writes its report and its exit status tells the truth.

- **SIGTERM** (what CI timeouts and process managers send) interrupts the run as Ctrl-C does: the report keeps
  every verdict obtained, lists the rest as not run, and says the run was terminated (exit status 2).
- **os._exit** called from Python inside a spec, or while the backends load, would end a serial run with the
  status the engine chose (``os._exit(0)``: a green run with the placeholder report). There it raises
  :class:`EngineExit` instead: the spec fails, the backend is a usage error. A process forked meanwhile exits
  as asked, and so does an xdist worker (its controller reports the spec as crashed). An exit from native code
  (C ``exit``) cannot be caught in the process: ``--isolate`` runs the specs in a worker for that.

(PYTEST_DONT_REWRITE: :mod:`conformance.plugin` imports this plugin before pytest registers it, and it asserts
nothing.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

#: the KeyboardInterrupt's message when SIGTERM stops the run (the report's reason)
TERMINATED = "terminated by SIGTERM"
PREVIOUS_HANDLER = pytest.StashKey[Any]()


class EngineExit(Exception):
    """``os._exit`` was called where the harness must go on."""


def interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(TERMINATED)


@contextlib.contextmanager
def refused(where: str) -> Iterator[None]:
    """Within the block, ``os._exit`` in this process raises :class:`EngineExit` naming ``where``."""
    real_exit, owner = os._exit, os.getpid()

    def refuse(status: int) -> None:
        if os.getpid() != owner:
            real_exit(status)
        raise EngineExit(f"os._exit({status}) called {where}: the harness goes on and reports")

    os._exit = refuse
    try:
        yield
    finally:
        os._exit = real_exit


def pytest_sessionstart(session: pytest.Session) -> None:
    if threading.current_thread() is threading.main_thread():
        session.config.stash[PREVIOUS_HANDLER] = signal.signal(signal.SIGTERM, interrupt)


def pytest_unconfigure(config: pytest.Config) -> None:
    if PREVIOUS_HANDLER in config.stash:
        signal.signal(signal.SIGTERM, config.stash[PREVIOUS_HANDLER])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    if hasattr(item.config, "workerinput"):
        return (yield)
    with refused("inside the spec"):
        return (yield)
