"""paddle's gradient of narrow over a strided view is wrong, and a few backward passes on the process hangs.

x = base[::2] is a view of rows 0 and 2 of base; paddle.narrow(x, 1, 1, 2) keeps two of their columns, and the
gradient of (narrow(x) ** 2).sum() w.r.t. base is 2 * base on those elements and 0 elsewhere (torch's). paddle's
reaches row 0 only: row 2's is 0. Within a few repetitions the process hangs in native code (once glibc reported
"malloc_consolidate(): unaligned fastbin chunk detected": the lost gradient is written where it corrupts the heap).
The same gradient through the slice x[:, 1:3] is right.

Observed on paddlepaddle 3.3.1, CPU, float64. The repetitions run in a child process with a time limit (the hang
would take this one with it); prints what they came to; exits 1 while a gradient is wrong or the child hangs or
dies, 0 once all are right.
"""

import subprocess
import sys

CHILD = """
import numpy as np
import paddle

print("paddle", paddle.__version__, flush=True)
for repetition in range(20):
    values = np.arange(24, dtype=np.float64).reshape(4, 3, 2) + repetition
    base = paddle.to_tensor(values, stop_gradient=False)
    (grad,) = paddle.grad([(paddle.narrow(base[::2], 1, 1, 2) ** 2).sum()], [base])
    expected = np.zeros((4, 3, 2))
    expected[::2, 1:3] = 2 * values[::2, 1:3]
    right = np.array_equal(grad.numpy(), expected)
    print("repetition", repetition, "right" if right else "wrong", flush=True)
    if repetition == 0:
        print("  observed", grad.numpy().reshape(4, 6).tolist(), "\\n  expected", expected.reshape(4, 6).tolist())
"""

try:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    stdout, outcome = done.stdout, f"exit status {done.returncode}"
    stopped = done.returncode != 0
except subprocess.TimeoutExpired as expired:
    stdout, outcome, stopped = (expired.stdout or b"").decode(), "still running after 60 s (hung)", True
print("\n".join(line for line in stdout.splitlines() if not line.startswith("repetition")))
lines = [line for line in stdout.splitlines() if line.startswith("repetition")]
wrong = sum(line.endswith("wrong") for line in lines)
print(f"20 gradients of (narrow(base[::2], 1, 1, 2) ** 2).sum(): {len(lines)} computed, {wrong} wrong, then {outcome}")
print(f"  expected: 20 right, exit status 0{'  <- wrong, hung or died' if wrong or stopped else ''}")
sys.exit(1 if wrong or stopped or len(lines) < 20 else 0)
