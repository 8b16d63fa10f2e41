"""The checks a program runs, each where the engine declares what it needs, with :mod:`conformance.gradcheck`'s
tolerances: (a) the engine's reverse mode against the float64 oracle under the error model, (b) its forward mode
against its reverse mode (``<u, J t> = <Jᵀ u, t>``), (c) in float64, its gradient against central differences of
its own forward, (d) its second derivatives against the oracle's. Each disagreement names the check of the
specs it falls in (:mod:`conformance.checks`), so that a known failure restricted to one covers it alone.

Every check covers every input of the program: the first, and each binary step's operand, whose gradient is the
sum over the dimensions it was broadcast along. A program is unstable, and checked no further, where a chained
operator's input (a binary step's operand among them) leaves its domain or comes within the kink margin, or where
central differences at steps h and 2h disagree beyond their own tolerance (the difference estimates their
truncation error) as the oracle computes the program too: the count of such programs is reported, never passed
silently. Where the oracle's differences hold steady and the engine's own do not, the engine's forward is at fault
(``unsteady-forward``), not the point."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from backends import Backend, Unsupported
from backends import capabilities as cap
from conformance import checks
from conformance.gradcheck import (
    FD_ATOL,
    FD_RTOL,
    FD_STEP,
    FLOAT32,
    FLOAT64,
    KINK_MARGIN,
    ORACLE,
    SPREAD_FACTOR,
    TOLERANCES,
    TORCHS,
    Expectation,
    as_shipped,
    directional_difference,
    error_ratios,
    forward,
    gradients,
    oracle_second_order,
    second_order,
    tangent_of,
    tolerance,
)
from conformance.plugin import lacked_member_in

from .operators import Chainable
from .programs import Program, within_domain
from .signatures import DIFFERENCES, FORWARD, REVERSE, RUNS, SECOND

if TYPE_CHECKING:
    from .crashes import Flight


@dataclass(frozen=True)
class Finding:
    """One oracle's disagreement: ``kind`` says what disagreed (``forward``, ``gradient``, ``hessian-vector``, their
    shapes ``forward-shape``, ``gradient-shape``, ``hessian-vector-shape``, an exception's type, ``crashed``);
    ``check`` the check of the specs it falls in, as :func:`conformance.gradcheck.check_gradients` names them
    (empty for first order; ``float64`` for a float64 result right to float32's precision only)."""

    oracle: str
    kind: str
    figures: dict
    check: str = ""


@dataclass
class Outcome:
    """What a program's checks came to: findings, or the reason it was not checked (unstable, unsupported by the
    engine, refused by the oracle)."""

    findings: list[Finding] = field(default_factory=list)
    unstable: str | None = None
    unsupported: str | None = None
    refused: str | None = None


class Unstable(Exception):
    """The program's value or derivative is not determined well enough here to hold an engine to it."""


def worst(error: np.ndarray, allowed: np.ndarray) -> dict | None:
    """The figures of the worst element beyond its allowed error, or None where every element is within it."""
    error, allowed = np.atleast_1d(error), np.atleast_1d(np.broadcast_to(allowed, np.shape(error)))
    ratios = error_ratios(error, allowed)
    if not ratios.size or ratios.max() <= 1:
        return None
    at = int(np.argmax(ratios))
    return {
        "ratio": float(ratios.flat[at]),
        "error": float(error.flat[at]),
        "tolerance": float(allowed.flat[at]),
        "element": [int(i) for i in np.unravel_index(at, ratios.shape)],
        "elements_outside": int((ratios > 1).sum()),
    }


def reshaped(actual, shape: tuple[int, ...]) -> tuple[np.ndarray | None, dict | None]:
    """``actual`` as an array of ``shape``, and the figures of its own shape where that is another: its values in
    ``shape`` where only the shape differs (jittor's ``(1,)`` for a 0-d result: the values are still held to the
    oracle's, a wrong shape is no excuse for a wrong value), None where the sizes differ too."""
    actual = np.asarray(actual, dtype=np.float64)
    if actual.shape == tuple(shape):
        return actual, None
    figures = {"shape": list(actual.shape), "expected_shape": list(shape)}
    return (actual.reshape(shape) if actual.size == math.prod(shape) else None), figures


def beyond_allclose(actual, expected, rtol: float, atol: float) -> dict | None:
    """:func:`worst` with ``numpy.testing.assert_allclose``'s tolerance."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return {"shape": list(actual.shape), "expected_shape": list(expected.shape)}
    return worst(np.abs(actual - expected), atol + rtol * np.abs(expected))


@contextlib.contextmanager
def seeded_global_draws(seed: int) -> Iterator[None]:
    """NumPy's global generator seeded for the error model's replicas, and put back afterwards."""
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)


def check_program(
    engine: Backend,
    entries: dict[str, Chainable],
    program: Program,
    inputs: list[np.ndarray],
    flight: Flight | None = None,
) -> Outcome:
    """Run every check the engine declares on the program at ``inputs`` (one array per input of
    :meth:`Program.input_shapes`), each oracle announced to ``flight`` before it runs the engine (which leaves out
    a known crash, :mod:`.crashes`)."""
    op, arrays = program.as_op(entries), list(inputs)
    try:
        with as_shipped():
            output = forward(ORACLE, op, arrays, np.float64)
    except Exception as error:  # the operators' shapes fit, the view does not (view() of a transposed input)
        return Outcome(refused=f"torch refuses the program: {type(error).__name__}")
    cotangent, directions = program.randomness(output.shape)
    try:
        keep_finite(output)
        with as_shipped():
            keep_in_domain(entries, program, arrays)
        with engine.spec_scope():
            findings = list(engine_findings(engine, op, arrays, cotangent, directions, program.seed, flight))
    except Unstable as reason:
        return Outcome(unstable=str(reason))
    except Unsupported as error:
        return Outcome(unsupported=str(error))
    except Exception as error:  # an engine that raises where the oracle computed deviates
        if (lacked := lacked_member_in(error, engine)) is not None:
            return Outcome(unsupported=lacked)
        return Outcome([Finding(RUNS, type(error).__name__, {"message": str(error)[:500]}, checks.failed_in(error))])
    return Outcome(findings)


def keep_finite(output: np.ndarray) -> None:
    """Discard a program whose output overflows on the oracle too (``exp>exp>exp`` at 2): float64's range, not
    the engine, decides its value there, and an error of inf against inf is no figure to hold it to."""
    if not np.isfinite(output).all():
        raise Unstable("the oracle's output is not finite (overflow)")


def keep_in_domain(entries: dict[str, Chainable], program: Program, inputs: list[np.ndarray]) -> None:
    """Raise :class:`Unstable` where an operator's input, as the oracle computes it, leaves its domain: the running
    value, and a binary step's operand (drawn in the domain, but not kept from its kinks); or where a binary step's
    two inputs meet and its gradient jumps there (:func:`~.operators.kinked_at_ties`: maximum at a tie)."""
    value, operands = program.viewed(ORACLE.tensor64(inputs[0])), iter(inputs[1:])
    for name, operand in zip(program.operators, program.operands or [None] * len(program.operators), strict=True):
        if not within_domain(entries[name].op, ORACLE.to_numpy(value)):
            raise Unstable(f"the input of {name} is outside its domain or near a kink")
        if operand is None:
            value = entries[name].op.fn(ORACLE, value)
            continue
        array = next(operands)
        if not within_domain(entries[name].op, array):
            raise Unstable(f"the operand of {name} is outside its domain or near a kink")
        if entries[name].kinked_where_inputs_meet and (np.abs(ORACLE.to_numpy(value) - array) < KINK_MARGIN).any():
            raise Unstable(f"the inputs of {name} meet (a tie)")
        value = entries[name].op.fn(ORACLE, value, ORACLE.tensor64(array))


def of_input(figures: dict | None, index: int, inputs: int) -> dict | None:
    """``figures`` naming the input they are of, where the program has several."""
    return figures if figures is None or inputs == 1 else {**figures, "input": index}


def precision_of(engine: Backend):
    """The precision the engine is checked in: float64 where it declares it, else float32."""
    return FLOAT64 if cap.FLOAT64 in engine.capabilities else FLOAT32


def engine_findings(
    engine: Backend, op, arrays, cotangent: np.ndarray, directions: list[np.ndarray], seed: int, flight: Flight | None
):
    """Yield each check's finding; the order is (a) to (d), and (c) may raise :class:`Unstable`. A gradient or
    Hessian-vector product is checked for each input in turn, and only the first input's disagreement is
    yielded per check (its figures name the input where there are several). An oracle that ``flight`` answers
    with a finding (a known crash) yields that finding and is not run."""
    announce = flight.entering if flight is not None else lambda oracle: None
    precision = precision_of(engine)
    dtype = precision.dtype
    arrays = [array.astype(dtype).astype(np.float64) for array in arrays]
    cotangent = cotangent.astype(dtype).astype(np.float64)
    directions = [direction.astype(dtype).astype(np.float64) for direction in directions]
    with as_shipped(), seeded_global_draws(seed):
        expected = Expectation.of(op, arrays, cotangent, precision)
    if crash := announce(REVERSE):
        yield crash
        return
    output, grads = gradients(engine, op, arrays, cotangent, dtype)
    scales = [
        op.rounding_scale,
        *(max(op.rounding_scale, vanished_gradient_scale(arrays, expected, i, cotangent)) for i in range(len(grads))),
    ]
    kinds = ["forward", *["gradient"] * len(grads)]
    reported = set()
    for index, (kind, actual, value, spread, scale) in enumerate(
        zip(kinds, [output, *grads], expected.values, expected.spreads, scales, strict=True)
    ):
        actual, shape_figures = reshaped(actual, value.shape)
        if shape_figures and f"{kind}-shape" not in reported:
            reported.add(f"{kind}-shape")
            figures = shape_figures if kind == "forward" else of_input(shape_figures, index - 1, len(grads))
            yield Finding(REVERSE, f"{kind}-shape", figures, checks.SHAPE)
        if kind in reported or actual is None:
            continue
        error = np.abs(np.asarray(actual, dtype=np.float64) - value)
        if figures := worst(error, tolerance(value, spread, precision, scale)):
            coarse = precision is FLOAT64 and not worst(error, tolerance(value, spread, FLOAT32, scale))
            figures = figures if kind == "forward" else of_input(figures, index - 1, len(grads))
            reported.add(kind)
            yield Finding(REVERSE, kind, figures, checks.FLOAT64 if coarse else "")
    grads = [reshaped(grad, array.shape)[0] for grad, array in zip(grads, arrays, strict=True)]
    if any(grad is None for grad in grads):
        return  # the reductions over broadcast dimensions are wrong already: no product with a direction holds
    along_reverse = sum(np.sum(grad * direction) for grad, direction in zip(grads, directions, strict=True))
    stages = {
        FORWARD: cap.JVP in engine.capabilities and op.forward_mode,
        DIFFERENCES: dtype is np.float64,
        SECOND: cap.SECOND_ORDER in engine.capabilities and op.second_order,
    }
    for oracle in (oracle for oracle, runs in stages.items() if runs):
        if crash := announce(oracle):
            yield crash
        elif oracle == FORWARD:
            yield from forward_mode_findings(engine, op, arrays, cotangent, directions, grads, along_reverse)
        elif oracle == DIFFERENCES:
            if finding := against_differences(engine, op, arrays, cotangent, directions, along_reverse):
                yield finding
        else:
            yield from second_order_findings(engine, op, arrays, cotangent, directions)


def forward_mode_findings(engine: Backend, op, arrays, cotangent, directions, grads, along_reverse: float):
    """(b): ``<u, J t>`` of the engine's forward mode against ``<Jᵀ u, t>`` of its reverse mode."""
    dtype = precision_of(engine).dtype
    rtol, atol = TOLERANCES[dtype]
    with checks.check(checks.FORWARD_MODE):
        tangent = tangent_of(engine, op, arrays, directions, dtype)
    along_forward = np.sum(cotangent * tangent)
    scale = max(
        np.abs(cotangent * tangent).sum(),
        sum(np.abs(grad * direction).sum() for grad, direction in zip(grads, directions, strict=True)),
    )
    if figures := worst(np.abs(along_forward - along_reverse), atol + rtol * scale):
        yield Finding(FORWARD, "jvp", figures, checks.FORWARD_MODE)


def second_order_findings(engine: Backend, op, arrays, cotangent, directions):
    """(d): the engine's Hessian-vector products against the oracle's, for each input until one disagrees."""
    dtype = precision_of(engine).dtype
    rtol, atol = TOLERANCES[dtype]
    with checks.check(checks.SECOND_ORDER):
        products = second_order(engine, op, arrays, cotangent, directions, dtype)
    with as_shipped():
        expected_products, reference = oracle_second_order(op, arrays, cotangent, directions)
        keep_oracle_second_order_determined(op, arrays, cotangent, directions, expected_products)
    exact = reference == TORCHS
    tolerances = (rtol, atol) if exact else (FD_RTOL, FD_ATOL)
    for index, (product, expected_product) in enumerate(zip(products, expected_products, strict=True)):
        product, shape_figures = reshaped(product, np.shape(expected_product))
        if shape_figures:
            figures = of_input(shape_figures, index, len(products))
            yield Finding(SECOND, "hessian-vector-shape", figures, checks.SHAPE)
        if product is not None and (figures := beyond_allclose(product, expected_product, *tolerances)):
            yield Finding(SECOND, "hessian-vector", of_input(figures, index, len(products)), checks.SECOND_ORDER)
        if shape_figures or figures:
            return


def vanished_gradient_scale(arrays, expected: Expectation, index: int, cotangent: np.ndarray) -> float:
    """Where the oracle's gradient vanishes (0 at every element, up to its own spread at the simulated rounding),
    the scale the error model's floor takes instead of its own: ``|cotangent| |output| / |input|`` at their
    largest (for input ``index``'s gradient). A gradient that vanishes by cancellation (``normalize`` over one
    element is ±1 whatever its input: ``1/|x| - x²/|x|³``) is computed from terms of that size, and as the
    forward's floor lets another algorithm's output differ from torch's by that floor relative to ``|output|``, its
    derivative may differ by that much (paddle's ``x / (|x| + 1e-12)``: 1e-12 where torch's is 0). A gradient that
    does not vanish keeps its own scale: a small one is not loosened."""
    grad, spread = expected.values[1 + index], expected.spreads[1 + index]
    largest_input = max(float(np.abs(array).max(initial=0.0)) for array in arrays)
    if np.abs(grad).max(initial=0.0) > SPREAD_FACTOR * spread.max(initial=0.0) or largest_input == 0:
        return 0.0
    return float(np.abs(cotangent).max(initial=0.0) * np.abs(expected.values[0]).max(initial=0.0)) / largest_input


def keep_oracle_second_order_determined(op, arrays, cotangent, directions, expected_products) -> None:
    """Raise :class:`Unstable` where the oracle's Hessian-vector product is not central differences of its own
    gradients: torch's double backward loses it near a singularity of its formula (cumprod's divides by the
    input, a value of 1e-282 gives 1e265), where no engine can be held to torch's figure."""
    numeric = directional_difference(
        lambda moved: gradients(ORACLE, op, moved, cotangent, np.float64)[1], op, arrays, directions
    )
    if any(
        beyond_allclose(product, difference, FD_RTOL, FD_ATOL)
        for product, difference in zip(expected_products, numeric, strict=True)
    ):
        raise Unstable("torch's second derivative is not central differences of its gradients")


#: ulps of the output's magnitude that the sum of ``cotangent * output`` may be off by (:func:`against_differences`)
ROUNDING_UNITS = 4
#: the share of the instability tests' tolerance within which the oracle's own differences must hold for the
#: engine's unsteady ones to be the engine's: a correct float64 engine's differ from the oracle's by rounding (about
#: 1e-10 of that tolerance), so that only a forward less precise than float64 (or not smooth) is told apart
STEADY_SHARE = 0.25


@dataclass(frozen=True)
class Differences:
    """Central differences of ``f = sum(cotangent * op)``, every input moved along its direction, at steps h and
    2h, the one-sided gaps at both (``h f''`` and twice that for a smooth ``f``), and ``sum |cotangent * op|`` at
    the point."""

    central: float
    central_2h: float
    gap: float
    gap_2h: float
    magnitude: float

    @classmethod
    def of(cls, lib, op, arrays, cotangent, directions) -> Differences:
        """The differences of ``op`` as ``lib`` (the engine, or the oracle) computes it in float64."""
        h = FD_STEP

        def moved(step: float) -> list[np.ndarray]:
            return [x + step * direction for x, direction in zip(arrays, directions, strict=True)]

        terms = {
            multiple: cotangent * forward(lib, op, moved(multiple * h), np.float64) for multiple in (-2, -1, 0, 1, 2)
        }
        at = {multiple: float(np.sum(values)) for multiple, values in terms.items()}
        return cls(
            central=(at[1] - at[-1]) / (2 * h),
            central_2h=(at[2] - at[-2]) / (4 * h),
            gap=(at[1] - 2 * at[0] + at[-1]) / h,
            gap_2h=(at[2] - 2 * at[0] + at[-2]) / (2 * h),
            magnitude=float(np.sum(np.abs(terms[0]))),
        )

    @property
    def allowed(self) -> float:
        return FD_ATOL + FD_RTOL * abs(self.central)

    def unsteady(self, share: float = 1.0) -> str | None:
        """Why these differences are no derivative to hold a gradient to, beyond ``share`` of their tolerance: h and
        2h disagree (truncation or rounding error), or the one-sided gaps fail to grow with the step as a smooth
        function's do (a kink or tie within 2h makes a jump instead: max of two values closer than the step)."""
        allowed = share * self.allowed
        if abs(self.central - self.central_2h) > allowed:
            return f"central differences at h and 2h disagree ({self.central!r}, {self.central_2h!r})"
        if abs(self.gap_2h - 2 * self.gap) > allowed:
            return f"one-sided differences jump: a kink or tie within 2h ({self.gap!r}, {self.gap_2h!r})"
        return None


def against_differences(engine: Backend, op, arrays, cotangent, directions, along_gradient: float) -> Finding | None:
    """The directional derivative ``Σᵢ <gradᵢ, dᵢ>`` (``along_gradient``) against the engine's central difference
    (:class:`Differences`) at step h. :class:`Unstable` where that is not a derivative to hold the engine to: where
    it could be rounding alone (the output's magnitude times float64's epsilon, over the step, beyond the
    tolerance), or where the differences are unsteady (:meth:`Differences.unsteady`) and the oracle's are too. Where
    the oracle's hold steady at that point and the engine's do not, the engine's float64 forward is not smooth to
    float64's precision (jittor's digamma, computed in float32): an ``unsteady-forward`` finding, in the ``float64``
    check where its noise is within float32's error model."""
    own = Differences.of(engine, op, arrays, cotangent, directions)
    # the sum's rounding at the magnitude of its terms, over the step: an output of 5e8 (expm1 of 20) that does not
    # move leaves the moving terms' differences at float64's resolution there, 6e-8 / 2e-6 (h and 2h may agree)
    rounding = ROUNDING_UNITS * np.finfo(np.float64).eps * own.magnitude / FD_STEP
    if rounding > own.allowed:
        raise Unstable(f"central differences are within the rounding of the output's magnitude ({rounding!r})")
    if reason := own.unsteady():
        with as_shipped():
            oracles = Differences.of(ORACLE, op, arrays, cotangent, directions)
        if oracles.unsteady(STEADY_SHARE):
            raise Unstable(reason)
        noise = abs(own.central - own.central_2h) * FD_STEP  # the forward's error, from the two steps' gap
        coarse = noise <= FLOAT32.floor_units * FLOAT32.roundoff * own.magnitude
        figures = {"engine": [own.central, own.central_2h], "oracle": [oracles.central, oracles.central_2h]}
        return Finding(DIFFERENCES, "unsteady-forward", figures, checks.FLOAT64 if coarse else "")
    if figures := beyond_allclose(along_gradient, own.central, FD_RTOL, FD_ATOL):
        return Finding(DIFFERENCES, "gradient", figures)
    return None
