"""Turning a ``--backend`` spelling into a :class:`~backends.contract.Backend`.

Spellings, tried in this order:

- a torch device: ``cpu``, ``cuda``, ``cuda:N``, ``mps``, ``xpu``, or any device as ``torch:<device>``;
- ``torch.func`` or ``torch.func:<device>``: torch differentiated by its functional transforms, not its tape;
- ``mutant:<name>``: a deliberately broken torch backend (see :mod:`backends.mutants`);
- ``holdout:<name>``: a plausible engine bug that no spec was written against (see :mod:`backends.holdout`);
- ``benign:<name>[:<device>]``: a correct torch backend that rounds differently (see :mod:`backends.benign`);
- ``slowed:<phase>:<percent>[:<side>][:<device>]``: torch made slower by a known fraction, to measure the regression
  tracker (see :mod:`backends.perf_mutants`);
- a built-in adapter for a third-party engine (:data:`BUILTIN_ADAPTERS`);
- a name registered by an installed package in the :data:`ENTRY_POINT_GROUP` entry-point group;
- ``package.module:attribute`` for an engine that is not installed as a package.

An entry point or ``module:attribute`` may name a Backend instance, a Backend subclass, or a callable that
returns a Backend; the last two are called with no arguments.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib import metadata
from typing import Any

import torch

from . import capabilities
from .contract import Backend, BackendError, BackendLoadError, BackendUnavailable, UnknownBackend

ENTRY_POINT_GROUP = "autograd_conformance.backends"

TORCH_DEVICE_NAMES = ("cpu", "cuda", "mps", "xpu")

#: Third-party engines shipped with the suite: name -> "module:attribute" (the engine is an optional extra).
BUILTIN_ADAPTERS: dict[str, str] = {
    "jax": "backends.jax_backend:JaxBackend",
    "jittor": "backends.jittor_backend:JittorBackend",
    "mygrad": "backends.mygrad_backend:MygradBackend",
    "paddle": "backends.paddle_backend:PaddleBackend",
    "tensorflow": "backends.tensorflow_backend:TensorflowBackend",
    "tinygrad": "backends.tinygrad_backend:TinygradBackend",
}


def entry_points() -> dict[str, metadata.EntryPoint]:
    """Backends registered by installed distributions, by name."""
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def known_backends() -> list[str]:
    """Every spelling this installation accepts, for error messages and ``--help``."""
    from .benign import VARIANTS
    from .holdout import HOLDOUTS
    from .mutants import MUTANTS

    return [
        *TORCH_DEVICE_NAMES,
        "cuda:N",
        "torch:<device>",
        "torch.func",
        "torch.func:<device>",
        *sorted(BUILTIN_ADAPTERS),
        *sorted(entry_points()),
        *(f"mutant:{name}" for name in sorted(MUTANTS)),
        *(f"holdout:{name}" for name in sorted(HOLDOUTS)),
        *(f"benign:{name}[:<device>]" for name in sorted(VARIANTS)),
        "slowed:<phase>:<percent>[:<side>][:<device>]",
        "package.module:attribute",
    ]


def resolve(spelling: str) -> Backend:
    """The backend for one ``--backend`` value, named after that value.

    Raises :class:`UnknownBackend` (listing the known names), :class:`BackendUnavailable` (with the reason)
    or :class:`BackendLoadError` (naming the plug-in and its exception).
    """
    if not spelling.strip():
        raise UnknownBackend(f"empty backend name (an unset variable?); known backends: {', '.join(known_backends())}")
    backend = _construct(spelling)
    try:
        backend.name = spelling
        named = backend.name == spelling
    except Exception:
        named = False
    if not named:
        raise BackendLoadError(f"backend {spelling!r} does not take its --backend spelling as its name")
    check_usable(backend)
    return backend


def check_usable(backend: Backend) -> None:
    """Refuse, once at startup, a backend that declares what it cannot mean (capabilities that do not exist: a
    typo would make specs silently unsupported; declarations of the wrong type) or that cannot describe itself
    or, declaring ``autograd`` or ``vjp``, make one tensor here (an engine that cannot run on this machine would
    otherwise fail every spec). :func:`described` checks ``describe()``."""
    check_declarations(backend)
    step(backend, "engine_version", lambda: backend.engine_version, type_problem(str, "a string"))
    step(backend, "global_state()", backend.global_state, type_problem(dict, "a dict"))
    if backend.capabilities & {capabilities.AUTOGRAD, capabilities.VJP}:
        step(backend, "to_numpy(tensor([1.0]))", lambda: backend.to_numpy(backend.tensor([1.0])), lambda _: None)


def described(backend: Backend) -> dict[str, Any]:
    """``backend.describe()``, refused unless it is a dict with string keys; ``backend``, ``engine``,
    ``engine_version`` and ``device`` strings; the rest JSON scalars or lists of strings."""
    return step(backend, "describe()", backend.describe, description_problem)


def step(backend: Backend, name: str, call: Callable[[], Any], problem: Callable[[Any], str | None]) -> Any:
    """What ``call`` gives: :class:`BackendUnavailable` if it raises, :class:`BackendLoadError` if ``problem``
    finds something wrong with it."""
    try:
        given = call()
    except Exception as exc:
        raise BackendUnavailable(
            f"backend {backend.name!r} cannot run here: {name} raised {type(exc).__name__}: {exc}"
        ) from exc
    if wrong := problem(given):
        raise BackendLoadError(f"backend {backend.name!r}: {name} gave {wrong}")
    return given


def type_problem(expected: type, words: str) -> Callable[[Any], str | None]:
    """A check that a value is an ``expected`` (``words`` in the message)."""
    return lambda value: None if isinstance(value, expected) else f"a {type(value).__name__}; expected {words}"


def is_names(value: object) -> bool:
    """A set (or frozenset) of strings."""
    return isinstance(value, set | frozenset) and all(isinstance(name, str) for name in value)


def description_problem(value: object) -> str | None:
    """What is wrong with a ``describe()`` result (see :func:`described`), or None."""
    if not isinstance(value, dict):
        return f"a {type(value).__name__}; expected a dict"
    for key, item in value.items():
        if not isinstance(key, str):
            return f"a key of type {type(key).__name__}; expected strings"
        text = key in ("backend", "engine", "engine_version", "device")
        scalar = isinstance(item, str) if text else isinstance(item, str | int | float | bool | type(None))
        if not (scalar or (not text and isinstance(item, list) and all(isinstance(x, str) for x in item))):
            expected = "a string" if text else "a JSON scalar or a list of strings"
            return f"{key!r} of type {type(item).__name__}; expected {expected}"
    return None


def check_declarations(backend: Backend) -> None:
    """``capabilities`` a set of known capability names, ``lacks`` a dict of capability name to a set of member
    names, and :attr:`~Backend.name` the ``--backend`` spelling: what the harness reads before any spec runs."""
    declared = backend.capabilities
    if not is_names(declared):
        raise BackendLoadError(
            f"backend {backend.name!r} declares capabilities as {type(declared).__name__} {declared!r}; expected a "
            "frozenset of capability names (frozenset({capabilities.AUTOGRAD, ...}))"
        )
    if unknown := sorted(declared - capabilities.ALL):
        raise BackendLoadError(
            f"backend {backend.name!r} declares unknown capabilities {', '.join(unknown)}; "
            f"known: {', '.join(sorted(capabilities.ALL))}"
        )
    lacks = backend.lacks
    if not (isinstance(lacks, dict) and all(isinstance(key, str) and is_names(value) for key, value in lacks.items())):
        raise BackendLoadError(
            f"backend {backend.name!r} declares lacks as {lacks!r}; expected a dict of capability name to a "
            "frozenset of member names ({'tensor.unary': frozenset({'erfinv'})})"
        )


def _construct(spelling: str) -> Backend:
    from .torch_backend import TorchBackend

    head, _, rest = spelling.partition(":")
    if head in TORCH_DEVICE_NAMES or (head in ("torch", "torch.func") and rest) or spelling == "torch.func":
        device = spelling if head in TORCH_DEVICE_NAMES else rest or "cpu"
        try:
            torch.device(device)
        except RuntimeError as exc:
            raise UnknownBackend(f"backend {spelling!r}: {device!r} is not a torch device ({exc})") from exc
        if head == "torch.func":
            from .torchfunc_backend import TorchFuncBackend

            return TorchFuncBackend(device)
        return TorchBackend(device)
    if head == "mutant":
        from .mutants import MUTANTS

        if rest not in MUTANTS:
            raise UnknownBackend(f"unknown mutant {rest!r}; known mutants: {', '.join(sorted(MUTANTS))}")
        return MUTANTS[rest]("cpu")
    if head == "holdout":
        from .holdout import HOLDOUTS

        if rest not in HOLDOUTS:
            raise UnknownBackend(f"unknown holdout {rest!r}; known holdouts: {', '.join(sorted(HOLDOUTS))}")
        return HOLDOUTS[rest]("cpu")
    if head == "benign":
        from .benign import parse as parse_benign

        return parse_benign(spelling)
    if head == "slowed":
        from .perf_mutants import parse

        return parse(spelling)
    if spelling in BUILTIN_ADAPTERS:
        return _load(spelling, BUILTIN_ADAPTERS[spelling])
    registered = entry_points()
    if spelling in registered:
        return _load(spelling, registered[spelling].value)
    if rest:
        return _load(spelling, spelling)
    raise UnknownBackend(f"unknown backend {spelling!r}; known backends: {', '.join(known_backends())}")


def _load(spelling: str, target: str) -> Backend:
    module_name, _, attribute = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split(".") if attribute else ():
            obj = getattr(obj, part)
    except BaseException as exc:  # SystemExit and the like from a plug-in's import too, but not Ctrl-C
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise BackendLoadError(
            f"backend plug-in {spelling!r} ({target}) failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    if isinstance(obj, Backend):
        return obj
    if callable(obj):
        try:
            made = obj()
        except BackendError:
            raise
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise BackendLoadError(
                f"backend plug-in {spelling!r} ({target}) failed to build: {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(made, Backend):
            return made
        obj = made
    raise BackendLoadError(f"backend plug-in {spelling!r} ({target}) gave {type(obj).__name__}, not a backends.Backend")
