"""pytest plugin: a fuzz item (``fuzz.<operator>``) that kills its xdist worker names the program that did it.

Each item writes its records to a folder of its own under ``--fuzz-out`` (:func:`item_folder`), and its flight
record there before each oracle runs the engine (:mod:`.crashes`). When the worker dies, the controller reads the
record back here, writes it as a deviation record of kind ``crashed`` with its reproduction, and adds both to the
crash's message, which the report's ``crashed`` verdict carries. Imports of the fuzzer wait for a crash: the plugin
loads in every run, hypothesis is the ``fuzz`` extra's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest


def item_folder(out: Path, callspec_id: str) -> Path:
    """The folder of the fuzz item with ``callspec_id`` (``fuzz.cumsum-jittor``) under ``out``."""
    return out / re.sub(r"[^\w.-]+", "_", callspec_id)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport) -> None:
    """On the xdist controller, before the report takes the crash: the program a fuzz item died in."""
    parameters = re.search(r"\[(.*)\]$", crashitem)
    config = getattr(getattr(report, "node", None), "config", None)
    if parameters is None or config is None or config.getoption("fuzz_out", None) is None:
        return
    from .crashes import FLIGHT_RECORD, crashed_deviation

    folder = item_folder(config.getoption("fuzz_out"), parameters[1])
    crash = crashed_deviation(folder / FLIGHT_RECORD, "with its worker (a crash, or a hang its watchdog ended)")
    if crash is None:
        return
    record = crash.write(folder)
    report.longrepr = (
        f"{report.longrepr}\nthe engine crashed running {crash.signature} on its inputs: record {record} "
        f"(reproduction {record.with_suffix('.py')})"
    )
