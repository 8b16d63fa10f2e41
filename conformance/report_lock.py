"""One run at a time writes a report path.

Two runs writing one report would hide each other: the second's placeholder replaces the first's, and if the
first then dies, the second's complete report leaves no trace of it. So each run holds an exclusive lock on
every report path it writes, for the whole run: a lock file beside the report (``.NAME.lock``), locked with
``flock``, which the kernel releases when the process ends, however it ends, so a dead run never leaves a stale
lock. A second run asking for a held path is refused at startup, naming the run that holds it.

The lock file is removed when the run ends; a run that finds it locked but replaced (removed by its holder
between our open and our lock) opens it again. On a platform without ``fcntl`` (Windows) there is no lock.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None

#: bytes of the holder's description read back from a held lock file
HOLDER_BYTES = 1000


class ReportBusy(Exception):
    """Another live run holds the lock on a report path."""


def lock_path(report: Path) -> Path:
    return report.with_name(f".{report.name}.lock")


class ReportLocks:
    """The locks this run holds on its report paths."""

    def __init__(self) -> None:
        self.held: dict[Path, int] = {}

    def acquire(self, report: Path) -> None:
        """Lock ``report`` for this run, or raise :class:`ReportBusy` naming the run that holds it."""
        if fcntl is None or report in self.held:
            return
        path = lock_path(report)
        while True:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(descriptor, HOLDER_BYTES).decode("utf-8", "replace").strip() or "another run"
                os.close(descriptor)
                raise ReportBusy(f"{holder} is writing {report}") from None
            if same_file(descriptor, path):
                break
            os.close(descriptor)  # its holder removed it after our open: lock the one there now
        started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"the run of pid {os.getpid()} started {started}".encode())
        self.held[report] = descriptor

    def release(self) -> None:
        """Remove the lock files and let go of the locks (removed first, so that no run locks a file that is
        about to go)."""
        for report, descriptor in self.held.items():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock_path(report))
            os.close(descriptor)
        self.held.clear()


def same_file(descriptor: int, path: Path) -> bool:
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    here = os.fstat(descriptor)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)
