"""The catalogue entries a program can chain, found by running them on the float64 oracle rather than by a hand-kept
list: single-input operators and the shapes each accepts, and binary operators that broadcast (two differentiable
inputs whose output has their broadcast shape, whichever of them is the larger), which combine a program's running
value with a second input of its own."""

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
    """A catalogue entry a program can chain: ``name`` is its spec ID's behaviour. A unary one takes the running
    value alone; a ``binary`` one takes it as its first input and an operand of its own as its second, of any
    shape of :func:`operand_shapes` (they broadcast)."""

    name: str
    op: Op
    binary: bool = False

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...] | None:
        """The shape of the output on a running value of ``shape`` (a unary operator's), or None where the oracle
        refuses it (or its output is empty, too large, or not differentiable); a binary operator's output depends on
        its operand too (:meth:`output_shape_with`), and this is its output with an operand of the same shape."""
        if self.binary:
            return self.output_shape_with(shape, shape)
        return probed_output_shape(self, shape)

    @property
    def kinked_where_inputs_meet(self) -> bool:
        """Whether the binary operator's gradient jumps where its two inputs are equal (:func:`kinked_at_ties`)."""
        return self.binary and kinked_at_ties(self)

    def takes(self, shape: tuple[int, ...]) -> bool:
        """Whether a program chains the operator on a running value of ``shape``: a binary operator on every shape of
        :data:`SHAPES`; a unary one where the oracle computes it (a full reduction's 0-d output included), but on a
        0-d value only where its output is not 0-d too (``expand``, ``unsqueeze``): torch takes ``dim=0`` and
        ``dim=-1`` of a 0-d tensor as of a 1-d one, which the catalogue's ``amin(dim=0)``, ``cummin(dim=0)`` and
        ``mean(-1, keepdim=True)`` would then use, and other engines refuse, an API difference rather than a
        gradient to check (`opgrad.*-0d` entries check 0-d tensors)."""
        if self.binary:
            return bool(operand_shapes(shape))
        output = self.output_shape(shape)
        return output is not None and (shape != () or output != ())

    def output_shape_with(self, shape: tuple[int, ...], operand: tuple[int, ...] | None) -> tuple[int, ...] | None:
        """The output's shape with an operand of shape ``operand`` (None for a unary operator)."""
        if not self.binary:
            return self.output_shape(shape)
        return tuple(np.broadcast_shapes(shape, operand)) if operand in operand_shapes(shape) else None


def broadcast_variants(shape: tuple[int, ...]) -> set[tuple[int, ...]]:
    """The shapes that broadcast to ``shape`` by NumPy's rules: fewer leading dimensions, and any of the rest of
    size 1."""
    variants = set()
    for start in range(len(shape) + 1):
        kept = shape[start:]
        for ones in np.ndindex(*(2,) * len(kept)):
            variants.add(tuple(1 if one else size for one, size in zip(ones, kept, strict=True)))
    return variants


#: every shape a binary operator's operand takes: those that broadcast to one of :data:`SHAPES`
OPERAND_SHAPES = tuple(sorted(set().union(*map(broadcast_variants, SHAPES)), key=lambda s: (int(np.prod(s)), s)))


