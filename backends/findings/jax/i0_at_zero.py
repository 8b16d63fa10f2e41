"""jax's i0 has derivative 1 at exactly 0, where i0'(0) = i1(0) = 0.

i0(x) = sum_k (x/2)^(2k) / (k!)^2 = 1 + x^2/4 + x^4/64 + ..., so i0'(0) = 0 and i0''(0) = 1/2 (torch: 0 and 0.5).
jax computes i0 as exp(|x|) * i0e(x) and takes the derivative of |x| at 0 as 1: jax.grad(i0)(0.0) is 1.0 and the
second derivative 1.5. Away from 0 the derivative is right (i1(1e-3) = 5.000000625e-4).

Observed on jax 0.10.2 (jaxlib 0.10.2), CPU, float64. Prints the observed and the expected values; exits 1 while
the bug is there, 0 once it is fixed.
"""

import sys

import jax

jax.config.update("jax_enable_x64", True)

from jax.scipy.special import i0  # noqa: E402  (after enabling float64)

print(f"jax {jax.__version__}")
cases = [
    ("jax.grad(i0)(0.0)", lambda: jax.grad(i0)(0.0), 0.0),
    ("jax.grad(jax.grad(i0))(0.0)", lambda: jax.grad(jax.grad(i0))(0.0), 0.5),
    ("jax.grad(i0)(1e-3), away from 0", lambda: jax.grad(i0)(1e-3), 5.000000625e-4),
]
wrong = 0
for what, compute, expected in cases:
    observed = float(compute())
    right = abs(observed - expected) <= 1e-12
    wrong += not right
    print(f"{what}: observed {observed!r}, expected {expected!r}{'' if right else '  <- wrong'}")
sys.exit(1 if wrong else 0)
