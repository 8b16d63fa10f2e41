"""Inference mode: like no_grad, and its tensors cannot be used in computations recorded by autograd."""

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, SURFACE, VALUE, spec
from conformance.refusals import refuses

INFERENCE_MODE = "docs:autograd-mechanics#inference-mode"


@spec(
    "mechanics.inference-mode-no-grad",
    sources=[INFERENCE_MODE, "docs:autograd#torch.autograd.grad_mode.inference_mode"],
    needs=[cap.AUTOGRAD, cap.INFERENCE_MODE],
    kind=VALUE,
)
def test_inference_mode_results_do_not_require_grad(engine):
    """InferenceMode is analogous to no_grad: results computed in it do not require grad."""
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with engine.inference_mode():
        y = x * x
    assert y.requires_grad is False


@spec(
    "mechanics.inference-tensors-refused-by-autograd",
    sources=[INFERENCE_MODE, "docs:autograd#torch.autograd.grad_mode.inference_mode"],
    needs=[cap.AUTOGRAD, cap.INFERENCE_MODE],
    kind=REFUSAL,
)
def test_inference_tensors_cannot_be_recorded_later(engine):
    """Tensors created in inference mode will not be able to be used in computations to be recorded by
    autograd after exiting inference mode: saving one for backward is an error, and the tensors keep their
    values."""
    with engine.inference_mode():
        scale = engine.tensor([3.0, 4.0]) * 1
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with refuses("x * scale, scale an inference tensor and x requiring grad"):
        x * scale
    np.testing.assert_array_equal(engine.to_numpy(scale), [3.0, 4.0])
    np.testing.assert_array_equal(engine.to_numpy(x), [1.0, 2.0])
    assert x.grad is None


@spec(
    "mechanics.inference-tensors-refused-torch-error",
    sources=[INFERENCE_MODE, "docs:autograd#torch.autograd.grad_mode.inference_mode"],
    needs=[cap.AUTOGRAD, cap.INFERENCE_MODE, cap.TORCH_ERRORS],
    kind=SURFACE,
)
def test_inference_tensor_saved_for_backward_is_torchs_runtime_error(engine):
    """Saving an inference tensor for backward raises torch's RuntimeError: "Inference tensors cannot be saved
    for backward"."""
    with engine.inference_mode():
        scale = engine.tensor([3.0, 4.0]) * 1
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with refuses("x * scale, scale an inference tensor and x requiring grad") as refusal:
        x * scale
    refusal.with_torch_error(RuntimeError, "Inference tensors cannot be saved for backward")
