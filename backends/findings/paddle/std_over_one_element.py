"""paddle's gradient of std over one element is NaN, where the function is constant.

The population standard deviation over a dimension of one element (paddle.std(x, axis=1, unbiased=False) of a
(3, 1) input) is 0 whatever x is, so its gradient is 0 (torch's x.std(dim=1, correction=0)). paddle's is NaN: the
derivative of sqrt at 0 times the variance's derivative, 0.

Observed on paddlepaddle 3.3.1, CPU, float64. Prints the observed and the expected gradients; exits 1 while the bug
is there, 0 once it is fixed.
"""

import sys

import numpy as np
import paddle

print(f"paddle {paddle.__version__}")
x = paddle.to_tensor(np.array([[0.0], [1.0], [2.0]]), stop_gradient=False)
value = paddle.std(x, axis=1, unbiased=False)
(grad,) = paddle.grad(value.sum(), [x])
observed, expected = grad.numpy(), np.zeros((3, 1))
right = np.array_equal(observed, expected)
print(f"paddle.std(x, axis=1, unbiased=False) of x = [[0], [1], [2]]: {value.numpy().tolist()}")
print(f"its gradient: observed {observed.tolist()}, expected {expected.tolist()}{'' if right else '  <- wrong'}")
sys.exit(0 if right else 1)
