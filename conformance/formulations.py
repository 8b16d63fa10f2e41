"""The oracle's own formulations of operators whose torch float64 kernel is not exact to float64.

The oracle is torch in float64, and a verdict can be no sharper than its oracle: where torch's kernel for an
operator loses more than float64's error model allows (:data:`conformance.gradcheck.FLOAT64`), an engine that
computes it exactly would fail against it. For those operators the oracle computes the same mathematics through
other torch operators that are exact, and torch's own kernel is judged like any engine's
(``backends/known_failures/torch.json``). ``tests/test_oracle_accuracy.py`` measures the oracle against mpmath
for every elementwise operator, these formulations included, and finds torch's own kernels off here:

- ``hardsigmoid``'s backward multiplies by 1/6 rounded through float32 (0.16666667163), 3e-8 relative;
- trigamma (``polygamma(1, x)``, and so ``digamma``'s gradient) is an approximation good to about 5e-10 relative.

Each is written with tensor methods only, so that autograd differentiates it to any order and the oracle's
simulated rounding (:class:`conformance.gradcheck.SimulatedRounding`) reaches every operation in it.
"""

from __future__ import annotations

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
