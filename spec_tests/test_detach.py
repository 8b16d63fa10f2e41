"""detach(): the data without gradient tracking, in the same storage (seed 002)."""

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec


@spec("detach.no-tracking", sources=["002"], needs=[cap.AUTOGRAD, cap.DETACH], kind=VALUE)
def test_detached_tensor_does_not_track_gradients(engine):
    """b.detach() gives the tensor's data in a version with requires_grad=False: what is computed from it is
    not tracked either."""
    a = engine.tensor([7.0, 0.0, 0.0], requires_grad=True)
    b = a + 2
    b_ = b.detach()
    assert b_.requires_grad is False
    assert (b_ * b_).requires_grad is False
    np.testing.assert_array_equal(engine.to_numpy(b_), [9.0, 2.0, 2.0])


@spec("detach.shares-storage", sources=["002"], needs=[cap.AUTOGRAD, cap.INPLACE, cap.DETACH], kind=VALUE)
def test_detached_tensor_shares_storage(engine):
    """The detached tensor shares storage with the original: after b_ = b.detach(), b_.zero_() changes b's
    values too (tensor([0., 0., 0.], grad_fn=<AddBackward0>)), and changing b in place changes b_."""
    a = engine.tensor([7.0, 0.0, 0.0], requires_grad=True)
    b = a + 2
    b_ = b.detach()
    b_.zero_()
    np.testing.assert_array_equal(engine.to_numpy(b), [0.0, 0.0, 0.0])
    b[1] = 5.0
    np.testing.assert_array_equal(engine.to_numpy(b_), [0.0, 5.0, 0.0])
