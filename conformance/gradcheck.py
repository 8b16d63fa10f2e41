"""One check for every operator's gradient: the engine against torch on the CPU, and against finite differences.

An operator is a function ``fn(lib, *inputs)`` written once against the backend contract; ``lib`` is the
engine under test or the oracle (torch on the CPU in float64), so the same line runs on both::

    Op(lambda lib, x, w, b: lib.functional.conv2d(x, w, b, stride=2, padding=1), shapes=[(2, 3, 5, 5), ...])

:func:`check_gradients` draws seeded inputs and a random output gradient (cotangent), asks both for the
vector-Jacobian product through the functional entry point :meth:`~backends.contract.Backend.vjp` (a tape engine
answers it with ``backward``), and compares the engine's output and input gradients with the oracle's. Where the
engine declares float64 it runs in float64 and each gradient is also checked against central finite differences of
the engine's own forward on every element (the inputs are tiny); then it runs again in float32 (the named check
``float32``), since an engine has a kernel and a backward per dtype. An engine without float64 runs in float32
only, and so does an entry using a member the engine has no float64 kernel for (``lacks={capabilities.FLOAT64:
{"functional.max_pool3d"}}``: its verdict names them). An engine declaring ``jvp`` has its forward mode checked
along a random direction, and one declaring ``vjp.second-order`` its Hessian-vector products (vjp of vjp), each
against torch and, in float64, against central differences (of the forward, and of the engine's own gradients).
These two come last, each in a named check (:mod:`conformance.checks`), so that a failure there says the first
order held, and a known failure can cover that check alone; where the installed torch has no double backward for an
operator, the oracle's second derivatives are central differences of its gradients.

Edge cases are written into the operator itself, so the oracle and the engine see them the same way: a 0-d or
empty shape, a size-1 dimension that broadcasts, and non-contiguous inputs made by the same view on both sides
(``lambda lib, x: x.mT.exp()`` on a leaf of the transposed shape, ``x[:, ::2]``, ``x.expand(...)``). Inputs are
drawn away from the points where a derivative is undefined (``kinks``: relu at 0, clamp at its bounds), and
continuous draws have no ties (max, sort) almost surely.

**Error models.** An engine's float64 output and gradients, and its float32 ones, are each held against the
float64 oracle run on exactly the engine's inputs (the draws and cotangent rounded to the precision), with a
tolerance measured per entry and per element rather than fixed: :data:`REPLICAS` float64 replicas of the oracle
simulate the precision's rounding, every input and every float64 result of every operator (forward and backward)
moved by a factor (1 + e), e uniform in [-u, u], u the precision's roundoff (:class:`Precision`), and the factors
of matrix products and convolutions at float32 by TF32's (the widest float32 path torch documents, which
``benign:tf32`` takes). The largest deviation of the replicas from the oracle, element by element, is that
element's spread s: how far rounding at that precision can move it (large for an ill-conditioned solve or a value
computed by cancellation, zero for a gradient that is exactly 0 or 1). An element passes when
|engine - oracle| <= :data:`SPREAD_FACTOR` s + f u max|oracle|, the second term, f the precision's floor, the
rounding inside one operator that input perturbations do not reach (a sum's order; in float64, another algorithm),
at the scale of the array. A wrong
derivative, off by its own size, is caught wherever the entry determines the value better than its size; in
float64 so is a constant rounded through float32 (leaky_relu's slope 0.01 as 0.009999999776, 2e-8 relative),
which a fixed tolerance of 1e-7 let pass. float64 results are held first to float32's error model, outside any
named check, then to float64's in the check ``float64`` (:mod:`conformance.checks`): a wrong value fails the spec,
a value right only to float32's precision fails its ``float64`` check, and a known failure can say which. The
oracle computes an operator whose torch kernel is not exact to float64 another way (``Op.oracle``,
:mod:`conformance.formulations`). Every entry is checked, kinks included, since inputs are kept
:data:`KINK_MARGIN` from them, far beyond float32's rounding. Forward mode and second derivatives keep fixed
tolerances (:data:`TOLERANCES`) and central differences.
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


class Oracle(TorchBackend):
    """torch on the CPU, the reference every engine is held against (in float64).

    Its Jacobian-vector products come from reverse mode, not torch's forward mode: ``J t`` element by element,
    each row of ``J`` one backward (the inputs are tiny), which needs no double backward either (hardsigmoid has
    none, and logcumsumexp's is not finite). torch's forward mode runs some operators through Python references
    that import torch's compiler stack on first use (torch._dynamo, and with it triton), and triton imported into
    a process that already holds another LLVM (TensorFlow's) aborts it: the oracle must not drag in a compiler it
    does not need. When the engine is torch, this also makes the oracle independent of the forward-mode code it
    judges."""

    def jvp(self, fn, primals, tangents):
        leaves = [primal.detach().requires_grad_() for primal in primals]
        output = fn(*leaves)
        if not output.requires_grad:  # nothing reached the output: its tangent is zero
            return output.detach(), torch.zeros_like(output)
        rows = (
            torch.autograd.grad(element, leaves, retain_graph=True, allow_unused=True) for element in output.flatten()
        )
        products = [along_tangents(row, tangents, output) for row in rows]
        tangent = torch.stack(products).reshape(output.shape) if products else torch.zeros_like(output)
        return output.detach(), tangent


def along_tangents(grads, tangents, like: torch.Tensor) -> torch.Tensor:
    """Σᵢ sum(gradᵢ · tangentᵢ), a 0-d tensor of ``like``'s dtype; a gradient that is None (the input does not
    reach the output) adds nothing."""
    terms = [(grad * tangent).sum() for grad, tangent in zip(grads, tangents, strict=True) if grad is not None]
    return sum(terms, torch.zeros((), dtype=like.dtype))


ORACLE = Oracle("cpu", name="oracle")


@contextlib.contextmanager
def as_shipped():
    """Torch as shipped, for the oracle: the dispatch modes an engine holds open around a spec
    (:meth:`~backends.contract.Backend.spec_scope`) are paused while the oracle computes, so that an engine that
    computes on torch never computes its own expectation."""
    with _disable_current_modes():
        yield


#: the fixed tolerances of the check, in this one place: relative, absolute tolerance of forward mode's and second
#: derivatives' engine-vs-oracle comparisons per precision (values and gradients follow the error models); step,
#: relative and absolute tolerance of the central differences (float64 only)
TOLERANCES = {np.float64: (1e-7, 1e-9), np.float32: (1e-4, 1e-4)}
FD_STEP, FD_RTOL, FD_ATOL = 1e-6, 1e-5, 1e-6
#: how far a drawn value is kept from each of an operator's kinks: far beyond the finite-difference step
KINK_MARGIN = 0.05
#: what an engine's values are held against: torch's (the oracle's)
TORCHS = "torch's"


@dataclass(frozen=True)
class Precision:
    """A floating-point format as the error model sees it: the unit roundoff of each operator's result, and of
    the factors of matrix products and convolutions (where a documented path rounds them coarser); and the floor
    of the tolerance in those units of the array's largest value, for the rounding that perturbing inputs and
    results does not reach (a sum's order, another algorithm)."""

    name: str
    dtype: type
    roundoff: float
    factor_roundoff: float
    floor_units: float


#: float32, its matrix products' and convolutions' factors at TF32's roundoff (the widest float32 path torch
#: documents, which ``benign:tf32`` takes); its floor 32 units: a sum of the few dozen terms these inputs have, in
#: any order
FLOAT32 = Precision("float32", np.float32, 2.0**-24, 2.0**-11, 32)
#: float64: one ulp (twice the unit roundoff), since the replicas compute in float64 itself, where a perturbation
#: of half an ulp rounds away as often as not. Its floor, 2**18 ulps (2**-34, 5.8e-11 of the array's largest
#: value), is what float64 algorithms other than torch's lose: paddle's one-pass variance (E[x²] - E[x]², in
#: layer_norm, instance_norm, batch_norm) and norms through pow lose up to 6e-12 (torch.func and mygrad stay
#: within 32 ulps), while float32 anywhere in a float64 computation costs about 2**-25 (6e-8 times the value
#: rounded; leaky_relu's slope 0.01 through float32: 2.2e-8), and float64 approximations of float32's precision
#: more
FLOAT64 = Precision("float64", np.float64, 2.0**-52, 2.0**-52, 2.0**18)
#: float64 replicas of the oracle at simulated rounding: how each element's spread is measured
REPLICAS = 8
#: allowed error as a multiple of the spread: the largest deviation of eight replicas can underestimate an
#: element's rounding (when the draws happen to cancel), and an engine's decomposition of an operator may round
#: several times where torch's rounds once. torch on the CPU, and the benign variants, came within 0.36 of the
#: tolerance over ten seeds of every entry (TF32 convolutions the closest) but torch's own J0, J1 and Y1, which
#: exceed it on draws near 3.5 (conformance/formulations.py)
SPREAD_FACTOR = 8.0


#: the arguments the capability table grants, ``name(arg=)`` (``functional.avg_pool2d(ceil_mode=)``)
GRANTED_ARGUMENTS = frozenset(
    member for group in cap.GROUPS for member in cap.granted(cap.ALL, group) if member.endswith("=)")
)


def arguments(members: set[str], keywords: set[str]) -> set[str]:
    """The arguments ``name(arg=)`` of the table that an operator passes: a member it names called with a
    keyword argument it names. A backend lacking one (``lacks={POOLING: {"functional.avg_pool2d(ceil_mode=)"}}``)
    gets "unsupported" for the entry, not a TypeError FAIL."""
    return {f"{member}({keyword}=)" for member in members for keyword in keywords} & GRANTED_ARGUMENTS


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
    #: elements of the first input set to exactly 0 after the draw (``prod``'s gradient at a zero factor, which
    #: ``prod / x`` makes NaN): their indices
    zeros: tuple[tuple[int, ...], ...] = ()
    forward_mode: bool = True
    second_order: bool = True
    #: the magnitude of the terms implementations compute the operator from, where it exceeds the values
    #: (lgamma, from terms near 1 that cancel at its zeros 1 and 2): the error model's floor is at least that many
    #: units of roundoff of it
    rounding_scale: float = 0.0
    #: the same mathematics in other torch operators, ``oracle(lib, *inputs)``, which the oracle computes instead of
    #: ``fn`` where torch's own float64 kernel is not exact (:mod:`conformance.formulations`)
    oracle: Callable | None = None

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
        for index in self.zeros:
            arrays[0][index] = 0.0
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
        used, path, keywords = set(), None, set()
        for instruction in dis.get_instructions(self.fn):
            if instruction.opname in ("KW_NAMES", "LOAD_CONST"):  # keyword names: KW_NAMES (3.11, 3.12), else a tuple
                names = code.co_consts[instruction.arg] if instruction.opname == "KW_NAMES" else instruction.argval
                if isinstance(names, tuple):
                    keywords.update(name for name in names if isinstance(name, str))
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
        return frozenset(used | arguments(used, keywords))


def maker(lib: Backend, dtype: type) -> Callable:
    return lib.tensor64 if dtype is np.float64 else lib.tensor


def as_function(lib: Backend, op: Op, arrays: Sequence[np.ndarray], dtype: type) -> tuple[Callable, list]:
    """``op`` as a function of its differentiable inputs (the constant ones closed over), and those inputs as
    ``lib``'s tensors: what :meth:`Backend.vjp` and :meth:`Backend.jvp` take."""
    make = maker(lib, dtype)
    constants = {i: make(arrays[i].astype(dtype)) for i in op.constant}
    formula = op.oracle if op.oracle is not None and isinstance(lib, Oracle) else op.fn

    def fn(*differentiable):
        given = iter(differentiable)
        return formula(lib, *(constants[i] if i in constants else next(given) for i in range(len(arrays))))

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


def float64_lacked(engine: Backend, op: Op) -> frozenset[str]:
    """The members ``op`` uses that ``engine`` has no float64 for (``lacks={capabilities.FLOAT64: {...}}``): the
    entry then runs in float32 only, as on an engine without float64, and its verdict names them."""
    return op.uses() & engine.lacks.get(cap.FLOAT64, frozenset())


def check_gradients(engine: Backend, op: Op) -> None:
    """Assert the engine's output and input gradients match torch's on the CPU, and, in float64, central
    finite differences of the engine's own forward. Where the engine declares them, forward mode (``jvp``) and
    second derivatives (``vjp.second-order``) are checked the same way, as torch's ``gradcheck`` does with
    ``check_forward_ad`` and ``gradgradcheck``."""
    arrays = op.draw()
    with as_shipped():
        cotangent = np.random.standard_normal(forward(ORACLE, op, arrays, np.float64).shape)
        directions = [np.random.standard_normal(arrays[i].shape) for i in op.differentiable()]

    dtype = np.float64 if cap.FLOAT64 in engine.capabilities and not float64_lacked(engine, op) else np.float32
    rtol, atol = TOLERANCES[dtype]
    if dtype is np.float64:
        first_order = measure(engine, op, arrays, cotangent, FLOAT64)
        hold(first_order, FLOAT32, op.rounding_scale)  # right to float32's precision, or wrong
        grads = [measured.actual for measured in first_order[1:]]
        check_finite_differences(engine, op, arrays, cotangent, grads)
        with checks.check(checks.FLOAT32):
            in_float32 = check_precision(engine, op, arrays, cotangent, FLOAT32)
        with checks.check(checks.FLOAT64):
            hold(first_order, FLOAT64, op.rounding_scale)
        measured = first_order + in_float32
    else:
        measured = check_precision(engine, op, arrays, cotangent, FLOAT32)
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
    with checks.check(checks.SHAPE):
        hold_shapes(measured)


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


@dataclass(frozen=True)
class Measurement:
    """One result of an engine (its output, or one input's gradient) beside the oracle's value and spread; ``shape``
    is the result's own, where ``actual`` has the oracle's shape whenever it has its size (:func:`hold_shapes`
    holds the shape, after every check of the values)."""

    name: str
    actual: np.ndarray
    value: np.ndarray
    spread: np.ndarray
    shape: tuple[int, ...]

    @classmethod
    def of(cls, name: str, result, value: np.ndarray, spread: np.ndarray) -> Measurement:
        actual = np.asarray(result, dtype=np.float64)
        shape = actual.shape
        return cls(name, actual.reshape(value.shape) if actual.size == value.size else actual, value, spread, shape)


def measure(engine: Backend, op: Op, arrays, cotangent: np.ndarray, precision: Precision) -> list[Measurement]:
    """The engine's output and gradients in ``precision``, on the draws and cotangent rounded to it, beside the
    float64 oracle's on those values and their spreads at ``precision``'s simulated rounding."""
    arrays = [array.astype(precision.dtype).astype(np.float64) for array in arrays]
    cotangent = cotangent.astype(precision.dtype).astype(np.float64)
    with as_shipped():
        expected = Expectation.of(op, arrays, cotangent, precision)
    output, grads = gradients(engine, op, arrays, cotangent, precision.dtype)
    names = ["forward", *(f"gradient of input {index}" for index in op.differentiable())]
    results = zip(names, [output, *grads], expected.values, expected.spreads, strict=True)
    return [Measurement.of(f"{precision.name} {name}", *result) for name, *result in results]


def hold(measurements: list[Measurement], model: Precision, scale: float) -> None:
    """Assert every measurement within ``model``'s error model (:func:`assert_within_error_model`)."""
    for measured in measurements:
        assert_within_error_model(measured.name, measured.actual, measured.value, measured.spread, model, scale)


def hold_shapes(measurements: list[Measurement]) -> None:
    """Assert every measurement has the oracle's shape."""
    for measured in measurements:
        assert measured.shape == measured.value.shape, (
            f"{measured.name} has shape {measured.shape}, not {measured.value.shape}"
        )


def check_precision(engine: Backend, op: Op, arrays, cotangent: np.ndarray, precision: Precision) -> list[Measurement]:
    """Assert the engine's output and gradients in ``precision`` are the float64 oracle's within ``precision``'s
    error model (module docstring), in the oracle's shape; return them."""
    measurements = measure(engine, op, arrays, cotangent, precision)
    hold(measurements, precision, op.rounding_scale)
    return measurements


@dataclass(frozen=True)
class Expectation:
    """The float64 oracle's output and gradients, and each element's spread at a precision's simulated rounding."""

    values: list[np.ndarray]
    spreads: list[np.ndarray]

    @classmethod
    def of(cls, op: Op, arrays, cotangent: np.ndarray, precision: Precision) -> Expectation:
        output, grads = gradients(ORACLE, op, arrays, cotangent, np.float64)
        values = [output, *grads]
        spreads = [np.zeros_like(value) for value in values]
        for _ in range(REPLICAS):
            moved = [perturbed(array, precision.roundoff) for array in arrays]
            moved_cotangent = perturbed(cotangent, precision.roundoff)
            with SimulatedRounding(precision, torch.Generator().manual_seed(int(np.random.randint(2**31)))):
                replica_output, replica_grads = gradients(ORACLE, op, moved, moved_cotangent, np.float64)
            for spread, value, replica in zip(spreads, values, [replica_output, *replica_grads], strict=True):
                np.maximum(spread, np.abs(replica - value), out=spread)
        if not all(
            np.isfinite(spread[np.isfinite(value)]).all() for spread, value in zip(spreads, values, strict=True)
        ):
            raise RuntimeError(f"a replica at simulated {precision.name} rounding is not finite where the oracle is")
        return cls(values, spreads)


def perturbed(array: np.ndarray, unit: float) -> np.ndarray:
    """``array`` plus ``array`` times e, e uniform in [-unit, unit] per element (added, not multiplied by 1 + e,
    which float64 would round to 1 for a float64 unit)."""
    return array + array * (unit * np.random.uniform(-1, 1, array.shape))


def tolerance(value: np.ndarray, spread: np.ndarray, precision: Precision, scale: float = 0.0) -> np.ndarray:
    """Each element's allowed error: :data:`SPREAD_FACTOR` times its spread and ``precision``'s floor in units of
    its roundoff of the array's largest value (or of ``scale``, where larger)."""
    scale = max(scale, float(np.abs(value).max(initial=0.0)))
    return SPREAD_FACTOR * spread + precision.floor_units * precision.roundoff * scale


def assert_within_error_model(
    name: str, actual, value: np.ndarray, spread: np.ndarray, precision: Precision, scale: float = 0.0
) -> None:
    """``actual`` holds ``value`` element by element within :func:`tolerance`; the ratio of error to tolerance is
    recorded for the separation table (:func:`conformance.margins.observe`)."""
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.shape == value.shape, f"{name} has shape {actual.shape}, not {value.shape}"
    if not value.size:
        return
    error, allowed = np.abs(actual - value), tolerance(value, spread, precision, scale)
    ratios = error_ratios(error, allowed)
    worst = np.unravel_index(np.argmax(ratios), ratios.shape)
    observe(ratios[worst])
    assert ratios[worst] <= 1, (
        f"{name} differs from the float64 oracle beyond {precision.name}'s error model: at {worst} it is "
        f"{actual[worst]!r}, the oracle {value[worst]!r} (error {error[worst]:.3g}; rounding at {precision.name} "
        f"moves it by {spread[worst]:.3g}, the tolerance is {allowed[worst]:.3g}); {int((ratios > 1).sum())} of "
        f"{ratios.size} elements are outside"
    )


def error_ratios(error: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Each element's error as a fraction of its allowed error: 0 where exact, inf where not finite."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(error == 0, 0.0, np.nan_to_num(error / allowed, nan=np.inf))


class SimulatedRounding(TorchDispatchMode):
    """float64 torch rounding as a precision would, at random: each float64 result of an operator plus itself
    times e, e uniform in [-u, u] (the precision's roundoff), and the factors of matrix products and convolutions
    at the precision's factor roundoff. Views and in-place results are left alone, so aliasing holds, and so is a
    result whose every value is, up to sign, one of its inputs' (max, median, sort, the infinity norm, a copy): any
    precision selects it exactly, and the backward of a selection finds it among its inputs by comparing."""

    def __init__(self, precision: Precision, generator: torch.Generator) -> None:
        super().__init__()
        self.precision = precision
        self.generator = generator

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        """No: the mode never runs under torch.compile, so its ``__torch_dispatch__`` stays as written, and entering
        it does not import torch's compiler stack (torch._dynamo, and with it triton, which crashes a process where
        another engine, TensorFlow, was imported first): the oracle runs eager operators only."""
        return False

    def perturbed(self, value, unit: float):
        if not is_float64(value):
            return value
        noise = torch.rand(value.shape, generator=self.generator, dtype=torch.float64, device=value.device)
        return value + torch.where(value.isfinite(), value * (unit * (2 * noise - 1)), 0.0)  # inf stays inf

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in MATMULS + CONVOLUTIONS:
            unit = self.precision.factor_roundoff
            result = on_factors(lambda value: self.perturbed(value, unit), func, *args, **kwargs)
        else:
            result = func(*args, **kwargs)
        if any(returned.alias_info is not None for returned in func._schema.returns):
            return result
        inputs = [value.abs().flatten() for value in tree_leaves((args, kwargs)) if is_float64(value)]
        unit = self.precision.roundoff
        return tree_map(lambda value: value if selected(value, inputs) else self.perturbed(value, unit), result)


def is_float64(value) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.float64


def selected(result, inputs: list[torch.Tensor]) -> bool:
    """Whether every value of ``result`` is, up to sign, among ``inputs``' absolute values."""
    return is_float64(result) and bool(inputs) and bool(torch.isin(result.abs(), torch.cat(inputs)).all())
