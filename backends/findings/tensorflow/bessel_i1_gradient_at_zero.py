"""Plain-TensorFlow reproduction: the second derivative of the modified Bessel function I0 at exactly 0.

I0(x) = sum_k (x/2)^(2k) / (k!)^2 = 1 + x^2/4 + x^4/64 + ..., so I0'(x) = I1(x) with I0'(0) = I1(0) = 0, and
I0''(x) = I1'(x) = I0(x) - I1(x)/x -> 1/2 at x = 0 (I1(x) = x/2 + x^3/16 + ...).

TensorFlow registers BesselI0's gradient as bessel_i1(x) (right) and BesselI1's gradient as
where(x == 0, 1.0, bessel_i0(x) - bessel_i1(x) / x) (tensorflow/python/ops/math_grad.py, _BesselI1Grad): the
value imputed at 0, to dodge the 0/0, is 1.0 where the limit is 0.5. Off zero the formula is right.

Imports only tensorflow and numpy. Exit 1 while a derivative is wrong, 0 once all match.
"""

import sys

import numpy as np
import tensorflow as tf


def derivatives(function, x: float) -> tuple[float, float, float]:
    t = tf.constant(x, tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(t)
        with tf.GradientTape() as inner:
            inner.watch(t)
            y = function(t)
        first = inner.gradient(y, t)
    second = outer.gradient(first, t)
    return float(y.numpy()), float(first.numpy()), float(second.numpy())


def series(x: float, terms: int = 40) -> tuple[float, float, float]:
    """I0, I0' and I0'' from I0's power series, differentiated term by term (no division by x)."""
    value = first = second = 0.0
    for k in range(terms):
        c = 1.0 / (4.0**k * float(np.prod(np.arange(1, k + 1, dtype=float))) ** 2)  # x^(2k) / (4^k (k!)^2)
        value += c * x ** (2 * k)
        if k >= 1:
            first += c * 2 * k * x ** (2 * k - 1)
            second += c * 2 * k * (2 * k - 1) * x ** (2 * k - 2)
    return value, first, second


FUNCTIONS = {
    "tf.math.bessel_i0": tf.math.bessel_i0,
    "tf.math.special.bessel_i0": tf.math.special.bessel_i0,
}


def main() -> int:
    print(f"tensorflow {tf.__version__}")
    wrong = 0
    for name, function in FUNCTIONS.items():
        for x in (0.0, 1e-3, 0.5):
            observed = derivatives(function, x)
            expected = series(x)
            ok = np.allclose(observed, expected, rtol=1e-10, atol=1e-12)
            wrong += not ok
            print(
                f"{name} at x = {x}: (I0, I0', I0'') observed {observed}, expected {expected}: "
                f"{'OK' if ok else 'WRONG'}"
            )
    # the culprit on its own: the gradient of bessel_i1 at 0 (I1'(0) = 1/2)
    t = tf.constant(0.0, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = tf.math.special.bessel_i1(t)
    print(f"tf.math.special.bessel_i1 gradient at 0: observed {float(tape.gradient(y, t).numpy())}, expected 0.5")
    print(f"{wrong} case(s) wrong")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
