"""detach(): the data without gradient tracking, in the same storage (seed 002)."""

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec
from conformance.refusals import refuses


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


@spec(
    "detach.shares-version-counter",
    sources=["002", "docs:generated/torch.Tensor.detach"],
    needs=[cap.AUTOGRAD, cap.INPLACE, cap.DETACH, cap.VERSION_COUNTER],
    kind=VALUE,
)
def test_in_place_change_of_the_detached_tensor_is_seen_by_the_graph(engine):
    """In-place modifications on either the detached tensor or the original are seen and may trigger errors in
    correctness checks: b.detach().zero_() adds 1 to b's _version, and a backward that saved b then raises
    instead of using the zeroed values."""
    a = engine.tensor([7.0, 1.0, 2.0], requires_grad=True)
    b = a + 2
    loss = (b * b).sum()
    before = b._version
    b.detach().zero_()
    assert b._version == before + 1
    with refuses("loss.backward() after b.detach(), sharing b's storage, was zeroed in place"):
        loss.backward()
    assert a.grad is None