@functools.cache
def operand_shapes(shape: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """The operands a binary operator takes with a running value of ``shape``: those whose broadcast with it is one
    of :data:`SHAPES` (so the operators after it are probed on it), in both directions (the operand broadcast up to
    the value, and the value broadcast up by the operand); the same shape first, then by size, so that hypothesis
    shrinks towards no broadcasting where the deviation needs none."""

    def broadcast(operand):
        try:
            return tuple(np.broadcast_shapes(shape, operand))
        except ValueError:
            return None

    fitting = [operand for operand in OPERAND_SHAPES if broadcast(operand) in SHAPES]
    return tuple(sorted(fitting, key=lambda operand: operand != shape))


@functools.cache
def probed_output_shape(entry: Chainable, *shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape of ``entry``'s output on inputs of ``shapes``, as the oracle computes it, or None (see
    :meth:`Chainable.output_shape`)."""
    low, high = (0.5, 1.5) if entry.op.positive else entry.op.domain or (-1.0, 1.0)
    generator = np.random.default_rng(0)
    arrays = [generator.uniform(low, high, size=shape) for shape in shapes]
    try:
        with as_shipped(), warnings.catch_warnings():
            warnings.simplefilter("error")  # a deprecated use (mT of a 0-d tensor), a degenerate one (var of one)
            output = forward(ORACLE, entry.op, arrays, np.float64)
            _, grads = gradients(ORACLE, entry.op, arrays, np.ones_like(output), np.float64)
    except Exception:  # any refusal means the operator does not take these shapes
        return None
    usable = output.dtype == np.float64 and 0 < output.size <= LARGEST_OUTPUT
    usable = usable and [grad.shape for grad in grads] == list(shapes)
    if not usable or not (np.isfinite(output).all() and all(np.isfinite(grad).all() for grad in grads)):
        return None
    return tuple(output.shape)


def broadcasts(entry: Chainable) -> bool:
    """Whether a two-input entry computes on every pair of a running value's shape and its operands' (each of
    :data:`SHAPES` with each of :func:`operand_shapes`) an output of their broadcast shape, with a finite gradient
    of each input's shape: an elementwise operator that broadcasts its operands both ways (``x * y``,
    ``x.atan2(y)``), not one that broadcasts one way only (an in-place ``add_``), contracts (``x @ y``) or
    reduces (a loss)."""
    return all(
        probed_output_shape(entry, shape, operand) == tuple(np.broadcast_shapes(shape, operand))
        for shape in SHAPES
        for operand in operand_shapes(shape)
    )


def supported(entry: Entry, engine: Backend) -> bool:
    """Whether ``engine`` declares every capability the entry needs and lacks none of the members it uses."""
    lacked = {member for name in entry.needs & engine.lacks.keys() for member in engine.lacks[name]}
    return entry.needs <= engine.capabilities and not entry.uses & lacked


#: how far apart the two inputs are set, either way, where :func:`kinked_at_ties` compares the gradients
TIE_STEP = 1e-3
#: a gradient that changes by more than this (absolute, and relative to its size) across a tie jumps there
TIE_JUMP = 0.05


@functools.cache
def kinked_at_ties(entry: Chainable) -> bool:
    """Whether the oracle's gradient of a binary operator jumps across the line where its inputs meet: compared at
    ``(a, a + δ)`` and ``(a, a - δ)`` for a few ``a`` of its domain (and 0 where in it). maximum, minimum, fmax,
    fmin (a tie), remainder (``x / y`` crosses 1) and hypot (at the origin) do; add, mul, pow, atan2, logaddexp
    change by δ times a second derivative only. The catalogue declares no such kink, its draws being continuous;
    hypothesis draws equal values on purpose, and at a tie an engine's subgradient is a convention, not a
    derivative to hold it to (the central-difference filters miss a tie along which the function is linear)."""
    low, high = (0.5, 1.5) if entry.op.positive else entry.op.domain or (-1.0, 1.0)
    points = [low + (high - low) * fraction for fraction in (0.2, 0.5, 0.8)] + ([0.0] if low < 0 < high else [])
    for point in points:
        sides = []
        for step in (TIE_STEP, -TIE_STEP):
            arrays = [np.array(point), np.array(point + step)]
            with as_shipped():
                _, grads = gradients(ORACLE, entry.op, arrays, np.array(1.0), np.float64)
            sides.append(np.array([float(grad) for grad in grads]))
        if (np.abs(sides[0] - sides[1]) > TIE_JUMP * (1 + np.abs(sides[0]))).any():
            return True
    return False


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
    return tuple(entry for entry in entries if any(entry.takes(shape) for shape in SHAPES))


@functools.cache
def binary_entries() -> tuple[Chainable, ...]:
    """Every catalogue entry of two differentiable inputs that :func:`broadcasts`, but those that pin elements of
    their input (``Op.zeros``)."""
    entries = [
        Chainable(entry.name, entry.op, binary=True)
        for entry in CATALOGUE
        if len(entry.op.shapes) == 2 and not entry.op.constant and not entry.op.zeros
    ]
    return tuple(entry for entry in entries if broadcasts(entry))


def program_entries() -> dict[str, Chainable]:
    """Every entry a program can chain, unary and binary, by name."""
    return {entry.name: entry for entry in (*chainable_entries(), *binary_entries())}


def known_failures_of(engine: Backend) -> dict[str, str]:
    """Operator name -> reason, for the catalogue entries the engine's known-failures file lists (where its
    versions apply): the fuzzer leaves them out, and says so, rather than finding them again."""
    if engine.known_failures_file is None:
        return {}
    reasons = known_failures.load(engine.known_failures_file).reasons
    return {spec_id.removeprefix("opgrad."): why for spec_id, why in reasons.items() if spec_id.startswith("opgrad.")}


def pool(engine: Backend, names: list[str] | None = None) -> tuple[dict[str, Chainable], dict[str, str]]:
    """The chainable entries, unary and binary, ``engine`` supports, by name, restricted to ``names`` where given,
    and those left out as the engine's known failures (name -> reason; none are left out of the ``names`` asked for)."""
    support = {entry.name: supported(entry, engine) for entry in CATALOGUE}
    chosen = {name: entry for name, entry in program_entries().items() if support[name]}
    if names is not None:
        unknown = set(names) - chosen.keys()
        if unknown:
            raise ValueError(f"not chainable on {engine.name}: {', '.join(sorted(unknown))}")
        return {name: chosen[name] for name in names}, {}
    known = {name: why for name, why in known_failures_of(engine).items() if name in chosen}
    return {name: entry for name, entry in chosen.items() if name not in known}, known
