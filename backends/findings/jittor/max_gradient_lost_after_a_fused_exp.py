"""jittor's float64 gradient of a maximum over a dimension loses rows when the reduced values are computed in the same
fused kernel (exp, tanh).

jt.grad(jt.exp(w).max(1).sum(), [w]) should send exp(w[i, j]) to each row's largest element (torch's amax and
max(dim) do). For w = [[0, 1.5], [1, 1.03125], [2, -1]] in float64, jittor's gradient of the second row is [0, 0]:
the backward pass finds the maximum by comparing the values it recomputes with the forward's, and the fused exp it
recomputes differs from the one the forward stored by a rounding (jittor is built with -Ofast), so no element
equals the maximum. Syncing exp(w) first (a separate kernel) gives the right gradient, and so does float32.

Observed on jittor 1.3.11.0, CPU, float64. Prints the observed and the expected gradients; exits 1 while the bug is
there, 0 once it is fixed.
"""

import os
import sys

os.environ.setdefault("nvcc_path", "")  # jittor on a machine with nvcc but no GPU: its CPU build
os.environ.setdefault("use_mkl", "0")
import jittor as jt  # after its environment
import numpy as np

print(f"jittor {jt.__version__}")
values = np.array([[0.0, 1.5], [1.0, 1.03125], [2.0, -1.0]])
w = jt.array(values, dtype="float64")
(observed,) = jt.grad(jt.exp(w).max(1).sum(), [w])
observed = observed.numpy()
expected = np.where(values == values.max(axis=1, keepdims=True), np.exp(values), 0.0)
right = np.allclose(observed, expected, rtol=1e-12, atol=0)
print(f"gradient of exp(w).max(1).sum() at w = {values.tolist()}:")
print(f"  observed {observed.tolist()}")
print(f"  expected {expected.tolist()}{'' if right else '  <- a row lost its gradient'}")
sys.exit(0 if right else 1)
