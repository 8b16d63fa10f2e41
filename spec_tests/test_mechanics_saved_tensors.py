"""Hooks for saved tensors: pack_hook when a tensor is saved, unpack_hook when backward uses it."""

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec


@spec(
    "mechanics.saved-tensors-hooks",
    sources=["docs:autograd-mechanics#hooks-for-saved-tensors", "docs:autograd#torch.autograd.graph"],
    needs=[cap.AUTOGRAD, cap.SAVED_TENSOR_HOOKS],
    kind=VALUE,
)
def test_pack_and_unpack_hooks_wrap_every_saved_tensor(engine):
    """pack_hook takes a saved tensor and may return any object; unpack_hook takes that object and returns the
    tensor used in the backward pass: y = x * x saves x twice, so each hook runs twice."""
    packed, unpacked = [], []

    def pack_hook(tensor):
        packed.append(engine.to_numpy(tensor))
        return ("packed", tensor)

    def unpack_hook(box):
        unpacked.append(box[0])
        return box[1]

    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with engine.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
        y = x * x
    assert len(packed) == 2 and unpacked == []
    np.testing.assert_array_equal(packed[0], [1.0, 2.0])
    y.sum().backward()
    assert unpacked == ["packed", "packed"]
    np.testing.assert_array_equal(engine.to_numpy(x.grad), [2.0, 4.0])
