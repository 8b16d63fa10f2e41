"""One check for every operator's gradient: the engine against torch on the CPU, and against finite differences.

An operator is a function ``fn(lib, *inputs)`` written once against the backend contract; ``lib`` is the
engine under test or the oracle (torch on the CPU in float64), so the same line runs on both::

    Op(lambda lib, x, w, b: lib.functional.conv2d(x, w, b, stride=2, padding=1), shapes=[(2, 3, 5, 5), ...])

:func:`check_gradients` draws seeded inputs and a random output gradient (cotangent), asks both for the
vector-Jacobian product through the functional entry point :meth:`~backends.contract.Backend.vjp` (a tape
engine answers it with ``backward``), and compares the engine's output and input gradients with the
oracle's. Where the engine declares float64 it runs in float64 and each gradient is also checked against
central finite differences of the engine's own forward on every element (the inputs are tiny); then it runs
again in float32 (the named check ``float32``), since an engine has a kernel and a backward per dtype. An engine
without float64 runs in float32 only. An engine declaring ``jvp`` has its forward mode checked along a
random direction, and one declaring ``vjp.second-order`` its Hessian-vector products (vjp of vjp), each
against torch and, in float64, against central differences (of the forward, and of the engine's own
gradients). These two come last, each in a named check (:mod:`conformance.checks`), so that a failure there
says the first order held, and a known failure can cover that check alone; where the installed torch has no
double backward for an operator, the oracle's second derivatives are central differences of its gradients.

Edge cases are written into the operator itself, so the oracle and the engine see them the same way: a 0-d or
empty shape, a size-1 dimension that broadcasts, and non-contiguous inputs made by the same view on both sides
(``lambda lib, x: x.mT.exp()`` on a leaf of the transposed shape, ``x[:, ::2]``, ``x.expand(...)``). Inputs are
drawn away from the points where a derivative is undefined (``kinks``: relu at 0, clamp at its bounds), and
continuous draws have no ties (max, sort) almost surely.

**float32 error model.** A float32 result is held against the float64 oracle run on exactly the engine's inputs
(the draws and cotangent rounded to float32), with a tolerance measured per entry and per element rather than
fixed: :data:`REPLICAS` float64 replicas of the oracle simulate float32 rounding, every input and every float64
result of every operator (forward and backward) times (1 + e), e uniform in [-u, u], u float32's unit roundoff,
and the factors of matrix products and convolutions at TF32's (the widest float32 path torch documents, which
``benign:tf32`` takes). The largest deviation of the replicas from the oracle, element by element, is that
element's spread s: how far rounding at float32 can move it (large for an ill-conditioned solve or a value
computed by cancellation, zero for a gradient that is exactly 0 or 1). An element passes when
|engine - oracle| <= :data:`SPREAD_FACTOR` s + :data:`FLOOR_ULPS` u max|oracle|, the second term the rounding
inside one operator that input perturbations do not reach (a sum's order), at the scale of the array. A wrong
derivative, off by its own size, is caught wherever the entry determines the value better than its size; every
entry is checked in float32, kinks included, since inputs are kept :data:`KINK_MARGIN` from them, far beyond
float32's rounding.
"""

from __future__ import annotations

import builtins
import contextlib
import dis
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode, _disable_current_modes
from torch.utils._pytree import tree_leaves, tree_map

from backends import Backend
from backends import capabilities as cap
from backends.benign import CONVOLUTIONS, MATMULS, on_factors
from backends.torch_backend import TorchBackend

from . import checks
from .margins import observe

ORACLE = TorchBackend("cpu", name="oracle")


@contextlib.contextmanager
def as_shipped():
    """Torch as shipped, for the oracle: the dispatch modes an engine holds open around a spec
    (:meth:`~backends.contract.Backend.spec_scope`) are paused while the oracle computes, so that an engine that
    computes on torch never computes its own expectation."""
    with _disable_current_modes():
        yield


