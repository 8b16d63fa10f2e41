"""Inference mode: like no_grad, and its tensors cannot be used in computations recorded by autograd."""

import pytest

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, VALUE, spec

INFERENCE_MODE = "docs:autograd-mechanics#inference-mode"


@spec(
    "mechanics.inference-mode-no-grad",
    sources=[INFERENCE_MODE, "docs:autograd#torch.autograd.grad_mode.inference_mode"],
    needs=[cap.INFERENCE_MODE],
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
    needs=[cap.INFERENCE_MODE],
    kind=REFUSAL,
)
def test_inference_tensors_cannot_be_recorded_later(engine):
    """Tensors created in inference mode will not be able to be used in computations to be recorded by
    autograd after exiting inference mode: saving one for backward is an error."""
    with engine.inference_mode():
        scale = engine.tensor([3.0, 4.0]) * 1
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        x * scale
