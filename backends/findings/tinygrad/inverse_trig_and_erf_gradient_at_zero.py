"""tinygrad's gradients of asin, acos, atan and erf are 0 at exactly 0.

Each is smooth at 0, with derivative 1 (asin, atan), -1 (acos) and 2/sqrt(pi) = 1.128379 (erf): torch's and NumPy's
formulas give those. tinygrad's float64 gradients at 0 are 0, and right at 0.5 (its approximations are odd functions
whose derivative formula it evaluates as a product with x, or with a sign of x, that vanishes there).

Observed on tinygrad 0.14.0, PYTHON device, float64. Prints the observed and the expected gradients; exits 1 while
one is wrong, 0 once all are right.
"""

import os
import sys
from importlib.metadata import version

os.environ.setdefault("DEV", "PYTHON")  # the interpreted device, which needs no compiler
import numpy as np
from tinygrad import Tensor, dtypes  # after its device is chosen

print(f"tinygrad {version('tinygrad')}, PYTHON device, float64")
points = np.array([0.0, 0.5])
expected = {
    "asin": 1 / np.sqrt(1 - points**2),
    "acos": -1 / np.sqrt(1 - points**2),
    "atan": 1 / (1 + points**2),
    "erf": 2 / np.sqrt(np.pi) * np.exp(-(points**2)),
}
wrong = []
for name, derivative in expected.items():
    x = Tensor(points, dtype=dtypes.float64, device="PYTHON")
    (grad,) = getattr(x, name)().sum().gradient(x)
    observed = grad.numpy()
    right = np.allclose(observed, derivative, rtol=1e-6, atol=0)
    print(f"gradient of {name} at {points.tolist()}:\n  observed {observed.tolist()}")
    print(f"  expected {derivative.tolist()}{'' if right else '  <- wrong'}")
    wrong += [] if right else [name]
sys.exit(1 if wrong else 0)
