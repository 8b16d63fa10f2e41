"""Custom autograd.Function: forward and backward, save_for_backward and the version check on saved tensors."""

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, SURFACE, VALUE, spec
from conformance.nn_oracle import assert_within, bound
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


def linear_function(engine):
    """The documentation's LinearFunction, for an input that does not require grad: saves the input, and passes
    None as the input's gradient."""

    class LinearFunction(engine.autograd.Function):
        @staticmethod
        def forward(ctx, input, weight, bias):
            ctx.save_for_backward(input)
            return input @ weight.t() + bias

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return None, grad_output.t() @ input, grad_output.sum(0)

    return LinearFunction


@spec(
    "mechanics.custom-function-several-inputs",
    sources=[EXTENDING],
    needs=[cap.AUTOGRAD, cap.CUSTOM_FUNCTION, cap.SHAPES, cap.TENSOR_MATH],
    kind=VALUE,
)
def test_custom_function_returns_a_gradient_per_input(engine):
    """backward "should return as many tensors, as there were inputs to forward(). Each argument is the gradient
    w.r.t the given output, and each returned value should be the gradient w.r.t. the corresponding input. If an
    input is not a Tensor or is a Tensor not requiring grads, you can just pass None as a gradient for that
    input".

    The documentation's LinearFunction on an input that does not require grad, a 2x3 weight and a bias
    (non-square, so a transposed gradient cannot pass): weight.grad = gᵀ·input and bias.grad = Σ g, computed in
    NumPy within conformance.nn_oracle's error bound (TF32 factors, any summation order), and input.grad stays
    None."""
    input_ = np.random.standard_normal((4, 3)).astype(np.float32)
    weight_ = np.random.standard_normal((2, 3)).astype(np.float32)
    bias_ = np.array([0.5, -1.0], dtype=np.float32)
    g = np.random.standard_normal((4, 2)).astype(np.float32)
    input, weight = engine.tensor(input_), engine.tensor(weight_, requires_grad=True)
    bias = engine.tensor(bias_, requires_grad=True)
    output = linear_function(engine).apply(input, weight, bias)
    x, w, b, g64 = (array.astype(np.float64) for array in (input_, weight_, bias_, g))
    affine = lambda x, w, b: x @ w.T + b  # noqa: E731 - one formula, evaluated and bounded
    assert_within(engine.to_numpy(output), affine(x, w, b), bound(affine, x, w, b), terms=4, name="output")
    output.backward(engine.tensor(g))
    assert input.grad is None
    assert_within(engine.to_numpy(weight.grad), g64.T @ x, bound(np.matmul, g64.T, x), terms=4, name="weight.grad")
    assert_within(engine.to_numpy(bias.grad), g64.sum(0), np.abs(g64).sum(0), terms=4, name="bias.grad", products=False)


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
