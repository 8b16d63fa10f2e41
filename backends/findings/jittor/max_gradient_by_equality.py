"""jittor's float64 gradient of a maximum goes to every element equal to the maximum it recomputes: none where that
recomputation rounds differently, all of them where the window holds copies of one value.

1. jt.grad(jt.exp(w).max(1).sum(), [w]) should send exp(w[i, j]) to each row's largest element (torch's amax and
   max(dim) do). For w = [[0, 1.5], [1, 1.03125], [2, -1]] in float64, jittor's gradient of the second row is
   [0, 0]: the fused exp it recomputes in the backward pass differs from the forward's by a rounding (jittor is
   built with -Ofast), so no element equals the maximum. Syncing exp(w) first gives the right gradient.
2. The maximum of [v, v, u] with v > u is v, whose derivative w.r.t. v is 1 (torch's max(dim) sends it to one copy,
   its amax splits it evenly between them: 1 in both). jittor's gradient w.r.t. v is 2: each copy gets all of it.
   Max pooling after replicate padding (windows of copies) doubles gradients the same way.

Observed on jittor 1.3.11.0, CPU, float64. Prints the observed and the expected gradients; exits 1 while either is
there, 0 once both are fixed.
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
(fused,) = jt.grad(jt.exp(w).max(1).sum(), [w])
fused = fused.numpy()
expected_fused = np.where(values == values.max(axis=1, keepdims=True), np.exp(values), 0.0)
v = jt.array(np.array([3.0, 1.0]), dtype="float64")
(copies,) = jt.grad(jt.concat([v[:1], v[:1], v[1:]]).max(), [v])
copies = copies.numpy()
expected_copies = np.array([1.0, 0.0])
wrong = []
for name, observed, expected in [
    (f"exp(w).max(1).sum() at w = {values.tolist()}", fused, expected_fused),
    ("max([v, v, u]) at v = 3, u = 1", copies, expected_copies),
]:
    right = np.allclose(observed, expected, rtol=1e-12, atol=0)
    print(f"gradient of {name}:\n  observed {observed.tolist()}")
    print(f"  expected {expected.tolist()}{'' if right else '  <- wrong'}")
    wrong += [] if right else [name]
sys.exit(1 if wrong else 0)
