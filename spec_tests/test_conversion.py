"""Getting values out of tensors: item(), tolist(), numpy() and the GPU's cpu() step (seed 002)."""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, SURFACE, VALUE, spec
from conformance.refusals import refuses


def widest_float(engine):
    """The engine's float64 tensor maker where it declares float64, its float32 one otherwise."""
    return engine.tensor64 if cap.FLOAT64 in engine.capabilities else engine.tensor


#: one-element tensors that item() must read, by how they hold their element
ONE_ELEMENT = {
    "shape-1": lambda engine: engine.randn(1, requires_grad=True),
    "0-d": lambda engine: engine.randn(1, requires_grad=True).sum(),
    "float64-1x1": lambda engine: widest_float(engine)(np.random.standard_normal((1, 1)), requires_grad=True),
    "slice-of-4": lambda engine: engine.randn(4, requires_grad=True)[2:3],
}


@spec(
    "conversion.item", sources=["002", "docs:generated/torch.Tensor.item"], needs=[cap.AUTOGRAD, cap.NUMPY], kind=VALUE
)
@pytest.mark.parametrize("made", ONE_ELEMENT)
def test_item_gives_a_python_number(engine, made):
    """tensor.item() turns a one-element tensor, such as a loss, into a Python float, even when it requires
    grad: "Returns the value of this tensor as a standard Python number. This only works for tensors with one
    element."

    Whatever holds the one element: shape (1,), a 0-d sum, float64 (whose value a Python float holds exactly;
    float32 on an engine without float64), a slice of a larger tensor (a view whose element sits at an offset of
    its storage)."""
    x = ONE_ELEMENT[made](engine)
    y = x.item()
    assert type(y) is float
    assert y == engine.to_numpy(x).reshape(()).item()


@spec("conversion.item-one-element", sources=["002"], needs=[cap.NUMPY], kind=REFUSAL)
def test_item_refuses_several_elements(engine):
    """item() only works for a tensor that holds exactly one element: for one with several it refuses, and the
    tensor keeps its values."""
    x = engine.randn(2, 2)
    before = engine.to_numpy(x)
    with refuses("item() of a 2x2 tensor"):
        x.item()
    np.testing.assert_array_equal(engine.to_numpy(x), before)


@spec("conversion.item-one-element-torch-error", sources=["002"], needs=[cap.NUMPY, cap.TORCH_ERRORS], kind=SURFACE)
def test_item_of_several_elements_is_torchs_runtime_error(engine):
    """item() of a tensor with several elements raises torch's RuntimeError, whose message speaks of the one
    element a tensor must have."""
    with refuses("item() of a 2x2 tensor") as refusal:
        engine.randn(2, 2).item()
    refusal.with_torch_error(RuntimeError, "element")


@spec("conversion.tolist", sources=["002", "docs:generated/torch.Tensor.tolist"], needs=[cap.NUMPY], kind=VALUE)
def test_tolist_gives_nested_python_lists(engine):
    """To turn a tensor with several elements into a Python list, use tensor.tolist(): "Returns the tensor as a
    (nested) list. For scalars, a standard Python number is returned, just like with item()."

    A list per dimension (a 2x2, a 2x3x2, a strided view of a 2x4 whose rows skip every other element), and a
    0-d tensor's number."""
    x = engine.randn(2, 2)
    y = x.tolist()
    assert type(y) is list
    assert all(type(row) is list and all(type(value) is float for value in row) for row in y)
    assert y == engine.to_numpy(x).tolist()
    cube, rectangle = engine.randn(2, 3, 2), engine.randn(2, 4)
    assert cube.tolist() == engine.to_numpy(cube).tolist()
    assert rectangle[:, ::2].tolist() == engine.to_numpy(rectangle)[:, ::2].tolist()
    scalar = rectangle.sum()
    assert type(scalar.tolist()) is float
    assert scalar.tolist() == engine.to_numpy(scalar).item()


@spec("conversion.numpy-needs-detach", sources=["002"], needs=[cap.AUTOGRAD, cap.DETACH, cap.NUMPY], kind=REFUSAL)
def test_numpy_of_a_tensor_that_requires_grad_needs_detach(engine):
    """If the tensor requires grad, a detach is needed before converting it to NumPy:
    y.cpu().detach().numpy()."""
    y = engine.rand(3, 3, requires_grad=True)
    with refuses("numpy() of a tensor that requires grad"):
        y.cpu().numpy()
    assert y.requires_grad is True
    y_ = y.cpu().detach().numpy()
    assert isinstance(y_, np.ndarray)
    np.testing.assert_array_equal(y_, engine.to_numpy(y))


@spec(
    "conversion.numpy-needs-detach-torch-error",
    sources=["002"],
    needs=[cap.AUTOGRAD, cap.NUMPY, cap.TORCH_ERRORS],
    kind=SURFACE,
)
def test_numpy_of_a_tensor_that_requires_grad_is_torchs_runtime_error(engine):
    """numpy() of a tensor that requires grad raises torch's RuntimeError, saying that it requires grad."""
    with refuses("numpy() of a tensor that requires grad") as refusal:
        engine.rand(3, 3, requires_grad=True).cpu().numpy()
    refusal.with_torch_error(RuntimeError, "requires grad")


@spec("conversion.gpu-numpy-needs-cpu", sources=["002"], needs=[cap.AUTOGRAD, cap.DETACH, cap.NUMPY], kind=REFUSAL)
def test_gpu_tensor_must_move_to_the_cpu_before_numpy(engine):
    """NumPy is CPU-only: a GPU tensor must be copied to the CPU first (x.cpu().numpy()), and one that
    requires grad detached too (y.cpu().detach().numpy()).

    Applies to backends whose tensors live on an accelerator; on the CPU there is nothing to move."""
    if engine.device == "cpu":
        pytest.skip(f"not applicable: tensors live on {engine.device}")
    x = engine.rand(3, 3)
    with refuses("numpy() of a tensor on the accelerator"):
        x.numpy()
    np.testing.assert_array_equal(x.cpu().numpy(), engine.to_numpy(x))
    y = engine.rand(3, 3, requires_grad=True)
    np.testing.assert_array_equal(y.cpu().detach().numpy(), engine.to_numpy(y))


@spec("conversion.gpu-numpy-needs-cpu-torch-error", sources=["002"], needs=[cap.NUMPY, cap.TORCH_ERRORS], kind=SURFACE)
def test_numpy_of_a_gpu_tensor_is_torchs_type_error(engine):
    """numpy() of a tensor on the GPU raises torch's TypeError, which names NumPy and tells to copy the tensor to
    the CPU first.

    Applies to backends whose tensors live on an accelerator; on the CPU there is nothing to move."""
    if engine.device == "cpu":
        pytest.skip(f"not applicable: tensors live on {engine.device}")
    with refuses("numpy() of a tensor on the accelerator") as refusal:
        engine.rand(3, 3).numpy()
    refusal.with_torch_error(TypeError, "numpy")
