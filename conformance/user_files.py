"""Reading a file a user names (a known-failures file): UTF-8, bounded, a regular file only, so that a wrong path
(``/dev/zero``, a FIFO, a huge or deeply nested file) is a usage error naming it, never a hang, a MemoryError or
a RecursionError."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

#: the largest file read: a known-failures file of every spec of the suite is some tens of kilobytes
MAX_BYTES = 1 << 20


def read_json(path: Path, max_bytes: int = MAX_BYTES) -> Any:
    """The JSON value in ``path``; ValueError or OSError saying what is wrong (not a regular file, larger than
    ``max_bytes``, not UTF-8, not JSON, nested too deeply)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once, then is refused
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ValueError("not a regular file (a directory, FIFO or device)")
        content = file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ValueError(f"larger than {max_bytes} bytes")
    try:
        return json.loads(content.decode("utf-8"))
    except RecursionError:
        raise ValueError("nested too deeply") from None
