"""Multithreaded autograd: backward on independent graphs from several threads at once."""

import threading
import time

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec

THREADS = 4
#: seconds to wait for all threads: a backward that never returns fails the spec instead of hanging the run
JOIN_SECONDS = 60.0


@spec(
    "mechanics.threads-independent-backward",
    sources=["docs:autograd-mechanics#multithreaded-autograd"],
    needs=[cap.AUTOGRAD, cap.THREADS],
    kind=VALUE,
)
def test_backward_in_several_threads_on_independent_graphs(engine):
    """The user can run forward and backward in multiple threads concurrently; each thread's backward on its
    own graph yields that graph's gradients.

    The threads are daemons joined with a deadline, so that an engine stuck in one cannot keep the run (or
    the interpreter's exit) waiting."""
    inputs = [engine.tensor([float(k), float(k) + 1], requires_grad=True) for k in range(THREADS)]
    grads, errors = {}, {}

    def train_fn(k):
        try:
            y = (inputs[k] ** 2).sum()
            y.backward()
            grads[k] = engine.to_numpy(inputs[k].grad)
        except Exception as error:  # raised again below, in the spec's own thread
            errors[k] = error

    threads = [threading.Thread(target=train_fn, args=(k,), daemon=True) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if errors:
        raise errors[min(errors)]
    assert sorted(grads) == list(range(THREADS)), f"backward did not finish within {JOIN_SECONDS} s in every thread"
    for k in range(THREADS):
        np.testing.assert_array_equal(grads[k], [2.0 * k, 2.0 * k + 2])
