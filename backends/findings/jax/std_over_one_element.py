"""jax's gradient of std over one element is NaN, where the function is constant.

The population standard deviation over a dimension of one element (jnp.std(x, axis=1, ddof=0) of a (3, 1) input)
is 0 whatever x is, so its gradient is 0 (torch's x.std(dim=1, correction=0)). jax's is NaN: jnp.std is
sqrt(var), differentiated as such, the derivative of sqrt at 0 times the variance's derivative, 0.

Observed on jax 0.10.2 (jaxlib 0.10.2), CPU, float64. Prints the observed and the expected gradients; exits 1 while
the bug is there, 0 once it is fixed.
"""

import sys

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402  (after enabling float64)

print(f"jax {jax.__version__}")
x = jnp.array([[0.0], [1.0], [2.0]])
value = jnp.std(x, axis=1, ddof=0)
observed = np.asarray(jax.grad(lambda v: jnp.std(v, axis=1, ddof=0).sum())(x))
expected = np.zeros((3, 1))
right = np.array_equal(observed, expected)
print(f"jnp.std(x, axis=1, ddof=0) of x = [[0], [1], [2]]: {np.asarray(value).tolist()}")
print(f"its gradient: observed {observed.tolist()}, expected {expected.tolist()}{'' if right else '  <- wrong'}")
sys.exit(0 if right else 1)
