"""Mutants: deliberately broken variants of the torch backend, each breaking one documented behaviour.

Selectable as ``--backend=mutant:<name>``. Each mutant names the spec meant to catch it (``breaks``); the
project's tests prove the torch backend passes every spec and every mutant fails the spec meant for it,
which is how the suite shows that its specs can fail. A mutant may also name specs it ``keeps``: ones it must
pass, such as the refusal spec that a mutant refusing in its own words (failing the surface spec) still
satisfies.

A mutant is a :class:`~backends.torch_backend.TorchBackend` subclass registered with :func:`mutant` in one
of this package's modules, one module per area of the documentation.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from ..torch_backend import TorchBackend

#: name -> mutant class; filled by importing this package's modules
MUTANTS: dict[str, type[TorchBackend]] = {}


def mutant(
    name: str, *, breaks: str, keeps: tuple[str, ...] = ()
) -> Callable[[type[TorchBackend]], type[TorchBackend]]:
    """Register a broken backend as ``mutant:<name>``, caught by the spec whose ID is ``breaks`` and passing the
    specs whose IDs are in ``keeps``."""

    def register(cls: type[TorchBackend]) -> type[TorchBackend]:
        if not cls.__doc__:
            raise ValueError(f"mutant {name!r} needs a docstring saying what it breaks")
        if MUTANTS.setdefault(name, cls) is not cls:
            raise ValueError(f"mutant {name!r} is registered twice")
        cls.mutant_name = name
        cls.breaks = breaks
        cls.keeps = keeps
        cls.engine = f"torch (mutant {name})"
        return cls

    return register


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
