"""What counts as a refusal: any exception but the ones saying the API is missing; torch's class and words are
a separate check."""

import pytest

from backends import Unsupported
from conformance.refusals import refuses


def raise_(error):
    raise error


@pytest.mark.parametrize(
    "error",
    [
        ValueError("nope"),
        AssertionError("must have one element for item"),
        RuntimeError("a leaf Variable that requires grad is being used in an in-place operation."),
        SystemError("(Fatal) The TensorWrappers of SumGradNode do not exist"),
        TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() first."),
    ],
)
def test_any_exception_of_the_engine_is_a_refusal_and_is_kept(error):
    with refuses("the operation") as refusal:
        raise_(error)
    assert refusal.error is error


@pytest.mark.parametrize(
    "error",
    [
        AttributeError("'Tensor' object has no attribute 'item'"),
        NotImplementedError("not yet"),
        Unsupported("engine does not implement no_grad()"),
        TypeError("backward() got an unexpected keyword argument 'gradient'"),
        TypeError("item() takes 1 positional argument but 2 were given"),
        TypeError("f() missing 1 required positional argument: 'x'"),
    ],
)
def test_an_exception_saying_the_api_is_missing_is_no_refusal(error):
    with pytest.raises(pytest.fail.Exception, match="says the API is missing"), refuses("the operation"):
        raise_(error)


def test_no_exception_is_no_refusal():
    with pytest.raises(pytest.fail.Exception, match="the operation: did not refuse"), refuses("the operation"):
        pass


def test_an_interrupt_is_not_taken_for_a_refusal():
    with pytest.raises(KeyboardInterrupt), refuses("the operation"):
        raise KeyboardInterrupt


def test_torchs_error_is_its_class_and_words():
    with refuses("item() of a 2x2 tensor") as refusal:
        raise RuntimeError("a Tensor with 4 elements cannot be converted to Scalar")
    refusal.with_torch_error(RuntimeError, "element")
    with pytest.raises(AssertionError, match=r"refused with ValueError.*not torch.s RuntimeError"):
        with refuses("item() of a 2x2 tensor") as refusal:
            raise ValueError("only one element tensors can be converted to Python scalars")
        refusal.with_torch_error(RuntimeError, "element")
    with pytest.raises(AssertionError, match="lacks 'element'"):
        with refuses("item() of a 2x2 tensor") as refusal:
            raise RuntimeError("nope")
        refusal.with_torch_error(RuntimeError, "element")