#: every tolerance of the check, in this one place: relative, absolute tolerance of engine-vs-oracle comparisons
#: per precision; step, relative and absolute tolerance of the central differences (float64 only)
TOLERANCES = {np.float64: (1e-7, 1e-9), np.float32: (1e-4, 1e-4)}
FD_STEP, FD_RTOL, FD_ATOL = 1e-6, 1e-5, 1e-6
#: how far a drawn value is kept from each of an operator's kinks: far beyond the finite-difference step
KINK_MARGIN = 0.05
#: what an engine's values are held against: torch's (the oracle's)
TORCHS = "torch's"
#: the float32 error model: unit roundoffs of float32 and of TF32 (matrix products' and convolutions' factors)
FLOAT32_ROUNDOFF, TF32_ROUNDOFF = 2.0**-24, 2.0**-11
#: float64 replicas of the oracle at simulated float32 rounding: how each element's spread is measured
REPLICAS = 8
#: allowed error as a multiple of the spread: the largest deviation of eight replicas can underestimate an
#: element's rounding (when the draws happen to cancel), and an engine's decomposition of an operator may round
#: several times where torch's rounds once. torch on the CPU, and the benign variants, came within 0.36 of the
#: tolerance over ten seeds of every entry (TF32 convolutions the closest)
SPREAD_FACTOR = 8.0
#: allowed error in float32 ulps of the array's largest value: rounding inside one operator (a sum of the few
#: dozen terms these inputs have, in any order) that perturbing its inputs and result does not reach
FLOOR_ULPS = 32


@dataclass(frozen=True)
class Op:
    """An operator under test: ``fn(lib, *inputs)`` on inputs of ``shapes``.

    ``constant`` lists the inputs that do not require grad (labels, running statistics); ``positive`` draws
    all inputs from [0.5, 1.5) for operators defined on positive numbers (log, pow, variances), ``domain`` from
    another interval (``(-0.9, 0.9)`` for asin); ``kinks`` are the values where the derivative is undefined,
    which the inputs are kept :data:`KINK_MARGIN` away from. ``forward_mode`` and ``second_order`` are False
    where torch itself has no forward-mode or double-backward formula for the operator (its OpInfo says so too):
    the oracle then has nothing to hold an engine's answer against, and that check is not made for the entry.
    """

    fn: Callable
    shapes: Sequence[tuple[int, ...]]
    constant: tuple[int, ...] = ()
    positive: bool = False
    domain: tuple[float, float] | None = None
    kinks: tuple[float, ...] = ()
    forward_mode: bool = True
    second_order: bool = True
    #: the magnitude of the terms float32 implementations compute the operator from, where it exceeds the values
    #: (lgamma, from terms near 1 that cancel at its zeros 1 and 2): the float32 error model's floor is at least
    #: that many ulps of it
    float32_scale: float = 0.0

    def draw(self) -> list[np.ndarray]:
        """Inputs from NumPy's seeded generator, in float64."""
        domain = (0.5, 1.5) if self.positive else self.domain
        if domain is not None:
            arrays = [np.random.uniform(*domain, size=shape) for shape in self.shapes]
        else:
            arrays = [np.random.standard_normal(shape) for shape in self.shapes]
        for array in arrays:
            for kink in self.kinks:
                near = np.abs(array - kink) < KINK_MARGIN
                array[near] = kink + np.copysign(KINK_MARGIN, array[near] - kink)
        return arrays

    def differentiable(self) -> list[int]:
        return [i for i in range(len(self.shapes)) if i not in self.constant]

    def uses(self) -> frozenset[str]:
        """The members ``fn`` names, read from its bytecode: attribute paths taken from ``lib``, dotted as the
        capability table spells them (``functional.conv2d``, ``linalg.solve``), and every other attribute, which
        is a tensor's (``erfinv``, ``mT``). A backend lacking one gets "unsupported" (see ``Backend.lacks``).
        An operator must be one self-contained function for this reading to be complete: one that calls
        anything but builtins, or defines a function inside, is refused."""
        code = self.fn.__code__
        if nested := [const for const in code.co_consts if hasattr(const, "co_code")]:
            raise ValueError(f"operator {code.co_name} defines functions inside ({nested}); write it as one")
        used, path = set(), None
        for instruction in dis.get_instructions(self.fn):
            if instruction.opname == "LOAD_GLOBAL" and not hasattr(builtins, instruction.argval):
                raise ValueError(f"operator {code.co_name} calls {instruction.argval}; use only lib and its inputs")
            if instruction.opname in ("LOAD_ATTR", "LOAD_METHOD"):
                (used.add(instruction.argval) if path is None else path.append(instruction.argval))
                continue
            if path:
                used.add(".".join(path))
            lib = instruction.opname.startswith("LOAD_FAST") and instruction.argval == code.co_varnames[0]
            path = [] if lib else None
        if path:
            used.add(".".join(path))
        return frozenset(used)


