"""Plain-TensorFlow reproduction: the gradient of tf.math.cumprod at an input with an exact zero factor.

The true derivative of the running product p_k = prod_{i<=k} x_i w.r.t. x_j (j <= k) is prod_{i<=k, i!=j} x_i,
which is finite and in general non-zero at x_j = 0. TensorFlow's registered gradient (_CumprodGrad in
tensorflow/python/ops/math_grad.py) computes it as div_no_nan(reverse_cumsum(cumprod(x) * dy), x): at x_j = 0 the
numerator's terms have all lost the factor x_j and the division by x_j is replaced by 0, so the gradient w.r.t. a
zero factor comes out 0 (finite, wrong; not NaN).

Imports only tensorflow and numpy. Exit 1 while the gradient is wrong, 0 once it matches the by-hand derivative.
"""

import sys

import numpy as np
import tensorflow as tf


def by_hand(x: np.ndarray, dy: np.ndarray, axis: int) -> np.ndarray:
    """sum_k dy_k * d p_k / d x_j with d p_k / d x_j = prod_{i<=k, i!=j} x_i, along ``axis``, with no division."""
    x = np.moveaxis(x, axis, -1)
    dy = np.moveaxis(dy, axis, -1)
    grad = np.zeros_like(x)
    n = x.shape[-1]
    for index in np.ndindex(x.shape[:-1]):
        row, cot = x[index], dy[index]
        for j in range(n):
            grad[(*index, j)] = sum(cot[k] * np.prod([row[i] for i in range(k + 1) if i != j]) for k in range(j, n))
    return np.moveaxis(grad, -1, axis)


def tf_gradient(x: np.ndarray, dy: np.ndarray, axis: int) -> np.ndarray:
    x = tf.constant(x, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.math.cumprod(x, axis=axis)
    return tape.gradient(y, x, output_gradients=tf.constant(dy, tf.float64)).numpy()


CASES = [
    ("1-d, one zero", np.array([2.0, 0.0, 3.0]), np.ones(3), 0),
    ("1-d, zero first, two zeros", np.array([0.0, 0.0, 2.0]), np.ones(3), 0),
    ("2-d axis=1, cotangent not ones", np.array([[1.5, 0.0, -2.0, 0.5], [0.7, 1.1, 0.0, 3.0]]),
     np.array([[1.0, -0.5, 2.0, 0.25], [0.3, 1.0, -1.0, 2.0]]), 1),
    ("2-d axis=0", np.array([[1.5, 0.7], [0.0, 1.1], [-2.0, 0.0]]), np.ones((3, 2)), 0),
    ("no zero (control)", np.array([2.0, 0.5, 3.0]), np.ones(3), 0),
]  # fmt: skip


def main() -> int:
    print(f"tensorflow {tf.__version__}")
    wrong = 0
    for name, x, dy, axis in CASES:
        observed = tf_gradient(x, dy, axis)
        expected = by_hand(x, dy, axis)
        ok = np.allclose(observed, expected, rtol=1e-12, atol=1e-12, equal_nan=False)
        wrong += not ok
        print(f"\n{name}: x = {x.tolist()}, dy = {dy.tolist()}, axis = {axis}")
        print(f"  observed tf.math.cumprod gradient: {observed.tolist()}")
        print(f"  expected (by hand)               : {expected.tolist()}")
        print(f"  {'OK' if ok else 'WRONG'}" + ("" if ok else f" (NaN present: {bool(np.isnan(observed).any())})"))
    print(f"\n{wrong} of {len(CASES)} cases wrong")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
