"""The oracle's own formulations of operators whose torch float64 kernel is not exact to float64.

The oracle is torch in float64, and a verdict can be no sharper than its oracle: where torch's kernel for an
operator loses more than float64's error model allows (:data:`conformance.gradcheck.FLOAT64`), an engine that
computes it exactly would fail against it. For those operators the oracle computes the same mathematics through
other torch operators that are exact, and torch's own kernel is judged like any engine's
(``backends/known_failures/torch.json``). ``tests/test_oracle_accuracy.py`` measures the oracle against mpmath
for every elementwise operator, these formulations included, and finds torch's own kernels off here:

- ``hardsigmoid``'s backward multiplies by 1/6 rounded through float32 (0.16666667163), 3e-8 relative;
- trigamma (``polygamma(1, x)``, and so ``digamma``'s gradient) is an approximation good to about 5e-10 relative;
- ``special.bessel_j0`` and ``bessel_j1`` (ports of Cephes' j0.c and j1.c) drop the leading coefficient 1 of the
  denominator polynomial ``p1evl(z, RQ, 8)`` for x <= 5, and ``bessel_y0``/``bessel_y1`` use the same kernels there:
  on the catalogue's domain [0.5, 3.5] the error grows towards 3.5, where J0 is 8.96e-11 off (1.6 times float64's
  floor of the domain's largest value), J1's gradient J0 - J1/x 3.5 times it, J1 1.06e-11, Y0's gradient 0.7 times
  it. Their power series here are within 2.1e-5 of the floor (value and two derivatives) on that domain. The
  simulated rounding reaches each of their terms, which cancel: their float32 tolerance is up to twice what torch's
  single kernel gave (their float64 tolerance is the floor's).

Each is written with tensor methods only, so that autograd differentiates it to any order and the oracle's
simulated rounding (:class:`conformance.gradcheck.SimulatedRounding`) reaches every operation in it.
"""

from __future__ import annotations

import math
from fractions import Fraction

#: how far the argument is shifted up by the recurrence before the asymptotic series takes over: at z >= 16 the
#: series below leaves under 1e-18 relative
SHIFT = 16
#: Bernoulli numbers B2 ... B12, the coefficients of the digamma and trigamma asymptotic series
BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730)


def digamma(x):
    """ψ(x) for x > 0: ψ(x) = ψ(x + N) - Σ_{k<N} 1/(x + k), and ψ(z) ~ ln z - 1/(2z) - Σ B_2k / (2k z^2k)."""
    z = x + SHIFT
    series = z.log() - 0.5 / z
    for k, bernoulli in enumerate(BERNOULLI, start=1):
        series = series - bernoulli / (2 * k * z ** (2 * k))
    for k in range(SHIFT):
        series = series - 1 / (x + k)
    return series


def trigamma(x):
    """ψ'(x) = polygamma(1, x) for x > 0: ψ'(x) = ψ'(x + N) + Σ_{k<N} 1/(x + k)², and
    ψ'(z) ~ 1/z + 1/(2z²) + Σ B_2k / z^(2k+1)."""
    z = x + SHIFT
    series = 1 / z + 0.5 / z**2
    for k, bernoulli in enumerate(BERNOULLI, start=1):
        series = series + bernoulli / z ** (2 * k + 1)
    for k in range(SHIFT):
        series = series + 1 / (x + k) ** 2
    return series


def hardsigmoid(x):
    """hardsigmoid(x) = (clamp(x, -3, 3) + 3) / 6: the division rounds once, its gradient is 1/6 in float64."""
    return (x.clamp(-3.0, 3.0) + 3) / 6


