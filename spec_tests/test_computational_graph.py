"""The computational graph: leaves, grad_fn, next_functions, a new graph per forward, and .grad kept on leaves
only ("Computational Graph", seeds 001, 002, 003)."""

import re

import pytest

from backends import capabilities as cap
from conformance.catalogue import SURFACE, VALUE, spec


def backward_name(function) -> str:
    """A graph node's name without its C++ namespace and overload number, accidents of the release
    (torch::autograd::AccumulateGrad, AddBackward0)."""
    return re.sub(r"\d+$", "", function.name().rsplit("::", 1)[-1])


@spec("graph.leaf", sources=["001", "002"], needs=[cap.AUTOGRAD, cap.GRAPH], kind=VALUE)
def test_user_created_tensors_are_leaves(engine):
    """When a tensor is created by the user it is a leaf node, and the grad_fn of a leaf is None; by
    convention a tensor with requires_grad=False is a leaf too."""
    a = engine.ones(2, 2, requires_grad=True)
    assert a.is_leaf is True
    assert a.grad_fn is None
    x = engine.ones(2, 2)
    assert x.is_leaf is True
    assert x.grad_fn is None


@spec(
    "graph.non-leaf-grad-fn",
    sources=["000", "002", "003"],
    needs=[cap.AUTOGRAD, cap.GRAPH, cap.GRAPH_NAMES],
    kind=SURFACE,
)
def test_results_of_operations_have_a_grad_fn(engine):
    """A tensor produced by an operation is not a leaf and its grad_fn is not None: b = a + 2 has
    <AddBackward0>, and (x * x).sum() has <SumBackward0>."""
    a = engine.ones(2, 2, requires_grad=True)
    b = a + 2
    assert b.is_leaf is False
    assert backward_name(b.grad_fn) == "AddBackward"
    assert backward_name((a * a).sum().grad_fn) == "SumBackward"


@spec("graph.next-functions", sources=["001", "003"], needs=[cap.AUTOGRAD, cap.GRAPH, cap.GRAPH_NAMES], kind=SURFACE)
def test_next_functions_lead_back_to_the_leaves(engine):
    """The graph is a DAG of Function objects whose leaves are the input tensors: tracing it from the root's
    grad_fn through next_functions reaches an AccumulateGrad node for each leaf."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    b = engine.tensor([6.0, 4.0], requires_grad=True)
    c = a + b
    assert [backward_name(function) for function, _ in c.grad_fn.next_functions] == [
        "AccumulateGrad",
        "AccumulateGrad",
    ]


@spec("graph.rebuilt-every-forward", sources=["001", "003"], needs=[cap.AUTOGRAD, cap.GRAPH], kind=VALUE)
def test_graph_is_built_anew_on_every_forward(engine):
    """DAGs are dynamic in PyTorch: the graph is recreated from scratch on every forward pass, so each
    iteration's result has a new grad_fn."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    roots = []
    for _ in range(2):
        Q = 3 * a**3
        Q.sum().backward()
        roots.append(Q)
    assert roots[0].grad_fn is not None
    assert roots[0].grad_fn is not roots[1].grad_fn


@spec("graph.non-leaf-grad-not-retained", sources=["002"], needs=[cap.AUTOGRAD], kind=VALUE)
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_grad_is_kept_on_leaves_only(engine):
    """During backward, only the gradients of leaf tensors (is_leaf=True) that require grad are kept; a
    non-leaf's .grad stays None.

    torch also warns when a non-leaf's .grad is read; the warning is not part of the contract."""
    a = engine.tensor([1.0, 3.0], requires_grad=True)
    b = a + 2
    (b * b).mean().backward()
    assert b.grad is None
    assert a.grad is not None
