"""Custom autograd.Function: forward and backward, save_for_backward and the version check on saved tensors."""

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, SURFACE, VALUE, spec
from conformance.refusals import refuses

EXTENDING = "docs:notes/extending#extending-torch-autograd"


def exp_function(engine):
    """The documentation's Exp: saves its result for backward, whose gradient is the result itself."""

    class Exp(engine.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    return Exp


@spec(
    "mechanics.custom-function",
    sources=[EXTENDING, "docs:autograd#function"],
    needs=[cap.AUTOGRAD, cap.CUSTOM_FUNCTION],
    kind=VALUE,
)
def test_custom_function_backward_computes_the_gradient(engine):
    """Function.apply runs forward and records the node; backward receives the output gradient and the
    tensors kept with ctx.save_for_backward, and returns the input gradient."""
    x = engine.tensor([0.0, 1.0], requires_grad=True)
    y = exp_function(engine).apply(x)
    assert y.requires_grad is True
    y.backward(engine.tensor([1.0, 2.0]))
    np.testing.assert_allclose(engine.to_numpy(x.grad), [1.0, 2 * np.e], rtol=1e-6)


@spec(
    "mechanics.custom-function-saved-version-check",
    sources=[EXTENDING, "docs:autograd#torch.autograd.function.FunctionCtx.save_for_backward"],
    needs=[cap.AUTOGRAD, cap.CUSTOM_FUNCTION, cap.INPLACE],
    kind=REFUSAL,
)
def test_saved_tensor_modified_in_place_is_an_error(engine):
    """Before saved_tensors are returned, a check is made to ensure they weren't used in any in-place
    operation that modified their content: backward refuses, and no gradient reaches the input."""
    x = engine.tensor([0.0, 1.0], requires_grad=True)
    y = exp_function(engine).apply(x)
    y.add_(1)
    with refuses("backward through a custom Function whose saved output was modified in place"):
        y.sum().backward()
    assert x.grad is None


@spec(
    "mechanics.custom-function-saved-version-check-torch-error",
    sources=[EXTENDING, "docs:autograd#torch.autograd.function.FunctionCtx.save_for_backward"],
    needs=[cap.AUTOGRAD, cap.CUSTOM_FUNCTION, cap.INPLACE, cap.TORCH_ERRORS],
    kind=SURFACE,
)
def test_saved_tensor_modified_in_place_is_torchs_runtime_error(engine):
    """The version check on saved_tensors raises torch's RuntimeError, saying a variable needed for gradient
    computation "has been modified by an inplace operation"."""
    x = engine.tensor([0.0, 1.0], requires_grad=True)
    y = exp_function(engine).apply(x)
    y.add_(1)
    with refuses("backward through a custom Function whose saved output was modified in place") as refusal:
        y.sum().backward()
    refusal.with_torch_error(RuntimeError, "modified by an inplace operation")
