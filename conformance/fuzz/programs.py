"""A program as data: the catalogue operators it chains, the shape the first one sees, the view its input is seen
through and the seed of its cotangent and directions; and the hypothesis strategy that draws programs and inputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from conformance.gradcheck import KINK_MARGIN, Op

from .operators import SHAPES, Chainable

#: how a program's input reaches its first operator: as drawn, transposed (``x.mT``), or every other row
#: (``x[::2]``), the last two non-contiguous views of a leaf of another shape
VIEWS = ("none", "transpose", "stride")
#: where the first operator's domain is all reals, inputs are drawn from this interval
UNBOUNDED = (-2.0, 2.0)
#: the smallest nonzero magnitude of an input element
SMALLEST = 2.0**-20


@dataclass(frozen=True)
class Program:
    operators: tuple[str, ...]
    shape: tuple[int, ...]
    view: str
    seed: int

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Program:
        return cls(tuple(data["operators"]), tuple(data["shape"]), data["view"], int(data["seed"]))

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
            [self.leaf_shape()],
            forward_mode=all(op.forward_mode for op in chain),
            second_order=all(op.second_order for op in chain),
            rounding_scale=max(op.rounding_scale for op in chain),
            oracle=self.chained([op.oracle or op.fn for op in chain]) if has_formulation else None,
        )

    def chained(self, functions: list) -> Callable:
        """``fn(lib, x)``: the view, then each of ``functions`` (an operator's ``fn(lib, value)``) in turn; the
        oracle's takes each operator's own formulation where it has one (:mod:`conformance.formulations`)."""

        def fn(lib, x):
            value = self.viewed(x)
            for function in functions:
                value = function(lib, value)
            return value

        return fn

    def randomness(self, output_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The cotangent (of the output's shape) and the input direction the checks use, from :attr:`seed`."""
        generator = np.random.default_rng(self.seed)
        return generator.standard_normal(output_shape), generator.standard_normal(self.leaf_shape())


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


@st.composite
def cases(
    draw, entries: dict[str, Chainable], most_operators: int = 3, first: str | None = None
) -> tuple[Program, np.ndarray]:
    """A program of 1 to ``most_operators`` operators of ``entries`` and its float64 input, the first operator
    (``first`` where given) taking the drawn shape and each next one its predecessor's output shape."""
    starters = [entries[first]] if first is not None else entries.values()
    shape = draw(st.sampled_from([s for s in SHAPES if any(e.output_shape(s) for e in starters)]))
    views = ["none", *(["transpose"] if len(shape) >= 2 else []), *(["stride"] if len(shape) >= 1 else [])]
    view = draw(st.sampled_from(views))
    length = draw(st.integers(1, most_operators))
    names, current = [], shape
    for _ in range(length):
        named = [first] if first is not None and not names else sorted(entries)
        candidates = [name for name in named if entries[name].output_shape(current)]
        if not candidates:
            break
        names.append(draw(st.sampled_from(candidates)))
        current = entries[names[-1]].output_shape(current)
    program = Program(tuple(names), shape, view, draw(st.integers(0, 2**31 - 1)))
    low, high = input_interval(entries[names[0]].op)
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False).map(snapped_to_zero)
    return program, draw(arrays(np.float64, program.leaf_shape(), elements=elements, unique=True))
