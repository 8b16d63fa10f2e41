"""Operator gradients: every operator of resnet18's training step (seed 000) and common tensor math.

Each entry of the operator catalogue (:mod:`conformance.operator_catalogue`, where a new operator is one more
line) is one spec, ``opgrad.<name>``: the operator written once against the contract, its input shapes (with
broadcasting and size-1 dimensions, 0-d and empty tensors, non-contiguous views taken inside the operator), and
what it needs. ``conformance.gradcheck.check_gradients`` compares the engine's gradients, asked for through the
functional entry point ``vjp`` (so an engine without a tape runs them), with torch's on the CPU and, where the
engine has float64, with central finite differences; forward mode and second derivatives too where the engine
declares ``jvp`` and ``vjp.second-order``.
"""

import pytest

from conformance.catalogue import VALUE, spec_param
from conformance.gradcheck import check_gradients
from conformance.operator_catalogue import CATALOGUE, Entry

TEST = f"{__name__}::test_operator_gradient"


def as_spec(entry: Entry):
    """The entry as its spec, a parameter of :func:`test_operator_gradient`."""
    return spec_param(
        entry.id,
        entry.op,
        says=entry.says,
        sources=entry.sources,
        test=TEST,
        kind=VALUE,
        needs=entry.needs,
        uses=entry.uses,
    )


@pytest.mark.parametrize("operator", [as_spec(entry) for entry in CATALOGUE])
def test_operator_gradient(engine, operator):
    check_gradients(engine, operator)
