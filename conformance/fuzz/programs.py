"""A program as data: the catalogue operators it chains, the shape the first one sees, the view its input is seen
through, the shapes of the binary steps' operands (each a leaf input of its own, broadcast against the running
value) and the seed of its cotangent and directions; and the hypothesis strategy that draws programs and inputs."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from conformance.gradcheck import KINK_MARGIN, Op

from .operators import SHAPES, Chainable, operand_shapes

#: how a program's input reaches its first operator: as drawn, transposed (``x.mT``), or every other row
#: (``x[::2]``), the last two non-contiguous views of a leaf of another shape
VIEWS = ("none", "transpose", "stride")
#: where the first operator's domain is all reals, inputs are drawn from this interval
UNBOUNDED = (-2.0, 2.0)
#: the smallest nonzero magnitude of an input element
SMALLEST = 2.0**-20
#: one step in this many is binary, where the pool has binary operators: the draw is an integer that hypothesis
#: shrinks to 0, a unary step, unless the deviation needs the operand
BINARY_ODDS = 4


@dataclass(frozen=True)
class Program:
    """``operands`` has one entry per operator: the shape of a binary step's operand, None for a unary step (empty
    where every step is unary, as in the records of single-input programs)."""

    operators: tuple[str, ...]
    shape: tuple[int, ...]
    view: str
    seed: int
    operands: tuple[tuple[int, ...] | None, ...] = ()

    def __post_init__(self) -> None:
        if all(operand is None for operand in self.operands):
            object.__setattr__(self, "operands", ())  # one spelling of a single-input program, for its key
        elif len(self.operands) != len(self.operators):
            raise ValueError(f"{len(self.operands)} operand shapes for {len(self.operators)} operators")

    def to_json(self) -> dict:
        data = asdict(self)
        if not self.operands:
            del data["operands"]  # a single-input program's record reads as before
        return data

    @classmethod
    def from_json(cls, data: dict) -> Program:
        operands = tuple(None if shape is None else tuple(shape) for shape in data.get("operands", ()))
        return cls(tuple(data["operators"]), tuple(data["shape"]), data["view"], int(data["seed"]), operands)

    def operand_shapes(self) -> list[tuple[int, ...]]:
        """The binary steps' operands' shapes, in order: the program's inputs after the first."""
        return [operand for operand in self.operands if operand is not None]

    def input_shapes(self) -> list[tuple[int, ...]]:
        """Every leaf input's shape: the first operator's input (before the view), then each operand's."""
        return [self.leaf_shape(), *self.operand_shapes()]

    def key(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)

    def leaf_shape(self) -> tuple[int, ...]:
        """The input's shape before the view: the view of it has :attr:`shape`."""
        if self.view == "transpose":
            return (*self.shape[:-2], self.shape[-1], self.shape[-2])
        if self.view == "stride":
            return (2 * self.shape[0] - 1, *self.shape[1:])
        return self.shape

    def viewed(self, x):
        """The leaf ``x`` (any engine's tensor) as the first operator sees it."""
        return x.mT if self.view == "transpose" else x[::2] if self.view == "stride" else x

    def as_op(self, entries: dict[str, Chainable]) -> Op:
        """The program as one catalogue-style operator, so that :mod:`conformance.gradcheck` runs it as it runs
        an entry: torch has forward mode and second derivatives for it where it has them for every step."""
        chain = [entries[name].op for name in self.operators]
        has_formulation = any(op.oracle is not None for op in chain)
        return Op(
            self.chained([op.fn for op in chain]),
            self.input_shapes(),
            forward_mode=all(op.forward_mode for op in chain),
            second_order=all(op.second_order for op in chain),
            rounding_scale=max(op.rounding_scale for op in chain),
            oracle=self.chained([op.oracle or op.fn for op in chain]) if has_formulation else None,
        )

    def chained(self, functions: list) -> Callable:
        """``fn(lib, x, *operands)``: the view of ``x``, then each of ``functions`` in turn, an operator's
        ``fn(lib, value)``, or a binary step's ``fn(lib, value, operand)`` with the next of ``operands``; the
        oracle's takes each operator's own formulation where it has one (:mod:`conformance.formulations`)."""
        binary = [operand is not None for operand in self.operands] or [False] * len(functions)

        def fn(lib, x, *operands):
            value, given = self.viewed(x), iter(operands)
            for function, takes_operand in zip(functions, binary, strict=True):
                value = function(lib, value, next(given)) if takes_operand else function(lib, value)
            return value

        return fn

    def randomness(self, output_shape: tuple[int, ...]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The cotangent (of the output's shape) and the direction the checks use (one array per input), from
        :attr:`seed`; a single-input program's are those of the version before operands."""
        generator = np.random.default_rng(self.seed)
        cotangent = generator.standard_normal(output_shape)
        return cotangent, [generator.standard_normal(shape) for shape in self.input_shapes()]


def input_interval(op: Op) -> tuple[float, float]:
    """Where an operator's input is drawn: its catalogue domain, or :data:`UNBOUNDED`."""
    return (0.5, 1.5) if op.positive else op.domain or UNBOUNDED


def within_domain(op: Op, values: np.ndarray) -> bool:
    """Whether every value is in the operator's domain (the positive reals for ``positive``, its catalogue
    interval for ``domain``) and :data:`~conformance.gradcheck.KINK_MARGIN` from each of its kinks: a chained
    operator sees its predecessor's output, which no draw kept there."""
    if op.positive and not (values >= KINK_MARGIN).all():
        return False
    if op.domain is not None and not ((values >= op.domain[0]) & (values <= op.domain[1])).all():
        return False
    return all((np.abs(values - kink) >= KINK_MARGIN).all() for kink in op.kinks)


def snapped_to_zero(value: float) -> float:
    """0 for a magnitude below :data:`SMALLEST`, else the value: hypothesis favours values like 1e-282, where
    formulas that divide by the input (cumprod's backward) lose their derivatives entirely; underflow is left
    out of this version."""
    return 0.0 if abs(value) < SMALLEST else value


def off_kinks(op: Op) -> Callable[[float], float]:
    """The value moved to :data:`~conformance.gradcheck.KINK_MARGIN` from the nearest of ``op``'s kinks where it is
    nearer, on its side, as the catalogue's draws are (:meth:`Op.draw`): hypothesis favours 0, relu's and abs's
    kink, and the instability filter would discard most programs of a kinked first operator otherwise."""

    def moved(value: float) -> float:
        for kink in op.kinks:
            if abs(value - kink) < KINK_MARGIN:
                return kink + math.copysign(KINK_MARGIN, value - kink)
        return value

    return moved


def drawn_array(draw, op: Op, shape: tuple[int, ...]) -> np.ndarray:
    """A float64 array of ``shape``, unique elements in ``op``'s :func:`input_interval`, tiny ones snapped to 0 and
    those near a kink moved off it (:func:`off_kinks`). No subnormal is drawn (it would be snapped to 0 anyway):
    hypothesis refuses to draw them where the process flushes them to zero, as jittor's import makes it do."""
    low, high = input_interval(op)
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    elements = elements.map(snapped_to_zero).map(off_kinks(op))
    return draw(arrays(np.float64, shape, elements=elements, unique=True))


def taking(entries: dict[str, Chainable], kinds: list[list[str]], shape: tuple[int, ...]) -> list[str]:
    """The operators of the first of ``kinds`` (lists of names) of which any takes ``shape``: the kind drawn for a
    step, else the other."""
    for kind in kinds:
        if candidates := [name for name in kind if entries[name].takes(shape)]:
            return candidates
    return []


@st.composite
def cases(
    draw, entries: dict[str, Chainable], most_operators: int = 3, first: str | None = None
) -> tuple[Program, list[np.ndarray]]:
    """A program of 1 to ``most_operators`` operators of ``entries`` and its float64 inputs, the first operator
    (``first`` where given) taking the drawn shape and each next one its predecessor's output shape. A step is
    binary one time in :data:`BINARY_ODDS` (where ``entries`` has binary operators): its operand's shape is drawn
    among those broadcasting with the running value (:func:`~.operators.operand_shapes`), and its elements in the
    binary operator's domain, as the first input's are in the first operator's."""
    starters = [entries[first]] if first is not None else entries.values()
    shape = draw(st.sampled_from([s for s in SHAPES if any(e.takes(s) for e in starters)]))
    views = ["none", *(["transpose"] if len(shape) >= 2 else []), *(["stride"] if len(shape) >= 1 else [])]
    view = draw(st.sampled_from(views))
    length = draw(st.integers(1, most_operators))
    unary = sorted(name for name, entry in entries.items() if not entry.binary)
    binary = sorted(name for name, entry in entries.items() if entry.binary)
    names, operands, current = [], [], shape
    for _ in range(length):
        if first is not None and not names:
            kinds = [[first]]
        elif binary and (not unary or draw(st.integers(0, BINARY_ODDS - 1)) == BINARY_ODDS - 1):
            kinds = [binary, unary]
        else:
            kinds = [unary, binary]
        candidates = taking(entries, kinds, current)
        if not candidates:
            break
        names.append(draw(st.sampled_from(candidates)))
        entry = entries[names[-1]]
        operands.append(draw(st.sampled_from(operand_shapes(current))) if entry.binary else None)
        current = entry.output_shape_with(current, operands[-1])
    program = Program(tuple(names), shape, view, draw(st.integers(0, 2**31 - 1)), tuple(operands))
    inputs = [drawn_array(draw, entries[names[0]].op, program.leaf_shape())]
    for name, operand in zip(names, operands, strict=True):
        if operand is not None:
            inputs.append(drawn_array(draw, entries[name].op, operand))
    return program, inputs
