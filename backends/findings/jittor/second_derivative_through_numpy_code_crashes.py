"""jittor's second derivative through its numpy_code operators kills the process with a segmentation fault.

On the CPU, jittor's cumsum and its linalg (pinv, inv, det, slogdet) are jt.numpy_code operators: a NumPy forward
and a NumPy backward. Their first derivative works; differentiating that gradient again (jt.grad of jt.grad, a
Hessian-vector product) dereferences a null pointer. A second derivative is a number (torch: the Hessian of
sum(cumsum(x)) is 0), or an error that says it is not there, never the death of the process.

Observed on jittor 1.3.11.0, CPU, float64. Each case runs in a child process (the crash would take this one with it);
prints what each came to and the expected outcome; exits 1 while one still crashes, 0 once none does.
"""

import signal
import subprocess
import sys

CASES = {
    "cumsum": "jt.cumsum(x, dim=1)",
    "linalg.pinv": "jt.linalg.pinv(x)",
}
CHILD = """
import os

os.environ.setdefault("nvcc_path", "")  # jittor on a machine with nvcc but no GPU: its CPU build
os.environ.setdefault("use_mkl", "0")
import numpy as np
import jittor as jt

x = jt.array(np.array([[2.0, 1.0], [1.0, 3.0]]), dtype="float64")
(g,) = jt.grad(({expression}).sum(), [x])
print("first derivative:", g.numpy().tolist(), flush=True)
(h,) = jt.grad((g * jt.ones((2, 2), dtype="float64")).sum(), [x])
print("second derivative:", h.numpy().tolist(), flush=True)
"""

crashed = []
for name, expression in CASES.items():
    done = subprocess.run([sys.executable, "-c", CHILD.format(expression=expression)], capture_output=True, text=True)
    died = done.returncode < 0 and -done.returncode == signal.SIGSEGV
    # its derivatives, not the gdb trace jittor prints as it dies
    derivatives = [line for line in done.stdout.splitlines() if line.startswith(("first", "second"))]
    print(f"{name}: {'; '.join(derivatives)}")
    print(
        f"  observed: {'killed by SIGSEGV' if died else f'exit status {done.returncode}'}; expected: a second "
        f"derivative, or an exception{'  <- crashed' if died else ''}"
    )
    if died:
        crashed.append(name)
sys.exit(1 if crashed else 0)
