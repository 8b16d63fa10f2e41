"""Holdouts: a batch of plausible engine bugs that no spec was written against, to measure the suite's kill rate.

Selectable as ``--backend=holdout:<name>``. Unlike a mutant (:mod:`backends.mutants`), a holdout names no spec
meant to catch it: nobody knows which spec, if any, does. ``python -m conformance.kill_rate`` runs the whole
suite on every holdout and records which specs fail it; the fraction caught is the suite's kill rate on bugs it
was not tuned to.

Each holdout is a :class:`~backends.torch_backend.TorchBackend` subclass registered with :func:`holdout`, in one
of this package's modules: torch with one silent wrong result, as an engine's own kernel, module, optimizer or
tape could get it wrong (no exception, no "everything doubled"). Its docstring says the bug; its ``probe(backend)``
runs the buggy behaviour directly and returns what it observes as plain data (held in the backend's
:meth:`~backends.contract.Backend.spec_scope`, as the harness holds a spec); ``torch_gives`` is what the probe
observes on torch. ``tests/test_holdout.py`` proves that every probe observes ``torch_gives`` on torch and
something else on its holdout: a holdout that does not change behaviour is no holdout.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from ..torch_backend import TorchBackend

#: the areas the batch spreads over: the engine's parts whose bugs it plants
AREAS = (
    "dtypes",
    "shapes",
    "in-place",
    "version counters",
    "hooks",
    "requires_grad",
    "grad mode",
    "nn modules",
    "optimizers",
    "fine-tuning",
    "detach",
    "autograd.grad",
)

#: name -> holdout class; filled by importing this package's modules
HOLDOUTS: dict[str, type[TorchBackend]] = {}


def holdout(name: str, *, area: str, torch_gives: Any) -> Callable[[type[TorchBackend]], type[TorchBackend]]:
    """Register a buggy backend as ``holdout:<name>``, in ``area`` (one of :data:`AREAS`), whose ``probe`` observes
    ``torch_gives`` on torch."""

    def register(cls: type[TorchBackend]) -> type[TorchBackend]:
        if not cls.__doc__:
            raise ValueError(f"holdout {name!r} needs a docstring saying its bug")
        if area not in AREAS:
            raise ValueError(f"holdout {name!r}: unknown area {area!r}; known: {', '.join(AREAS)}")
        if not callable(cls.__dict__.get("probe")):
            raise ValueError(f"holdout {name!r} needs a probe(backend) of its own")
        if HOLDOUTS.setdefault(name, cls) is not cls:
            raise ValueError(f"holdout {name!r} is registered twice")
        cls.holdout_name = name
        cls.area = area
        cls.torch_gives = torch_gives
        cls.engine = f"torch (holdout {name})"
        return cls

    return register


def bug(cls: type[TorchBackend]) -> str:
    """The first paragraph of a holdout's docstring, on one line: its bug in words."""
    return " ".join(cls.__doc__.strip().split("\n\n")[0].split())


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
