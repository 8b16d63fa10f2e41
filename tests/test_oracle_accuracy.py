"""The oracle is exact to float64 on the catalogue's elementwise operators: a verdict can be no sharper than its
oracle, and float64's error model allows an engine 2**-34 of the array's scale, so the oracle must be well inside
that. mpmath (torch's own dependency, through sympy) computes each operator and its derivative at 30 digits on the
spec's own draws and, for an entry drawn from an interval, across that interval, endpoints included (a kernel's
error can grow towards an end: torch's J0 is 1.6 times float64's floor off at 3.5 and exact on the draw, in [1.77,
2.65]); the oracle's values and gradients are held to a quarter of that floor. Where torch's kernel is not exact,
the oracle computes the operator another way (:mod:`conformance.formulations`), measured here too."""

import mpmath
import numpy as np
import pytest
import torch

from backends.torch_backend import TorchBackend
from conformance import formulations
from conformance.gradcheck import FLOAT64, ORACLE, forward, gradients
from conformance.operator_catalogue import CATALOGUE
from tests.conftest import torch_known_failures_here

#: the share of float64's floor the oracle may use up, leaving the rest to an exact engine's own rounding
ORACLE_SHARE = 0.25
HALF_SQRT_2 = mpmath.sqrt(2) / 2
SELU_ALPHA = mpmath.mpf("1.6732632423543772848170429916717")
SELU_SCALE = mpmath.mpf("1.0507009873554804934193349852946")


def sigmoid(v):
    return 1 / (1 + mpmath.exp(-v))


def softplus(v):
    return mpmath.log1p(mpmath.exp(v))


#: spec name -> the operator, as a function of one mpmath number, exactly as the spec applies it
EXACT = {
    "exp": mpmath.exp, "log": mpmath.log, "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan,
    "tanh": mpmath.tanh, "sigmoid": sigmoid, "asin": mpmath.asin, "acos": mpmath.acos, "atan": mpmath.atan,
    "sinh": mpmath.sinh, "cosh": mpmath.cosh, "asinh": mpmath.asinh, "acosh": mpmath.acosh, "atanh": mpmath.atanh,
    "sqrt": mpmath.sqrt, "rsqrt": lambda v: 1 / mpmath.sqrt(v), "reciprocal": lambda v: 1 / v,
    "erf": mpmath.erf, "erfc": mpmath.erfc, "erfinv": mpmath.erfinv, "expm1": mpmath.expm1, "log1p": mpmath.log1p,
    "log2": lambda v: mpmath.log(v, 2), "log10": mpmath.log10, "exp2": lambda v: mpmath.power(2, v),
    "sinc": lambda v: mpmath.sinpi(v) / (mpmath.pi * v), "lgamma": mpmath.loggamma, "digamma": mpmath.digamma,
    "polygamma": lambda v: mpmath.polygamma(1, v), "i0": lambda v: mpmath.besseli(0, v),
    "mvlgamma": lambda v: mpmath.log(mpmath.pi) / 2 + mpmath.loggamma(v) + mpmath.loggamma(v - mpmath.mpf(1) / 2),
    "logit": lambda v: mpmath.log(v / (1 - v)),
    "gelu": lambda v: v * (1 + mpmath.erf(v * HALF_SQRT_2)) / 2,
    "gelu-tanh": lambda v: v * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (v + mpmath.mpf("0.044715") * v**3))) / 2,
    "silu": lambda v: v * sigmoid(v), "softplus": softplus, "mish": lambda v: v * mpmath.tanh(softplus(v)),
    "logsigmoid": lambda v: -softplus(-v), "softsign": lambda v: v / (1 + abs(v)),
    "elu": lambda v: v if v > 0 else mpmath.expm1(v), "celu": lambda v: v if v > 0 else 2 * mpmath.expm1(v / 2),
    "selu": lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * mpmath.expm1(v)),
    "leaky-relu": lambda v: v if v > 0 else v / 100, "leaky-relu-slope": lambda v: v if v > 0 else v / 5,
    "hardswish": lambda v: 3 * v * min(max(3 * v + 3, 0), 6) / 6,
    "hardsigmoid": lambda v: min(max(3 * v + 3, 0), 6) / 6,
    "bessel-j0": lambda v: mpmath.besselj(0, v), "bessel-j1": lambda v: mpmath.besselj(1, v),
    "bessel-y0": lambda v: mpmath.bessely(0, v), "bessel-y1": lambda v: mpmath.bessely(1, v),
    "modified-bessel-i0": lambda v: mpmath.besseli(0, v), "modified-bessel-i1": lambda v: mpmath.besseli(1, v),
    "modified-bessel-k0": lambda v: mpmath.besselk(0, v), "modified-bessel-k1": lambda v: mpmath.besselk(1, v),
}  # fmt: skip
OPERATORS = {entry.name: entry.op for entry in CATALOGUE}
#: points across an entry's interval, its endpoints among them, measured besides its draw
SWEEP = 7


