"""pytest plugin: a spec that will not stop at its time limit still ends, and the report says so.

pytest-timeout stops a spec with an alarm (SIGALRM, its default method), or with a timer thread that ends the
process. An engine can defeat both: it ignores the alarm or replaces its handler, catches the exception the
handler raises, or (in a serial run, where :mod:`conformance.exits` refuses ``os._exit`` inside a spec) keeps
the timer thread from ending the process. Then the run would hang past every limit. So beside each of
pytest-timeout's timers this plugin starts a watchdog thread, cancelled with the timer; if the spec is still
running a grace period after its limit:

1. it raises :class:`Overran` in the main thread (an asynchronous exception, checked between bytecodes:
   neither a signal nor a handler the engine can replace), which fails the spec as timed out, and the run
   goes on;
2. if the spec still runs a grace period later (the engine caught that too, or hangs in native code, where no
   Python exception reaches it), the run cannot go on in this process: a serial run writes its report (every
   verdict so far, this spec timed out, the rest not run, the run interrupted) and exits with status 2; an
   xdist worker exits, and its controller reports the spec as crashed and starts a new worker.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from os import _exit as exit_process  # the real one: a serial run refuses os._exit during a spec (exits.py)
from typing import Any

import pytest

from .verdicts import TIMEOUT_MESSAGE_START

#: seconds after a spec's limit before each step; less for a limit below it (the limit itself then)
GRACE_S = 5.0
#: the report plugin's registered name (:mod:`conformance.report`)
REPORT_PLUGIN = "conformance-report"


class Overran(pytest.fail.Exception):
    """The spec ran past its time limit and the alarm did not stop it: raised in the main thread by the
    watchdog. Its message begins as pytest-timeout's, so the verdict is ``timed-out``."""

    limit = 0.0

    def __init__(self) -> None:  # raised asynchronously: built without arguments
        super().__init__(
            f"{TIMEOUT_MESSAGE_START}{self.limit:g}s): the spec went on past its time limit (the engine ignored, "
            "caught or outlasted pytest-timeout's stop); stopped by the harness's watchdog",
            pytrace=False,
        )


WATCHDOG = pytest.StashKey["Watchdog"]()


def grace(limit: float) -> float:
    return min(GRACE_S, limit)


class Watchdog:
    """The watchdog of one spec's run under a time limit."""

    def __init__(self, item: pytest.Item, limit: float) -> None:
        self.item, self.limit = item, limit
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, name=f"conformance watchdog {item.nodeid}", daemon=True)

    def watch(self) -> None:
        if self.done.wait(self.limit + grace(self.limit)):
            return
        overran = type("Overran", (Overran,), {"limit": self.limit})
        raise_in_main_thread(overran)
        if self.done.wait(grace(self.limit)):
            return
        abandon(self.item, self.limit)

    def cancel(self) -> None:
        self.done.set()
        self.thread.join()


def raise_in_main_thread(exception: type[BaseException]) -> None:
    """Raise ``exception`` in the main thread at its next bytecode (CPython's ``PyThreadState_SetAsyncExc``)."""
    main = ctypes.c_ulong(threading.main_thread().ident)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(main, ctypes.py_object(exception))


def abandon(item: pytest.Item, limit: float) -> None:
    """End the process running a spec that nothing stops, after saying why (and, in a serial run, writing the
    report)."""
    why = (
        f"{item.nodeid} went on {2 * grace(limit):g} s past its time limit of {limit:g} s and did not stop "
        "(the engine ignores the alarm and the harness's exception, or hangs in native code)"
    )
    report = item.config.pluginmanager.get_plugin(REPORT_PLUGIN)
    worker = hasattr(item.config, "workerinput")
    if report is not None and not worker:
        report.abandon(item.nodeid, why)
    advice = "the worker's controller reports it as crashed" if worker else "--isolate keeps the run going past it"
    if (capture := item.config.pluginmanager.get_plugin("capturemanager")) is not None:
        capture.suspend_global_capture(in_=True)  # what is written next reaches the terminal
    sys.stderr.write(f"\nconformance watchdog: {why}; the run ends here ({advice})\n")
    sys.stderr.flush()
    exit_process(int(pytest.ExitCode.INTERRUPTED))


@pytest.hookimpl(wrapper=True, optionalhook=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> Any:
    """Start a watchdog beside each time limit pytest-timeout sets (in the main thread, where specs run)."""
    started = yield
    if threading.current_thread() is threading.main_thread() and settings.timeout:
        watchdog = item.stash[WATCHDOG] = Watchdog(item, float(settings.timeout))
        watchdog.thread.start()
    return started


@pytest.hookimpl(wrapper=True, optionalhook=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> Any:
    if (watchdog := item.stash.get(WATCHDOG, None)) is not None:
        watchdog.cancel()
        del item.stash[WATCHDOG]
    return (yield)
