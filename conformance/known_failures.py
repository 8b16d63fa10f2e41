"""Known failures: per backend, the specs an engine is known to fail and what it does instead.

A known-failures file is JSON mapping spec ID to the observed behaviour (the reason)::

    {"grad.vector-backward-needs-gradient": "backward() on a vector sums it instead of raising"}

A backend ships one as :attr:`backends.Backend.known_failures_file`; ``--known-failures=BACKEND=PATH``
gives (or replaces) the file for one backend of the run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends import Backend

from . import user_files
from .catalogue import collect


@dataclass(frozen=True)
class KnownFailures:
    """The known failures of one backend and the file they came from (for error messages)."""

    path: Path
    reasons: dict[str, str]


def load(path: Path) -> KnownFailures:
    """Read and check one file; any problem is a usage error naming the file."""
    try:
        data = user_files.read_json(Path(path))
    except (OSError, ValueError) as error:
        raise pytest.UsageError(f"known-failures file {path}: {error}") from error
    if not isinstance(data, dict) or not all(
        isinstance(key, str) and isinstance(value, str) and value.strip() for key, value in data.items()
    ):
        raise pytest.UsageError(
            f"known-failures file {path}: expected a JSON object mapping spec ID to a non-empty reason string"
        )
    return KnownFailures(Path(path), data)


def parse_option(values: Iterable[str], backend_names: Iterable[str]) -> dict[str, Path]:
    """``--known-failures`` values (``BACKEND=PATH``) as backend name -> path. A backend name has no ``=``, a
    path may."""
    names = set(backend_names)
    paths: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise pytest.UsageError(f"--known-failures={value}: expected BACKEND=PATH")
        if name not in names:
            raise pytest.UsageError(
                f"--known-failures={value}: backend {name!r} is not selected (--backend: {', '.join(sorted(names))})"
            )
        if name in paths:
            raise pytest.UsageError(f"--known-failures: two files for backend {name!r}: {paths[name]} and {path}")
        paths[name] = Path(path)
    return paths


def for_backends(backends: dict[str, Backend], option_values: Iterable[str]) -> dict[str, KnownFailures]:
    """Each selected backend's known failures: the ``--known-failures`` file if given, else the one the
    backend ships, else none."""
    given = parse_option(option_values, backends)
    paths = {name: given.get(name) or backend.known_failures_file for name, backend in backends.items()}
    return {name: load(path) for name, path in paths.items() if path is not None}


def check_ids_exist(known: dict[str, KnownFailures], collected: set[str]) -> None:
    """Raise a usage error for a listed spec ID that is neither collected in this run nor in the suite's
    catalogue (``spec_tests/``): renamed or removed. The suite's catalogue lets a shipped file serve a run
    of one spec module, or of the benchmarks."""
    listed = set().union(*(entry.reasons for entry in known.values()))
    if not listed - collected:
        return
    catalogue = collected | {found.spec.id for found in collect()}
    for entry in known.values():
        if stale := sorted(set(entry.reasons) - catalogue):
            raise pytest.UsageError(
                f"known-failures file {entry.path} lists spec IDs that are not in the catalogue: {', '.join(stale)}"
            )
