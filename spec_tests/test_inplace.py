"""In-place operations: identity, the version counter, and the errors that protect gradients (seeds 002,
003)."""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import REFUSAL, SURFACE, VALUE, spec
from conformance.refusals import refuses


@spec("inplace.out-of-place-new-object", sources=["002"], needs=[], kind=VALUE)
def test_out_of_place_operation_makes_a_new_object(engine):
    """a = a.exp() is not in-place: a.exp() creates a new object and a is then bound to it (id(a) changes)."""
    a = engine.tensor([3.0, 1.0])
    original = a
    a = a.exp()
    assert a is not original
    np.testing.assert_array_equal(engine.to_numpy(original), [3.0, 1.0])
    np.testing.assert_allclose(engine.to_numpy(a), np.exp([3.0, 1.0]), rtol=1e-6)


@spec("inplace.setitem-keeps-identity", sources=["002"], needs=[cap.INPLACE], kind=VALUE)
def test_in_place_assignment_keeps_the_object(engine):
    """a[0] = 10 is in-place: the memory address does not change and a becomes tensor([10., 1.])."""
    a = engine.tensor([3.0, 1.0])
    original = a
    a[0] = 10
    assert a is original
    np.testing.assert_array_equal(engine.to_numpy(a), [10.0, 1.0])


@spec(
    "inplace.version-counter",
    sources=["002", "003"],
    needs=[cap.AUTOGRAD, cap.INPLACE, cap.VERSION_COUNTER],
    kind=VALUE,
)
def test_version_counts_in_place_operations(engine):
    """Every in-place operation on a tensor adds 1 to its _version, whose initial value is 0."""
    a = engine.tensor([1.0, 3.0], requires_grad=True)
    b = a + 2
    assert b._version == 0
    b[0] = 1000.0
    assert b._version == 1
    b.add_(1.0)
    assert b._version == 2


def assign_item(b):
    b[0] = 1000.0


def add_in_place(b):
    b.add_(1.0)


def add_to_a_slice_in_place(b):
    b[1:].add_(1.0)


@pytest.mark.parametrize(
    "modify",
    [
        pytest.param(assign_item, id="b[0] = 1000."),
        pytest.param(add_in_place, id="b.add_(1.)"),
        pytest.param(add_to_a_slice_in_place, id="b[1:].add_(1.)"),
    ],
)
@spec("inplace.saved-tensor-modified", sources=["002", "003"], needs=[cap.AUTOGRAD, cap.INPLACE], kind=REFUSAL)
def test_modifying_a_tensor_saved_for_backward_fails_at_backward(engine, modify):
    """A Function saves the version of the tensors it keeps for backward; if b was modified in place after
    loss = (b * b).mean() saved it, by an item assignment, an in-place method, or an in-place operation on a view
    of b (a view shares its base's version counter), loss.backward() raises an error saying it was modified by
    an inplace operation, and no gradient computed from the modified value reaches a.grad."""
    a = engine.tensor([1.0, 3.0], requires_grad=True)
    b = a + 2
    loss = (b * b).mean()
    modify(b)
    with refuses("loss.backward() after b, saved for it, was modified in place"):
        loss.backward()
    assert a.grad is None


@spec(
    "inplace.saved-tensor-modified-torch-error",
    sources=["002", "003"],
    needs=[cap.AUTOGRAD, cap.INPLACE, cap.TORCH_ERRORS],
    kind=SURFACE,
)
def test_modified_saved_tensor_is_torchs_runtime_error(engine):
    """The error of a backward through a tensor modified after it was saved is torch's RuntimeError: "one of the
    variables needed for gradient computation has been modified by an inplace operation"."""
    a = engine.tensor([1.0, 3.0], requires_grad=True)
    b = a + 2
    loss = (b * b).mean()
    b[0] = 1000.0
    with refuses("loss.backward() after b, saved for it, was modified in place") as refusal:
        loss.backward()
    refusal.with_torch_error(RuntimeError, "modified by an inplace operation")


@spec("inplace.unsaved-tensor-modified", sources=["002"], needs=[cap.AUTOGRAD, cap.INPLACE], kind=VALUE)
def test_modifying_a_tensor_backward_does_not_need_is_fine(engine):
    """When backward does not use a tensor's value (y = x + 1: the derivative is 1, whatever x is), its
    version is not checked and modifying it in place raises no error."""
    a = engine.tensor([1.0, 3.0], requires_grad=True)
    b = a + 2
    loss = (b + 1).sum()
    b[0] = 1000.0
    loss.backward()
    np.testing.assert_array_equal(engine.to_numpy(a.grad), [1.0, 1.0])


