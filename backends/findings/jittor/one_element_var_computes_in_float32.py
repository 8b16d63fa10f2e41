"""jittor computes a Python number combined with a one-element float64 Var in float32.

2 - v, 3 / v, 2 ** v, 2 + v and 2 * v of a float64 Var v of shape (1,) (or a 0-d one, which jittor makes (1,)) are
float32: jittor promotes a one-element Var as it promotes a Python scalar, so neither side is float64. The same of a
Var of shape (2,) stays float64 (torch's results are float64 either way). Downstream, central differences of 2 - v
at v = 0 with a step of 1e-6 are off by 4% (float32's resolution at 2 is 2.4e-7), and sqrt, softplus, mish or pow
of such a Var are right to float32's precision only.

Observed on jittor 1.3.11.0, CPU. Prints the observed and the expected dtypes; exits 1 while the bug is there, 0
once it is fixed.
"""

import os
import sys

os.environ.setdefault("nvcc_path", "")  # jittor on a machine with nvcc but no GPU: its CPU build
os.environ.setdefault("use_mkl", "0")
import jittor as jt  # after its environment
import numpy as np

print(f"jittor {jt.__version__}")
wrong = []
for shape in [(1,), (2,)]:
    v = jt.array(np.full(shape, 1e-6), dtype="float64")
    results = {"2 - v": 2 - v, "3 / v": 3 / v, "2 ** v": 2**v}
    observed = {name: str(result.dtype) for name, result in results.items()}
    right = all(dtype == "float64" for dtype in observed.values())
    print(f"float64 v of shape {shape}: observed {observed}, expected float64 each{'' if right else '  <- float32'}")
    wrong += [] if right else [shape]
print(f"2 - v at v = 1e-6, shape (1,): {(2 - jt.array(np.array([1e-6]), dtype='float64')).numpy().tolist()}")
sys.exit(1 if wrong else 0)
