"""Multithreaded autograd: backward on independent graphs from several threads at once."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec

THREADS = 4


@spec(
    "mechanics.threads-independent-backward",
    sources=["docs:autograd-mechanics#multithreaded-autograd"],
    needs=[cap.AUTOGRAD, cap.THREADS],
    kind=VALUE,
)
def test_backward_in_several_threads_on_independent_graphs(engine):
    """The user can run forward and backward in multiple threads concurrently; each thread's backward on its
    own graph yields that graph's gradients."""
    inputs = [engine.tensor([float(k), float(k) + 1], requires_grad=True) for k in range(THREADS)]

    def train_fn(x):
        y = (x**2).sum()
        y.backward()
        return engine.to_numpy(x.grad)

    with ThreadPoolExecutor(THREADS) as pool:
        grads = list(pool.map(train_fn, inputs))
    for k, grad in enumerate(grads):
        np.testing.assert_array_equal(grad, [2.0 * k, 2.0 * k + 2])
