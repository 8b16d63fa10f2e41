"""Getting values out of tensors: item(), tolist(), numpy() and the GPU's cpu() step (seed 002)."""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, VALUE, spec


@spec("conversion.item", sources=["002"], needs=[cap.AUTOGRAD, cap.NUMPY], kind=VALUE)
def test_item_gives_a_python_number(engine):
    """tensor.item() turns a one-element tensor, such as a loss, into a Python float, even when it requires
    grad."""
    x = engine.randn(1, requires_grad=True)
    y = x.item()
    assert type(y) is float
    assert y == engine.to_numpy(x)[0]


@spec("conversion.item-one-element", sources=["002"], needs=[cap.NUMPY], kind=REFUSAL)
def test_item_refuses_several_elements(engine):
    """item() only works for a tensor that holds exactly one element."""
    x = engine.randn(2, 2)
    with pytest.raises(RuntimeError, match="element"):
        x.item()


@spec("conversion.tolist", sources=["002"], needs=[cap.NUMPY], kind=VALUE)
def test_tolist_gives_nested_python_lists(engine):
    """To turn a tensor with several elements into a Python list, use tensor.tolist()."""
    x = engine.randn(2, 2)
    y = x.tolist()
    assert type(y) is list
    assert all(type(row) is list and all(type(value) is float for value in row) for row in y)
    assert y == engine.to_numpy(x).tolist()


@spec("conversion.numpy-needs-detach", sources=["002"], needs=[cap.AUTOGRAD, cap.DETACH, cap.NUMPY], kind=REFUSAL)
def test_numpy_of_a_tensor_that_requires_grad_needs_detach(engine):
    """If the tensor requires grad, a detach is needed before converting it to NumPy:
    y.cpu().detach().numpy()."""
    y = engine.rand(3, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        y.cpu().numpy()
    y_ = y.cpu().detach().numpy()
    assert isinstance(y_, np.ndarray)
    np.testing.assert_array_equal(y_, engine.to_numpy(y))


@spec("conversion.gpu-numpy-needs-cpu", sources=["002"], needs=[cap.AUTOGRAD, cap.DETACH, cap.NUMPY], kind=REFUSAL)
def test_gpu_tensor_must_move_to_the_cpu_before_numpy(engine):
    """NumPy is CPU-only: a GPU tensor must be copied to the CPU first (x.cpu().numpy()), and one that
    requires grad detached too (y.cpu().detach().numpy()).

    Applies to backends whose tensors live on an accelerator; on the CPU there is nothing to move."""
    if engine.device == "cpu":
        pytest.skip(f"not applicable: tensors live on {engine.device}")
    x = engine.rand(3, 3)
    with pytest.raises(TypeError, match="numpy"):
        x.numpy()
    np.testing.assert_array_equal(x.cpu().numpy(), engine.to_numpy(x))
    y = engine.rand(3, 3, requires_grad=True)
    np.testing.assert_array_equal(y.cpu().detach().numpy(), engine.to_numpy(y))