def maker(lib: Backend, dtype: type) -> Callable:
    return lib.tensor64 if dtype is np.float64 else lib.tensor


def as_function(lib: Backend, op: Op, arrays: Sequence[np.ndarray], dtype: type) -> tuple[Callable, list]:
    """``op`` as a function of its differentiable inputs (the constant ones closed over), and those inputs as
    ``lib``'s tensors: what :meth:`Backend.vjp` and :meth:`Backend.jvp` take."""
    make = maker(lib, dtype)
    constants = {i: make(arrays[i].astype(dtype)) for i in op.constant}

    def fn(*differentiable):
        given = iter(differentiable)
        return op.fn(lib, *(constants[i] if i in constants else next(given) for i in range(len(arrays))))

    return fn, [make(arrays[i].astype(dtype)) for i in op.differentiable()]


def forward(lib: Backend, op: Op, arrays: Sequence[np.ndarray], dtype: type) -> np.ndarray:
    """``op``'s output values on ``arrays``."""
    fn, primals = as_function(lib, op, arrays, dtype)
    return lib.to_numpy(fn(*primals))


def gradients(lib: Backend, op: Op, arrays: Sequence[np.ndarray], cotangent: np.ndarray, dtype: type):
    """``op``'s output and the gradients of ``sum(cotangent * output)`` w.r.t. its differentiable inputs."""
    fn, primals = as_function(lib, op, arrays, dtype)
    output, grads = lib.vjp(fn, primals, maker(lib, dtype)(cotangent.astype(dtype)))
    return lib.to_numpy(output), [lib.to_numpy(grad) for grad in grads]


def tangent_of(lib: Backend, op: Op, arrays, tangents: Sequence[np.ndarray], dtype: type) -> np.ndarray:
    """The Jacobian-vector product of ``op`` at ``arrays`` along ``tangents`` (forward mode)."""
    fn, primals = as_function(lib, op, arrays, dtype)
    make = maker(lib, dtype)
    _, tangent = lib.jvp(fn, primals, [make(t.astype(dtype)) for t in tangents])
    return lib.to_numpy(tangent)


def second_order(lib: Backend, op: Op, arrays, cotangent: np.ndarray, directions, dtype: type) -> list[np.ndarray]:
    """The Hessian of ``f = sum(cotangent * op)`` times ``directions``: the vjp of ``Σ sum(∂f/∂xᵢ · directionᵢ)``,
    a function that itself calls vjp with ``create_graph=True`` (vjp of vjp)."""
    fn, primals = as_function(lib, op, arrays, dtype)
    make = maker(lib, dtype)

    def directional_gradient(*inputs):
        _, grads = lib.vjp(fn, inputs, make(cotangent.astype(dtype)), create_graph=True)
        return sum((grad * make(d.astype(dtype))).sum() for grad, d in zip(grads, directions, strict=True))

    _, hessian_products = lib.vjp(directional_gradient, primals, make(np.array(1.0, dtype=dtype)))
    return [lib.to_numpy(product) for product in hessian_products]


