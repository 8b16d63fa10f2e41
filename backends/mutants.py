"""Mutants: deliberately broken variants of the torch backend, each breaking one documented behaviour.

Selectable as ``--backend=mutant:<name>``. The project's tests prove that every mutant is caught by the
spec meant for it, which is how the suite shows that its specs can fail.
"""

from __future__ import annotations

from collections.abc import Callable

from .contract import Backend

#: name -> factory of the broken backend
MUTANTS: dict[str, Callable[[], Backend]] = {}
