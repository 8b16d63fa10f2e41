"""The computational graph: leaves, grad_fn, next_functions, a new graph per forward, and .grad kept on leaves
only ("Computational Graph", seeds 001, 002, 003)."""

import re

import numpy as np
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


def leaf_nodes(root) -> list:
    """The nodes without next_functions reached from ``root.grad_fn`` by walking next_functions (depth first,
    each node once): the leaves' AccumulateGrad nodes. Inputs that need no gradient appear as None and end the
    walk there."""
    reached, pending, seen = [], [root.grad_fn], {}
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node  # held, so that no later node can take this id
        following = [function for function, _ in node.next_functions]
        if following:
            pending.extend(following)
        else:
            reached.append(node)
    return reached


def accumulated_leaves(root) -> list:
    """The tensors of the AccumulateGrad nodes at the end of ``root``'s graph (their .variable)."""
    return [node.variable for node in leaf_nodes(root)]


@spec(
    "graph.walk-reaches-leaves",
    sources=["001", "003", "docs:autograd#torch.autograd.graph.Node"],
    needs=[cap.AUTOGRAD, cap.GRAPH],
    kind=VALUE,
)
def test_walking_next_functions_ends_at_each_leaf(engine):
    """In this DAG, leaves are the input tensors, roots are the output tensors: tracing the graph from the
    root's grad_fn through next_functions ends at one AccumulateGrad node per leaf that requires grad, whose
    .variable is that leaf itself; an input that requires no grad is not in the graph.

    Q = 3a³ − b² + c with c not requiring grad: the walk reaches a's node and b's node and nothing else."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    b = engine.tensor([6.0, 4.0], requires_grad=True)
    c = engine.tensor([1.0, 1.0])
    Q = 3 * a**3 - b**2 + c
    leaves = accumulated_leaves(Q)
    assert len(leaves) == 2
    assert any(leaf is a for leaf in leaves)
    assert any(leaf is b for leaf in leaves)


@spec(
    "graph.rebuilt-every-forward",
    sources=["001", "003", "docs:autograd-tutorial#computational-graph"],
    needs=[cap.AUTOGRAD, cap.GRAPH],
    kind=VALUE,
)
def test_graph_is_built_anew_on_every_forward(engine):
    """DAGs are dynamic in PyTorch: the graph is recreated from scratch on every forward pass, which is what
    allows control flow statements in the model; the operations can change at every iteration.

    Three passes take alternating branches (Q = 3a³, Q = a·b, Q = 3a³ again): each pass's root has a new
    grad_fn, the walk from it reaches the leaves that pass used, and its backward adds that pass's gradients
    (dQ/da = 9a², then dQ/da = b and dQ/db = a)."""
    a = engine.tensor([2.0, 3.0], requires_grad=True)
    b = engine.tensor([6.0, 4.0], requires_grad=True)
    roots = []
    expected_a, expected_b = np.zeros(2), np.zeros(2)
    for iteration in range(3):
        if iteration % 2 == 0:  # control flow decides which graph this forward builds
            Q, used = 3 * a**3, [a]
            expected_a += [36.0, 81.0]
        else:
            Q, used = a * b, [a, b]
            expected_a += [6.0, 4.0]
            expected_b += [2.0, 3.0]
        Q.sum().backward()
        assert all(Q.grad_fn is not root.grad_fn for root in roots)
        assert sorted(map(id, accumulated_leaves(Q))) == sorted(map(id, used))
        np.testing.assert_array_equal(engine.to_numpy(a.grad), expected_a)
        if iteration == 0:
            assert b.grad is None
        else:
            np.testing.assert_array_equal(engine.to_numpy(b.grad), expected_b)
        roots.append(Q)


@spec("graph.non-leaf-grad-not-retained", sources=["002"], needs=[cap.AUTOGRAD], kind=VALUE)
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_grad_is_kept_on_leaves_only(engine):
    """During backward, only the gradients of leaf tensors (is_leaf=True) that require grad are kept; a
    non-leaf's .grad stays None, and the leaf's holds d(mean(b²))/da = b = a + 2.

    torch also warns when a non-leaf's .grad is read; the warning is not part of the contract."""
    a = engine.tensor([1.0, 3.0], requires_grad=True)
    b = a + 2
    (b * b).mean().backward()
    assert b.grad is None
    np.testing.assert_array_equal(engine.to_numpy(a.grad), [3.0, 5.0])
