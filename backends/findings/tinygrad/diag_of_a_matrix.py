"""tinygrad's diag takes a vector only: diag of a matrix raises instead of taking its diagonal.

torch.diag of a 2-d input is its diagonal (torch.diag([[1, 2], [3, 4]]) is [1, 4]) and the gradient goes back to
the diagonal's elements; tinygrad's Tensor.diag() raises ValueError("expect input to be 1-D, getting 2-D"). An API
gap, no wrong gradient.

Observed on tinygrad 0.14.0, PYTHON device. Prints what happened and what torch documents; exits 1 while diag of a
matrix is refused, 0 once it is the diagonal.
"""

import sys
from importlib.metadata import version

import numpy as np
from tinygrad import Tensor

print(f"tinygrad {version('tinygrad')}")
x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), device="PYTHON")
expected = [1.0, 4.0]
try:
    observed = x.diag().numpy().tolist()
except ValueError as error:
    print(f"Tensor([[1, 2], [3, 4]]).diag(): raised ValueError({str(error)!r}), expected the diagonal {expected}")
    sys.exit(1)
right = observed == expected
print(f"Tensor([[1, 2], [3, 4]]).diag(): observed {observed}, expected {expected}{'' if right else '  <- wrong'}")
sys.exit(0 if right else 1)
