"""The catalogue entries a program can chain: single-input operators, and the shapes each accepts, found by running
them on the float64 oracle rather than by a hand-kept list."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

from backends import Backend
from conformance import known_failures
from conformance.gradcheck import ORACLE, Op, as_shipped, forward, gradients
from conformance.operator_catalogue import CATALOGUE, Entry

#: the shapes a program's values take: 0-d, size-1 dimensions, small ones, no empty tensor
SHAPES = ((), (1,), (3,), (2, 3), (1, 3), (3, 1), (2, 1, 3), (2, 3, 2))
#: an operator whose output is larger than this (an outer product of a chain) is not chained further
LARGEST_OUTPUT = 64


@dataclass(frozen=True)
class Chainable:
    """A catalogue entry whose operator takes one differentiable input: ``name`` is its spec ID's behaviour."""

    name: str
    op: Op

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...] | None:
        """The shape of the operator's output on an input of ``shape``, or None where the oracle refuses it (or
        its output is empty, too large, or not differentiable)."""
        return probed_output_shape(self, shape)


@functools.cache
def probed_output_shape(entry: Chainable, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    low, high = (0.5, 1.5) if entry.op.positive else entry.op.domain or (-1.0, 1.0)
    arrays = [np.random.default_rng(0).uniform(low, high, size=shape)]
    try:
        with as_shipped(), warnings.catch_warnings():
            warnings.simplefilter("error")  # a deprecated use (mT of a 0-d tensor), a degenerate one (var of one)
            output = forward(ORACLE, entry.op, arrays, np.float64)
            _, (grad,) = gradients(ORACLE, entry.op, arrays, np.ones_like(output), np.float64)
    except Exception:  # any refusal means the operator does not take this shape
        return None
    usable = output.dtype == np.float64 and 0 < output.size <= LARGEST_OUTPUT and grad.shape == shape
    if not usable or not (np.isfinite(output).all() and np.isfinite(grad).all()):
        return None
    return tuple(output.shape)


def supported(entry: Entry, engine: Backend) -> bool:
    """Whether ``engine`` declares every capability the entry needs and lacks none of the members it uses."""
    lacked = {member for name in entry.needs & engine.lacks.keys() for member in engine.lacks[name]}
    return entry.needs <= engine.capabilities and not entry.uses & lacked


@functools.cache
def chainable_entries() -> tuple[Chainable, ...]:
    """Every catalogue entry of one differentiable input that accepts at least one of :data:`SHAPES`, but those
    that pin elements of their input (``Op.zeros``): each is another entry's operator at one point, and the fuzzer
    draws its points itself."""
    entries = [
        Chainable(entry.name, entry.op)
        for entry in CATALOGUE
        if len(entry.op.shapes) == 1 and not entry.op.constant and not entry.op.zeros
    ]
    return tuple(entry for entry in entries if any(entry.output_shape(shape) for shape in SHAPES))


def known_failures_of(engine: Backend) -> dict[str, str]:
    """Operator name -> reason, for the catalogue entries the engine's known-failures file lists (where its
    versions apply): the fuzzer leaves them out, and says so, rather than finding them again."""
    if engine.known_failures_file is None:
        return {}
    reasons = known_failures.load(engine.known_failures_file).reasons
    return {spec_id.removeprefix("opgrad."): why for spec_id, why in reasons.items() if spec_id.startswith("opgrad.")}


def pool(engine: Backend, names: list[str] | None = None) -> tuple[dict[str, Chainable], dict[str, str]]:
    """The chainable entries ``engine`` supports, by name, restricted to ``names`` where given, and those left out
    as the engine's known failures (name -> reason; none are left out of the ``names`` asked for)."""
    support = {entry.name: supported(entry, engine) for entry in CATALOGUE}
    chosen = {entry.name: entry for entry in chainable_entries() if support[entry.name]}
    if names is not None:
        unknown = set(names) - chosen.keys()
        if unknown:
            raise ValueError(f"not chainable on {engine.name}: {', '.join(sorted(unknown))}")
        return {name: chosen[name] for name in names}, {}
    known = {name: why for name, why in known_failures_of(engine).items() if name in chosen}
    return {name: entry for name, entry in chosen.items() if name not in known}, known
