"""TensorFlow's gradient of tf.experimental.numpy.logaddexp (and logaddexp2) at equal inputs is (1, 0), not 1/2 each.

logaddexp(x1, x2) = log(exp(x1) + exp(x2)) is smooth everywhere; its partial derivatives are
exp(x1) / (exp(x1) + exp(x2)) and exp(x2) / (exp(x1) + exp(x2)), each 1/2 where x1 == x2 (logaddexp2 likewise, base
2). TensorFlow computes it as maximum(x1, x2) + log1p(exp(-abs(x1 - x2))): at a tie maximum's gradient goes to x1
alone and abs's derivative at 0 is taken as 0, so the gradient is (1, 0). Right away from the tie.

Observed on tensorflow 2.21.0, CPU, float64. Imports only tensorflow and numpy. Prints the observed and the expected
values; exits 1 while the gradient at a tie is wrong, 0 once it is right.
"""

import sys

import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}")
wrong = 0
for name, base in (("logaddexp", np.e), ("logaddexp2", 2.0)):
    for first, second in (([0.0, 1.0, 2.0], [0.0, 1.0, 2.0]), ([0.0, 1.0], [0.5, 2.5])):
        x1, x2 = tf.constant(first, tf.float64), tf.constant(second, tf.float64)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([x1, x2])
            value = getattr(tf.experimental.numpy, name)(x1, x2)
        observed = np.stack([tape.gradient(value, x1).numpy(), tape.gradient(value, x2).numpy()])
        share = base ** np.array(first) / (base ** np.array(first) + base ** np.array(second))
        expected = np.stack([share, 1 - share])
        right = np.allclose(observed, expected, rtol=1e-12, atol=1e-15)
        wrong += not right
        print(
            f"gradients of {name}({first}, {second}): observed {observed.tolist()}, expected {expected.tolist()}"
            + ("" if right else "  <- wrong")
        )
sys.exit(1 if wrong else 0)
