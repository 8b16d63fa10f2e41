"""One check for every operator's gradient: the engine against torch on the CPU, and against finite differences.

An operator is a function ``fn(lib, *inputs)`` written once against the backend contract; ``lib`` is the
engine under test or the oracle (torch on the CPU in float64), so the same line runs on both::

    Op(lambda lib, x, w, b: lib.functional.conv2d(x, w, b, stride=2, padding=1), shapes=[(2, 3, 5, 5), ...])

:func:`check_gradients` draws seeded inputs, runs forward and backward with a random output gradient on both,
and compares the engine's output and input gradients with the oracle's. Where the engine declares float64 it
runs in float64 and each gradient is also checked against central finite differences of the engine's own
forward on every element (the inputs are tiny); otherwise it runs in float32 with float32 tolerances.

Edge cases are written into the operator itself, so the oracle and the engine see them the same way: a 0-d or
empty shape, a size-1 dimension that broadcasts, and non-contiguous inputs made by the same view on both sides
(``lambda lib, x: x.mT.exp()`` on a leaf of the transposed shape, ``x[:, ::2]``, ``x.expand(...)``). Inputs are
drawn away from the points where a derivative is undefined (``kinks``: relu at 0, clamp at its bounds), and
continuous draws have no ties (max, sort) almost surely.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from backends import Backend
from backends import capabilities as cap
from backends.torch_backend import TorchBackend

ORACLE = TorchBackend("cpu", name="oracle")
#: every tolerance of the check, in this one place: relative, absolute tolerance of engine-vs-oracle comparisons
#: per precision; step, relative and absolute tolerance of the central differences (float64 only)
TOLERANCES = {np.float64: (1e-7, 1e-9), np.float32: (1e-4, 1e-4)}
FD_STEP, FD_RTOL, FD_ATOL = 1e-6, 1e-5, 1e-6
#: how far a drawn value is kept from each of an operator's kinks: far beyond the finite-difference step
KINK_MARGIN = 0.05


@dataclass(frozen=True)
class Op:
    """An operator under test: ``fn(lib, *inputs)`` on inputs of ``shapes``.

    ``constant`` lists the inputs that do not require grad (labels, running statistics); ``positive`` draws
    all inputs from [0.5, 1.5) for operators defined on positive numbers (log, pow, variances), ``domain`` from
    another interval (``(-0.9, 0.9)`` for asin); ``kinks`` are the values where the derivative is undefined,
    which the inputs are kept :data:`KINK_MARGIN` away from.
    """

    fn: Callable
    shapes: Sequence[tuple[int, ...]]
    constant: tuple[int, ...] = ()
    positive: bool = False
    domain: tuple[float, float] | None = None
    kinks: tuple[float, ...] = ()

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


def forward(lib: Backend, op: Op, arrays: Sequence[np.ndarray], dtype: type) -> tuple[list, object]:
    """The inputs made by ``lib`` (requiring grad unless constant) and ``op``'s output on them."""
    make = lib.tensor64 if dtype is np.float64 else lib.tensor
    inputs = [make(array.astype(dtype), requires_grad=i not in op.constant) for i, array in enumerate(arrays)]
    return inputs, op.fn(lib, *inputs)


def gradients(lib: Backend, op: Op, arrays: Sequence[np.ndarray], cotangent: np.ndarray, dtype: type):
    """``op``'s output and the gradients of ``sum(cotangent * output)`` w.r.t. its differentiable inputs."""
    inputs, output = forward(lib, op, arrays, dtype)
    make = lib.tensor64 if dtype is np.float64 else lib.tensor
    output.backward(gradient=make(cotangent.astype(dtype)))
    return lib.to_numpy(output), [lib.to_numpy(inputs[i].grad) for i in op.differentiable()]


def check_gradients(engine: Backend, op: Op) -> None:
    """Assert the engine's output and input gradients match torch's on the CPU, and, in float64, central
    finite differences of the engine's own forward."""
    arrays = op.draw()
    _, oracle_output = forward(ORACLE, op, arrays, np.float64)
    cotangent = np.random.standard_normal(tuple(oracle_output.shape))
    expected_output, expected_grads = gradients(ORACLE, op, arrays, cotangent, np.float64)

    dtype = np.float64 if cap.FLOAT64 in engine.capabilities else np.float32
    rtol, atol = TOLERANCES[dtype]
    output, grads = gradients(engine, op, arrays, cotangent, dtype)
    np.testing.assert_allclose(output, expected_output, rtol=rtol, atol=atol, err_msg="forward differs from torch")
    for index, grad, expected in zip(op.differentiable(), grads, expected_grads, strict=True):
        np.testing.assert_allclose(
            grad, expected, rtol=rtol, atol=atol, err_msg=f"gradient of input {index} differs from torch's"
        )
    if dtype is np.float64:
        check_finite_differences(engine, op, arrays, cotangent, grads)


def check_finite_differences(engine: Backend, op: Op, arrays, cotangent: np.ndarray, grads) -> None:
    """Compare every gradient element of every input with (f(x + h) - f(x - h)) / 2h, f = sum(cotangent * op)."""

    # no_grad only spares recording; an engine without grad mode records and the graph is dropped
    recording_off = engine.no_grad if cap.GRAD_MODE in engine.capabilities else contextlib.nullcontext

    def objective(perturbed: list[np.ndarray]) -> float:
        with recording_off():
            _, output = forward(engine, op, perturbed, np.float64)
        return float(np.sum(cotangent * engine.to_numpy(output)))

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