#: terms of the Bessel power series below: at |x| <= BESSEL_LIMIT (x²/4 <= 16) the first term left out is under
#: 16^24/(24!)² = 2e-19 of J0(0) = 1; on the catalogue's domain [0.5, 3.5] under 1e-27
BESSEL_TERMS = 24
#: how far the Bessel series are used: they alternate, and their rounding grows with their terms (I0(x) bounds
#: J0's sum of magnitudes: 7.4 at 3.5, 4.3e2 at 8, 2.8e3 at 10). Against mpmath on [6, 8] value and two derivatives
#: stay within 1.4e-13 of each function's largest value there (a four-hundredth of float64's floor); past it the
#: formulations give NaN, and a wider catalogue domain needs another form
BESSEL_LIMIT = 8.0
#: Euler's constant γ, rounded to float64
EULER_GAMMA = 0.5772156649015329


def harmonic(k: int) -> Fraction:
    """H_k = 1 + 1/2 + ... + 1/k, exactly (H_0 = 0)."""
    return sum((Fraction(1, j) for j in range(1, k + 1)), Fraction(0))


#: the power series' coefficients, exact in rationals and rounded once: J0 = Σ q^k / (k!)², q = -x²/4;
#: J1 = (x/2) Σ q^k / (k! (k+1)!); Y0's Σ H_k q^k / (k!)² (from k = 1, here of q^(k-1)); and Y1's
#: Σ (H_k + H_(k+1)) q^k / (k! (k+1)!)
J0_SERIES = tuple(float(Fraction(1, math.factorial(k) ** 2)) for k in range(BESSEL_TERMS))
J1_SERIES = tuple(float(Fraction(1, math.factorial(k) * math.factorial(k + 1))) for k in range(BESSEL_TERMS))
Y0_SERIES = tuple(float(harmonic(k) / math.factorial(k) ** 2) for k in range(1, BESSEL_TERMS + 1))
Y1_SERIES = tuple(
    float((harmonic(k) + harmonic(k + 1)) / (math.factorial(k) * math.factorial(k + 1))) for k in range(BESSEL_TERMS)
)


def horner(coefficients: tuple[float, ...], q):
    """Σ_k coefficients[k] q^k, from the highest power down."""
    series = q * coefficients[-1] + coefficients[-2]
    for coefficient in reversed(coefficients[:-2]):
        series = series * q + coefficient
    return series


def within_bessel_limit(x, series):
    """``series`` where |x| <= :data:`BESSEL_LIMIT`, NaN past it: the oracle gives no value where it is not exact."""
    return series.where(x.abs() <= BESSEL_LIMIT, math.nan)


def bessel_j0(x):
    """J0(x) = Σ_k (-1)^k (x²/4)^k / (k!)², in Horner form over q = -x²/4."""
    return within_bessel_limit(x, horner(J0_SERIES, -(x * x) / 4))


def bessel_j1(x):
    """J1(x) = (x/2) Σ_k (-1)^k (x²/4)^k / (k! (k+1)!)."""
    return within_bessel_limit(x, horner(J1_SERIES, -(x * x) / 4) * x / 2)


def bessel_y0(x):
    """Y0(x) = (2/π) ((ln(x/2) + γ) J0(x) - Σ_{k>=1} H_k q^k / (k!)²), q = -x²/4, for x > 0."""
    q = -(x * x) / 4
    log_term = ((x / 2).log() + EULER_GAMMA) * horner(J0_SERIES, q)
    return within_bessel_limit(x, (log_term - q * horner(Y0_SERIES, q)) * (2 / math.pi))


def bessel_y1(x):
    """Y1(x) = -2/(πx) + (2/π) (ln(x/2) + γ) J1(x) - (x/2π) Σ_k (H_k + H_(k+1)) q^k / (k! (k+1)!), for x > 0."""
    q = -(x * x) / 4
    log_term = ((x / 2).log() + EULER_GAMMA) * horner(J1_SERIES, q) * x / 2
    series = log_term * (2 / math.pi) - horner(Y1_SERIES, q) * x / (2 * math.pi) - 2 / (math.pi * x)
    return within_bessel_limit(x, series)