def check_gradients(engine: Backend, op: Op) -> None:
    """Assert the engine's output and input gradients match torch's on the CPU, and, in float64, central
    finite differences of the engine's own forward. Where the engine declares them, forward mode (``jvp``) and
    second derivatives (``vjp.second-order``) are checked the same way, as torch's ``gradcheck`` does with
    ``check_forward_ad`` and ``gradgradcheck``."""
    arrays = op.draw()
    with as_shipped():
        cotangent = np.random.standard_normal(forward(ORACLE, op, arrays, np.float64).shape)
        directions = [np.random.standard_normal(arrays[i].shape) for i in op.differentiable()]
        expected_output, expected_grads = gradients(ORACLE, op, arrays, cotangent, np.float64)

    dtype = np.float64 if cap.FLOAT64 in engine.capabilities else np.float32
    rtol, atol = TOLERANCES[dtype]
    if dtype is np.float64:
        output, grads = gradients(engine, op, arrays, cotangent, dtype)
        np.testing.assert_allclose(output, expected_output, rtol=rtol, atol=atol, err_msg="forward differs from torch")
        for index, grad, expected in zip(op.differentiable(), grads, expected_grads, strict=True):
            np.testing.assert_allclose(
                grad, expected, rtol=rtol, atol=atol, err_msg=f"gradient of input {index} differs from torch's"
            )
        check_finite_differences(engine, op, arrays, cotangent, grads)
        with checks.check(checks.FLOAT32):
            check_float32(engine, op, arrays, cotangent)
    else:
        check_float32(engine, op, arrays, cotangent)
    if cap.JVP in engine.capabilities and op.forward_mode:
        with checks.check(checks.FORWARD_MODE):
            tangent = tangent_of(engine, op, arrays, directions, dtype)
            with as_shipped():
                expected_tangent = tangent_of(ORACLE, op, arrays, directions, np.float64)
            np.testing.assert_allclose(
                tangent,
                expected_tangent,
                rtol=rtol,
                atol=atol,
                err_msg="forward-mode Jacobian-vector product differs from torch's",
            )
            if dtype is np.float64:
                numeric = directional_difference(lambda a: forward(engine, op, a, dtype), op, arrays, directions)
                np.testing.assert_allclose(
                    tangent, numeric, rtol=FD_RTOL, atol=FD_ATOL, err_msg="jvp differs from central finite differences"
                )
    if cap.SECOND_ORDER in engine.capabilities and op.second_order:
        with checks.check(checks.SECOND_ORDER):
            products = second_order(engine, op, arrays, cotangent, directions, dtype)
            with as_shipped():
                expected_products, reference = oracle_second_order(op, arrays, cotangent, directions)
            for index, product, expected in zip(op.differentiable(), products, expected_products, strict=True):
                np.testing.assert_allclose(
                    product,
                    expected,
                    rtol=rtol if reference == TORCHS else max(rtol, FD_RTOL),
                    atol=atol if reference == TORCHS else max(atol, FD_ATOL),
                    err_msg=f"second derivative (input {index}) differs from {reference}",
                )
            if dtype is np.float64:
                numeric = directional_difference(
                    lambda a: gradients(engine, op, a, cotangent, dtype)[1], op, arrays, directions
                )
                for index, product, expected in zip(op.differentiable(), products, numeric, strict=True):
                    np.testing.assert_allclose(
                        product,
                        expected,
                        rtol=FD_RTOL,
                        atol=FD_ATOL,
                        err_msg=f"second derivative (input {index}) differs from finite differences of the gradient",
                    )


