"""Anomaly detection: a NaN in backward is an error naming the op, with the traceback of its forward call."""

import warnings
from pathlib import Path

import pytest

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, spec


@spec(
    "mechanics.anomaly-names-forward-op",
    sources=["docs:autograd#anomaly-detection", "docs:autograd#torch.autograd.detect_anomaly"],
    needs=[cap.AUTOGRAD, cap.TENSOR_MATH, cap.ANOMALY],
    kind=REFUSAL,
)
def test_anomaly_detection_names_the_failing_op_and_its_forward_call(engine):
    """Running the forward pass with detection enabled will allow the backward pass to print the traceback of
    the forward operation that created the failing backward function, and any backward computation that
    generates "nan" values will raise an error.

    torch names the backward function ("SqrtBackward0") in the error and warns with the forward traceback.
    """
    x = engine.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught, engine.autograd.detect_anomaly():
        warnings.simplefilter("always")
        y = x.sqrt()
        loss = (y * 0).sum()
        with pytest.raises(RuntimeError, match=r"(?i)sqrt.*nan"):
            loss.backward()
    forward_traces = [str(w.message) for w in caught if "Traceback of forward call" in str(w.message)]
    assert forward_traces, [str(w.message) for w in caught]
    assert "Sqrt" in forward_traces[0]
    assert Path(__file__).name in forward_traces[0]
    assert "y = x.sqrt()" in forward_traces[0]