def assert_untouched_leaf(engine, a, values):
    """After a refused in-place change, the leaf that requires grad holds its values and no gradient, and a
    backward still accumulates into its .grad: (a*a).sum() gives 2a."""
    np.testing.assert_array_equal(engine.to_numpy(a), values)
    assert a.requires_grad is True
    assert a.grad is None
    (a * a).sum().backward()
    np.testing.assert_array_equal(engine.to_numpy(a.grad), 2 * np.asarray(values))


@spec("inplace.leaf-inplace-error", sources=["002"], needs=[cap.AUTOGRAD, cap.INPLACE], kind=REFUSAL)
def test_in_place_operation_on_a_leaf_that_requires_grad_fails_at_once(engine):
    """An in-place operation on a leaf that requires grad, such as a.add_(10.) or a += 10., fails at once,
    without waiting for backward: "a leaf Variable that requires grad is being used in an in-place
    operation". The leaf is left as it was."""
    values = [10.0, 5.0, 2.0, 3.0]
    a = engine.tensor(values, requires_grad=True)
    with refuses("a.add_(10.) on a leaf that requires grad"):
        a.add_(10.0)
    with refuses("a += 10. on a leaf that requires grad"):
        a += 10.0
    assert_untouched_leaf(engine, a, values)


@spec(
    "inplace.leaf-inplace-torch-error",
    sources=["002"],
    needs=[cap.AUTOGRAD, cap.INPLACE, cap.TORCH_ERRORS],
    kind=SURFACE,
)
def test_in_place_operation_on_a_leaf_is_torchs_runtime_error(engine):
    """a.add_(10.) and a += 10. on a leaf that requires grad raise torch's RuntimeError: "a leaf Variable that
    requires grad is being used in an in-place operation"."""
    a = engine.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    with refuses("a.add_(10.) on a leaf that requires grad") as refusal:
        a.add_(10.0)
    refusal.with_torch_error(RuntimeError, "leaf Variable that requires grad")
    with refuses("a += 10. on a leaf that requires grad") as refusal:
        a += 10.0
    refusal.with_torch_error(RuntimeError, "leaf Variable that requires grad")


@spec("inplace.leaf-slice-assignment-error", sources=["002"], needs=[cap.AUTOGRAD, cap.INPLACE], kind=REFUSAL)
def test_slice_assignment_to_a_leaf_that_requires_grad_is_an_error(engine):
    """Assigning a[:] = 0 to a leaf that requires grad is an error: "a view of a leaf Variable that requires
    grad is being used in an in-place operation".

    Releases differ in when it fails: the seed's older release let the assignment through (a became a
    non-leaf with grad_fn=<CopySlices>) and failed at backward; current releases fail at the assignment.
    The spec holds either: the error comes before a gradient does, and a refused assignment leaves the leaf
    as it was."""
    values = [10.0, 5.0, 2.0, 3.0]
    a = engine.tensor(values, requires_grad=True)
    assigned = False
    with refuses("a[:] = 0 on a leaf that requires grad, then backward"):
        a[:] = 0
        assigned = True
        (a * a).mean().backward()
    if assigned:
        assert a.grad is None
    else:
        assert_untouched_leaf(engine, a, values)


@spec(
    "inplace.leaf-slice-assignment-torch-error",
    sources=["002"],
    needs=[cap.AUTOGRAD, cap.INPLACE, cap.TORCH_ERRORS],
    kind=SURFACE,
)
def test_slice_assignment_to_a_leaf_is_torchs_runtime_error(engine):
    """a[:] = 0 on a leaf that requires grad raises torch's RuntimeError, naming "a leaf Variable that requires
    grad"."""
    a = engine.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    with refuses("a[:] = 0 on a leaf that requires grad, then backward") as refusal:
        a[:] = 0
        (a * a).mean().backward()
    refusal.with_torch_error(RuntimeError, "leaf Variable that requires grad")


def assert_set_to_ten_and_still_the_leaf(engine, a, original):
    """After setting a leaf's values the right way it is the same leaf, and (a*a).mean() gives 2a/4 = 5."""
    assert a is original
    assert a.is_leaf is True
    assert a.requires_grad is True
    np.testing.assert_array_equal(engine.to_numpy(a), [10.0, 10.0, 10.0, 10.0])
    (a * a).mean().backward()
    np.testing.assert_array_equal(engine.to_numpy(a.grad), [5.0, 5.0, 5.0, 5.0])