def oracle_second_order(op: Op, arrays, cotangent: np.ndarray, directions) -> tuple[list[np.ndarray], str]:
    """torch's Hessian-vector products on the CPU in float64, and what they are: :data:`TORCHS` for torch's own
    double backward; where the installed torch has none for the operator (torch 2.11 lacks cdist's and grid_sample's,
    torch 2.14 has them), central differences of torch's gradients, named so, so that another engine's verdict
    does not depend on the torch release that serves as the oracle."""
    try:
        return second_order(ORACLE, op, arrays, cotangent, directions, np.float64), TORCHS
    except (NotImplementedError, RuntimeError) as error:
        if "not implemented" not in str(error):
            raise
    numeric = directional_difference(
        lambda a: gradients(ORACLE, op, a, cotangent, np.float64)[1], op, arrays, directions
    )
    return numeric, "central differences of torch's gradients (this torch has no double backward for it)"


def directional_difference(f: Callable, op: Op, arrays, directions):
    """(f(x + h·d) - f(x - h·d)) / 2h for a direction ``d`` over the differentiable inputs; ``f`` gives an array
    or a list of arrays."""

    def moved(sign: float) -> list[np.ndarray]:
        steps = dict(zip(op.differentiable(), directions, strict=True))
        return [array + sign * FD_STEP * steps[i] if i in steps else array for i, array in enumerate(arrays)]

    plus, minus = f(moved(1.0)), f(moved(-1.0))
    if isinstance(plus, list):
        return [(p - m) / (2 * FD_STEP) for p, m in zip(plus, minus, strict=True)]
    return (plus - minus) / (2 * FD_STEP)


def check_finite_differences(engine: Backend, op: Op, arrays, cotangent: np.ndarray, grads) -> None:
    """Compare every gradient element of every input with (f(x + h) - f(x - h)) / 2h, f = sum(cotangent * op)."""

    def objective(perturbed: list[np.ndarray]) -> float:
        return float(np.sum(cotangent * forward(engine, op, perturbed, np.float64)))

    for index, grad in zip(op.differentiable(), grads, strict=True):
        numeric = np.empty_like(arrays[index])
        for element in np.ndindex(arrays[index].shape):
            plus, minus = list(arrays), list(arrays)
            plus[index], minus[index] = arrays[index].copy(), arrays[index].copy()
            plus[index][element] += FD_STEP
            minus[index][element] -= FD_STEP
            numeric[element] = (objective(plus) - objective(minus)) / (2 * FD_STEP)
        np.testing.assert_allclose(
            grad,
            numeric,
            rtol=FD_RTOL,
            atol=FD_ATOL,
            err_msg=f"gradient of input {index} differs from central finite differences",
        )


def check_float32(engine: Backend, op: Op, arrays, cotangent: np.ndarray) -> None:
    """Assert the engine's float32 output and gradients, on the draws and cotangent rounded to float32, are the
    float64 oracle's on those values within the float32 error model (module docstring)."""
    arrays = [array.astype(np.float32).astype(np.float64) for array in arrays]
    cotangent = cotangent.astype(np.float32).astype(np.float64)
    with as_shipped():
        expected = Float32Expectation.of(op, arrays, cotangent)
    output, grads = gradients(engine, op, arrays, cotangent, np.float32)
    names = ["float32 forward", *(f"float32 gradient of input {index}" for index in op.differentiable())]
    for name, actual, value, spread in zip(names, [output, *grads], expected.values, expected.spreads, strict=True):
        assert_within_error_model(name, actual, value, spread, op.float32_scale)


@dataclass(frozen=True)
class Float32Expectation:
    """The float64 oracle's output and gradients, and each element's spread at simulated float32 rounding."""

    values: list[np.ndarray]
    spreads: list[np.ndarray]

    @classmethod
    def of(cls, op: Op, arrays, cotangent: np.ndarray) -> Float32Expectation:
        output, grads = gradients(ORACLE, op, arrays, cotangent, np.float64)
        values = [output, *grads]
        spreads = [np.zeros_like(value) for value in values]
        for _ in range(REPLICAS):
            moved = [array * (1 + FLOAT32_ROUNDOFF * np.random.uniform(-1, 1, array.shape)) for array in arrays]
            moved_cotangent = cotangent * (1 + FLOAT32_ROUNDOFF * np.random.uniform(-1, 1, cotangent.shape))
            with SimulatedFloat32(torch.Generator().manual_seed(int(np.random.randint(2**31)))):
                replica_output, replica_grads = gradients(ORACLE, op, moved, moved_cotangent, np.float64)
            for spread, value, replica in zip(spreads, values, [replica_output, *replica_grads], strict=True):
                np.maximum(spread, np.abs(replica - value), out=spread)
        if not all(
            np.isfinite(spread[np.isfinite(value)]).all() for spread, value in zip(spreads, values, strict=True)
        ):
            raise RuntimeError("a replica at simulated float32 rounding is not finite where the oracle is")
        return cls(values, spreads)


