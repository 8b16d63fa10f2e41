"""TensorFlow's gradient of reduce_prod at a zero factor is right, but not differentiable again through it.

prod(x) = x0 x1 x2 has the symmetric Hessian H[i, j] = prod of the factors other than x_i and x_j (i != j): at
x = [0, 3, 2] it is [[0, 2, 3], [2, 0, 0], [3, 0, 0]]. tf.reduce_prod's gradient there is right, [6, 0, 0], but the
Jacobian of that gradient (the Hessian) is [[0, 2, 3], [0, 0, 0], [0, 0, 0]]: the other factors' gradients do not
depend on the zero factor.

Observed on tensorflow 2.21.0, CPU, float64. Imports only tensorflow and numpy. Prints the observed and the expected
values; exits 1 while the Hessian is wrong, 0 once it is right.
"""

import sys

import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}")
x = tf.Variable(np.array([0.0, 3.0, 2.0]))
with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
        product = tf.reduce_prod(x)
    gradient = inner.gradient(product, x)
hessian = outer.jacobian(gradient, x).numpy()
expected_gradient, expected_hessian = np.array([6.0, 0.0, 0.0]), np.array([[0, 2, 3], [2, 0, 0], [3, 0, 0]], float)
right = np.array_equal(gradient.numpy(), expected_gradient) and np.array_equal(hessian, expected_hessian)
print(
    f"gradient of tf.reduce_prod at {x.numpy().tolist()}: observed {gradient.numpy().tolist()}, expected "
    f"{expected_gradient.tolist()}"
)
print(f"its Jacobian: observed {hessian.tolist()}, expected {expected_hessian.tolist()}{'' if right else '  <- wrong'}")
sys.exit(0 if right else 1)
