"""mygrad's gradient of std over one element is NaN, where the function is constant.

The population standard deviation over a dimension of one element (mygrad.std(x, axis=1) of a (3, 1) input, ddof 0)
is 0 whatever x is, so its gradient is 0 (torch's x.std(dim=1, correction=0)). mygrad's is NaN: the derivative of
sqrt at 0 times the variance's derivative, 0.

Observed on mygrad 2.5.0 (NumPy 2), float64. Prints the observed and the expected gradients; exits 1 while the bug
is there, 0 once it is fixed.
"""

import sys
import warnings

import mygrad
import numpy as np

print(f"mygrad {mygrad.__version__}")
x = mygrad.tensor(np.array([[0.0], [1.0], [2.0]]))
value = mygrad.std(x, axis=1)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "invalid value encountered in divide"
    value.sum().backward()
observed, expected = np.asarray(x.grad), np.zeros((3, 1))
right = np.array_equal(observed, expected)
print(f"mygrad.std(x, axis=1) of x = [[0], [1], [2]]: {np.asarray(value).tolist()}")
print(f"its gradient: observed {observed.tolist()}, expected {expected.tolist()}{'' if right else '  <- wrong'}")
sys.exit(0 if right else 1)
