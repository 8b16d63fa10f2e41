"""paddle's gradient of eigvalsh is wrong for a batch of more than one matrix.

For a symmetric S = V diag(λ) Vᵀ, the gradient of Σ w·λ w.r.t. S is V diag(w) Vᵀ (torch's, and paddle's own for
one matrix, or a batch of one). For a batch of two, paddle.linalg.eigvalsh computes the right eigenvalues, but the
gradient is not even symmetric: the middle row of each matrix's is wrong (off by up to 1, entries being below 1).

Observed on paddlepaddle 3.3.1, CPU, float64. Prints the observed and the expected gradients; exits 1 while the bug
is there, 0 once it is fixed.
"""

import sys

import numpy as np
import paddle

print(f"paddle {paddle.__version__}")
matrices = np.array(
    [[[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]], [[1.0, 0.5, 0.0], [0.5, -1.0, 2.0], [0.0, 2.0, 0.5]]]
)
weights = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
_, vectors = np.linalg.eigh(matrices)
expected = vectors @ (weights[..., None] * np.swapaxes(vectors, -1, -2))
wrong = False
for name, batch in [("one matrix", slice(0, 1)), ("a batch of two", slice(0, 2))]:
    s = paddle.to_tensor(matrices[batch], stop_gradient=False)
    (paddle.linalg.eigvalsh(s) * paddle.to_tensor(weights[batch])).sum().backward()
    observed = s.grad.numpy()
    right = np.allclose(observed, expected[batch], rtol=1e-10, atol=1e-12)
    print(f"gradient of sum(w * eigvalsh(S)) for {name}:\n  observed {observed.round(6).tolist()}")
    print(f"  expected {expected[batch].round(6).tolist()}{'' if right else '  <- wrong'}")
    wrong = wrong or not right
sys.exit(1 if wrong else 0)
