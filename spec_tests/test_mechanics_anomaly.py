"""Anomaly detection: a NaN in backward is an error naming the op, with the traceback of its forward call."""

import warnings
from pathlib import Path

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, SURFACE, spec
from conformance.refusals import refuses

ANOMALY = ["docs:autograd#anomaly-detection", "docs:autograd#torch.autograd.detect_anomaly"]


def backward_through_sqrt_of_zero(engine):
    """x = [0, 1]; y = x.sqrt(); (y * 0).sum().backward() under detect_anomaly(): the gradient of sqrt at 0 is
    infinite, times 0 it is NaN. Returns x, the refusal and the messages of the warnings issued."""
    x = engine.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught, engine.autograd.detect_anomaly():
        warnings.simplefilter("always")
        y = x.sqrt()
        loss = (y * 0).sum()
        with refuses("backward producing NaN under detect_anomaly()") as refusal:
            loss.backward()
    return x, refusal, [str(warning.message) for warning in caught]


@spec(
    "mechanics.anomaly-names-forward-op",
    sources=ANOMALY,
    needs=[cap.AUTOGRAD, cap.TENSOR_MATH, cap.ANOMALY],
    kind=REFUSAL,
)
def test_anomaly_detection_names_the_failing_op_and_its_forward_call(engine):
    """Running the forward pass with detection enabled will allow the backward pass to print the traceback of
    the forward operation that created the failing backward function, and any backward computation that
    generates "nan" values will raise an error.

    The spec asks for the refusal, no NaN gradient in x.grad, and the forward call's line (y = x.sqrt()) in what
    the engine says (a warning or the error); torch's words are checked by
    mechanics.anomaly-torch-error."""
    x, refusal, messages = backward_through_sqrt_of_zero(engine)
    assert x.grad is None
    said = [*messages, str(refusal.error)]
    assert any("y = x.sqrt()" in message for message in said), said


@spec(
    "mechanics.anomaly-torch-error",
    sources=ANOMALY,
    needs=[cap.AUTOGRAD, cap.TENSOR_MATH, cap.ANOMALY, cap.TORCH_ERRORS],
    kind=SURFACE,
)
def test_anomaly_error_and_warning_are_torchs(engine):
    """torch's anomaly error is a RuntimeError naming the backward function ("SqrtBackward0") and NaN, and its
    warning "Traceback of forward call that caused the error" names the op, this file and the forward line."""
    _, refusal, messages = backward_through_sqrt_of_zero(engine)
    refusal.with_torch_error(RuntimeError, r"(?i)sqrt.*nan")
    forward_traces = [message for message in messages if "Traceback of forward call" in message]
    assert forward_traces, messages
    assert "Sqrt" in forward_traces[0]
    assert Path(__file__).name in forward_traces[0]
    assert "y = x.sqrt()" in forward_traces[0]