def float32_tolerance(value: np.ndarray, spread: np.ndarray, scale: float = 0.0) -> np.ndarray:
    """Each element's allowed error: :data:`SPREAD_FACTOR` times its spread and :data:`FLOOR_ULPS` float32 ulps of
    the array's largest value (or of ``scale``, where larger)."""
    scale = max(scale, float(np.abs(value).max(initial=0.0)))
    return SPREAD_FACTOR * spread + FLOOR_ULPS * FLOAT32_ROUNDOFF * scale


def assert_within_error_model(name: str, actual, value: np.ndarray, spread: np.ndarray, scale: float = 0.0) -> None:
    """``actual`` holds ``value`` element by element within :func:`float32_tolerance`; the ratio of error to
    tolerance is recorded for the separation table (:func:`conformance.margins.observe`)."""
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.shape == value.shape, f"{name} has shape {actual.shape}, not {value.shape}"
    if not value.size:
        return
    error, tolerance = np.abs(actual - value), float32_tolerance(value, spread, scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(error == 0, 0.0, np.nan_to_num(error / tolerance, nan=np.inf))
    worst = np.unravel_index(np.argmax(ratios), ratios.shape)
    observe(ratios[worst])
    assert ratios[worst] <= 1, (
        f"{name} differs from the float64 oracle beyond float32's error model: at {worst} it is {actual[worst]!r}, "
        f"the oracle {value[worst]!r} (error {error[worst]:.3g}; rounding at float32 moves it by {spread[worst]:.3g}, "
        f"the tolerance is {tolerance[worst]:.3g}); {int((ratios > 1).sum())} of {ratios.size} elements are outside"
    )


class SimulatedFloat32(TorchDispatchMode):
    """float64 torch rounding as float32 would, at random: each float64 result of an operator times (1 + e), e
    uniform in [-u, u] (:data:`FLOAT32_ROUNDOFF`), and the factors of matrix products and convolutions at
    :data:`TF32_ROUNDOFF`. Views and in-place results are left alone, so aliasing holds, and so is a result
    whose every value is, up to sign, one of its inputs' (max, median, sort, the infinity norm, a copy): float32
    selects it exactly, and the backward of a selection finds it among its inputs by comparing."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.generator = generator

    def perturbed(self, value, unit: float):
        if not is_float64(value):
            return value
        noise = torch.rand(value.shape, generator=self.generator, dtype=torch.float64, device=value.device)
        return value * (1 + unit * (2 * noise - 1))

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in MATMULS + CONVOLUTIONS:
            result = on_factors(lambda value: self.perturbed(value, TF32_ROUNDOFF), func, *args, **kwargs)
        else:
            result = func(*args, **kwargs)
        if any(returned.alias_info is not None for returned in func._schema.returns):
            return result
        inputs = [value.abs().flatten() for value in tree_leaves((args, kwargs)) if is_float64(value)]
        return tree_map(
            lambda value: value if selected(value, inputs) else self.perturbed(value, FLOAT32_ROUNDOFF), result
        )


def is_float64(value) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.float64


def selected(result, inputs: list[torch.Tensor]) -> bool:
    """Whether every value of ``result`` is, up to sign, among ``inputs``' absolute values."""
    return is_float64(result) and bool(inputs) and bool(torch.isin(result.abs(), torch.cat(inputs)).all())