@spec("inplace.set-leaf-through-data", sources=["002"], needs=[cap.AUTOGRAD, cap.GRAPH, cap.INPLACE], kind=VALUE)
def test_set_a_leaf_through_data(engine):
    """The right way to assign to a leaf: a.data.fill_(10.) changes its values; a stays the same leaf (same
    id, is_leaf True) and (a*a).mean().backward() gives a.grad = tensor([5., 5., 5., 5.])."""
    a = engine.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    original = a
    a.data.fill_(10.0)
    assert_set_to_ten_and_still_the_leaf(engine, a, original)


@spec(
    "inplace.set-leaf-through-detach",
    sources=["002"],
    needs=[cap.AUTOGRAD, cap.GRAPH, cap.INPLACE, cap.DETACH],
    kind=VALUE,
)
def test_set_a_leaf_through_detach(engine):
    """Or a.detach().fill_(10.): a stays the same leaf and (a*a).mean().backward() gives a.grad =
    tensor([5., 5., 5., 5.])."""
    a = engine.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    original = a
    a.detach().fill_(10.0)
    assert_set_to_ten_and_still_the_leaf(engine, a, original)


@spec(
    "inplace.set-leaf-under-no-grad",
    sources=["002"],
    needs=[cap.AUTOGRAD, cap.GRAPH, cap.INPLACE, cap.GRAD_MODE],
    kind=VALUE,
)
def test_set_a_leaf_under_no_grad(engine):
    """Or with torch.no_grad(): a[:] = 10.: a stays a leaf that requires grad and (a*a).mean().backward()
    gives a.grad = tensor([5., 5., 5., 5.])."""
    a = engine.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    original = a
    with engine.no_grad():
        a[:] = 10.0
    assert_set_to_ten_and_still_the_leaf(engine, a, original)


@pytest.mark.parametrize(
    "view_of",
    [
        pytest.param(lambda b: b.narrow(1, 1, 2), id="b.narrow(1, 1, 2)"),
        pytest.param(lambda b: b.view(6), id="b.view(6)"),
        pytest.param(lambda b: b.t(), id="b.t()"),
    ],
)
@spec(
    "inplace.view-shares-version-counter",
    sources=["002", "003", "docs:autograd-mechanics#in-place-operations-with-autograd"],
    needs=[cap.AUTOGRAD, cap.INPLACE, cap.VERSION_COUNTER, cap.SHAPES],
    kind=VALUE,
)
def test_a_view_shares_its_base_version_counter(engine, view_of):
    """A view shares its base's data and its version counter: an in-place operation on the view (b.narrow(1, 1, 2),
    b.view(6), b.t()) adds 1 to the base's _version and is seen in the base's values, and one on the base adds
    1 to the view's _version."""
    a = engine.tensor(np.random.uniform(-1.0, 1.0, (2, 3)).tolist(), requires_grad=True)
    b = a * 1
    view = view_of(b)
    before = b._version
    view.zero_()
    assert b._version == view._version == before + 1
    np.testing.assert_array_equal(engine.to_numpy(view), np.zeros(tuple(view.shape)))
    b.add_(1.0)
    assert view._version == b._version == before + 2


def multiply_a_slice_by_augmented_assignment(b, w):
    b[1:] *= w


def multiply_the_slice_through_its_name(b, w):
    view = b[1:]
    view *= w


@pytest.mark.parametrize(
    "multiply_the_view",
    [
        pytest.param(multiply_the_slice_through_its_name, id="view = b[1:]; view *= w"),
        pytest.param(multiply_a_slice_by_augmented_assignment, id="b[1:] *= w"),
    ],
)
@spec(
    "inplace.view-of-non-leaf-grad",
    sources=["docs:autograd-mechanics#in-place-operations-with-autograd", "002"],
    needs=[cap.AUTOGRAD, cap.INPLACE],
    kind=VALUE,
)
def test_in_place_change_of_a_view_updates_the_base_gradient(engine, multiply_the_view):
    """An in-place operation on a view of a non-leaf b is recorded in b's graph (its grad_fn becomes
    CopySlices): multiplying b[1:] by w in place makes the gradient of a loss of b flow to w and, through the
    multiplied part, to b's own inputs."""
    values, weights = np.random.uniform(0.5, 2.0, 3), np.array([1.0, -2.0, 3.0])
    a = engine.tensor(values.tolist(), requires_grad=True)
    w = engine.tensor([1.5], requires_grad=True)
    b = a * 2
    multiply_the_view(b, w)
    (b * engine.tensor(weights.tolist())).sum().backward()
    np.testing.assert_allclose(engine.to_numpy(a.grad), 2 * weights * [1.0, 1.5, 1.5], rtol=1e-6)
    np.testing.assert_allclose(engine.to_numpy(w.grad), [2 * (weights[1:] * values[1:]).sum()], rtol=1e-6)
