"""paddle's gradient of prod at a zero factor is NaN.

The derivative of a product w.r.t. one factor is the product of the others, also where that factor is 0: for
x = [0, 1, 2], d prod(x) / dx = [1 * 2, 0 * 2, 0 * 1] = [2, 0, 0] (torch's). paddle divides the product by each
factor, 0 / 0 at the zero one: its gradient is [nan, 0, 0]. The same over a dimension (prod(axis=1), with or
without keepdim).

Observed on paddlepaddle 3.3.1, CPU, float64. Prints the observed and the expected gradients; exits 1 while the bug
is there, 0 once it is fixed.
"""

import sys

import numpy as np
import paddle

print(f"paddle {paddle.__version__}")
cases = [
    ("paddle.prod(x), x = [0, 1, 2]", np.array([0.0, 1.0, 2.0]), {}, np.array([2.0, 0.0, 0.0])),
    (
        "paddle.prod(x, axis=1), x = [[0, 1, 2], [3, 4, 5]]",
        np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]),
        {"axis": 1},
        np.array([[2.0, 0.0, 0.0], [20.0, 15.0, 12.0]]),
    ),
    (
        "paddle.prod(x, axis=0, keepdim=True), x = [[0, 1], [2, 3], [4, 5]]",
        np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]),
        {"axis": 0, "keepdim": True},
        np.array([[8.0, 15.0], [0.0, 5.0], [0.0, 3.0]]),
    ),
]
wrong = 0
for what, value, arguments, expected in cases:
    x = paddle.to_tensor(value, stop_gradient=False)
    (grad,) = paddle.grad(paddle.prod(x, **arguments).sum(), [x])
    observed = grad.numpy()
    right = np.allclose(observed, expected, rtol=1e-12, atol=0)
    wrong += not right
    mark = "" if right else "  <- wrong"
    print(f"gradient of {what}: observed {observed.tolist()}, expected {expected.tolist()}{mark}")
sys.exit(1 if wrong else 0)