def exactly(function, array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``function`` and its derivative, element by element, at 30 digits, rounded to float64."""
    with mpmath.workdps(30):
        values = [function(mpmath.mpf(float(v))) for v in array.flat]
        derivatives = [mpmath.diff(function, mpmath.mpf(float(v))) for v in array.flat]
    return tuple(np.array([float(v) for v in result]).reshape(array.shape) for result in (values, derivatives))


def measured_points(op) -> np.ndarray:
    """The spec's seed-0 draw and, where the entry is drawn from an interval, :data:`SWEEP` points across it."""
    np.random.seed(0)
    (array,) = op.draw()
    interval = (0.5, 1.5) if op.positive else op.domain
    if interval is None:
        return array
    return np.concatenate([array.ravel(), np.linspace(*interval, SWEEP)])


def test_every_operator_measured_is_a_catalogue_entry():
    assert sorted(set(EXACT) - set(OPERATORS)) == []


@pytest.mark.parametrize("name", sorted(EXACT))
def test_the_oracle_is_exact_to_float64(name):
    op = OPERATORS[name]
    array = measured_points(op)
    value, derivative = exactly(EXACT[name], array)
    if (known := torch_known_failures_here().get(f"opgrad.{name}")) and known.fails_in is None:
        # this torch release has no gradient of the operator (the Bessel functions before 2.15): its value only
        measured = [("value", forward(ORACLE, op, [array], np.float64), value)]
    else:
        output, (grad,) = gradients(ORACLE, op, [array], np.ones(array.shape), np.float64)
        measured = [("value", output, value), ("gradient", grad, derivative)]
    floor = FLOAT64.floor_units * FLOAT64.roundoff
    for what, computed, exact in measured:
        error = np.abs(computed - exact).max() / np.abs(exact).max()
        assert error <= ORACLE_SHARE * floor, f"the oracle's {name} {what} is {error:.2g} of its scale off"


@pytest.mark.parametrize("name", sorted(name for name, op in OPERATORS.items() if op.oracle is not None))
def test_an_oracle_formulation_replaces_a_torch_kernel_that_is_not_exact(name):
    """Each formulation earns its place: torch's own kernel misses the share the oracle must keep."""
    op = OPERATORS[name]
    array = measured_points(op)
    output, (grad,) = gradients(TorchBackend("cpu"), op, [array], np.ones(array.shape), np.float64)
    value, derivative = exactly(EXACT[name], array)
    errors = [np.abs(a - b).max() / np.abs(b).max() for a, b in ((output, value), (grad, derivative))]
    assert max(errors) > ORACLE_SHARE * FLOAT64.floor_units * FLOAT64.roundoff


BESSEL = {"bessel-j0": formulations.bessel_j0, "bessel-j1": formulations.bessel_j1,
          "bessel-y0": formulations.bessel_y0, "bessel-y1": formulations.bessel_y1}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BESSEL))
def test_a_bessel_formulation_is_exact_to_the_second_derivative_and_nan_past_its_limit(name):
    """The specs' second-order check takes the oracle's double backward of the series: exact to float64 across the
    domain too. Past :data:`~conformance.formulations.BESSEL_LIMIT` the series round too much, and give NaN."""
    array = np.linspace(*OPERATORS[name].domain, SWEEP)
    x = torch.tensor(array, requires_grad=True)
    (grad,) = torch.autograd.grad(BESSEL[name](x).sum(), x, create_graph=True)
    (second,) = torch.autograd.grad(grad.sum(), x)
    with mpmath.workdps(30):
        exact = np.array([float(mpmath.diff(EXACT[name], mpmath.mpf(float(v)), 2)) for v in array])
    error = np.abs(second.numpy() - exact).max() / np.abs(exact).max()
    assert error <= ORACLE_SHARE * FLOAT64.floor_units * FLOAT64.roundoff
    limit = formulations.BESSEL_LIMIT
    at_and_past = torch.tensor([limit, limit * (1 + 1e-15)], dtype=torch.float64)
    assert BESSEL[name](at_and_past).isnan().tolist() == [False, True]
