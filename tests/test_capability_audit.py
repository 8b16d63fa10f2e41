"""Specs use what they declare, and backends have what they declare.

Every spec runs on torch through a view offering exactly the members its ``needs`` grant
(``conformance/capability_audit.py``): a spec touching an undeclared member fails, and so does one declaring
a capability it does not use. Each built-in backend has the members its declared capabilities grant."""

import pytest

from backends import capabilities as cap
from backends import resolve
from backends.registry import BUILTIN_ADAPTERS
from conformance.catalogue import ROOT, SPEC_DIR

AUDIT = ("--backend=conformance.capability_audit:backend", "-p", "conformance.capability_audit")


def outcomes(recorder: pytest.HookRecorder) -> dict[str, str]:
    """test name (with its parameters, without the backend) -> the failure text of its call, or its outcome."""
    return {
        report.nodeid.split("::")[-1].replace("conformance.capability_audit:backend", ""): str(report.longrepr)
        if report.failed
        else report.outcome
        for report in recorder.getreports("pytest_runtest_logreport")
        if report.when == "call" or report.failed or report.skipped
    }


def test_every_spec_uses_exactly_the_capabilities_it_declares(pytester):
    recorder = pytester.inline_run(str(SPEC_DIR), "-p", "no:randomly", "-p", "no:cacheprovider", *AUDIT)
    results = outcomes(recorder)
    assert {name: text for name, text in results.items() if text not in ("passed", "skipped")} == {}
    assert sum(text == "passed" for text in results.values()) > 80


THROWAWAY = """
from backends import capabilities as cap
from conformance.catalogue import VALUE, spec


@spec("throwaway.detach", sources=["002"], needs=[cap.AUTOGRAD], kind=VALUE)
def test_detach_of_a_result(engine):
    'A throwaway spec: one member, used.'
    (engine.tensor([1.0], requires_grad=True) * 2).detach()


@spec("throwaway.nn", sources=["002"], needs=[cap.AUTOGRAD], kind=VALUE)
def test_nn_linear(engine):
    'A throwaway spec: one member, used.'
    engine.nn.Linear(2, 2)


@spec("throwaway.param-grad", sources=["002"], needs=[cap.NN], kind=VALUE)
def test_parameter_grad(engine):
    'A throwaway spec: one member, used.'
    [param.grad for param in engine.nn.Linear(2, 2).parameters()]


@spec("throwaway.uncontracted", sources=["002"], needs=[], kind=VALUE)
def test_uncontracted_member(engine):
    'A throwaway spec: one member, used.'
    engine.tensor([1.0]).clone()


@spec("throwaway.swallowed", sources=["002"], needs=[], kind=VALUE)
def test_refusal_that_swallows_everything(engine):
    'A throwaway spec: one member, used.'
    try:
        engine.tensor([1.0]).numpy()
    except Exception:
        pass


@spec("throwaway.over-declared", sources=["002"], needs=[cap.AUTOGRAD, cap.DETACH], kind=VALUE)
def test_over_declared(engine):
    'A throwaway spec: one member, used.'
    assert engine.tensor([1.0], requires_grad=True).requires_grad is True


@spec("throwaway.exact", sources=["002"], needs=[cap.AUTOGRAD, cap.DETACH], kind=VALUE)
def test_exact(engine):
    'A throwaway spec: one member, used.'
    assert (engine.tensor([1.0], requires_grad=True) * 2).detach().requires_grad is False
"""


def test_the_audit_fails_a_spec_using_an_undeclared_member_and_names_the_capability(harness):
    harness.makepyfile(test_throwaway=THROWAWAY)
    results = {name.removesuffix("[]"): text for name, text in outcomes(harness.inline_run(*AUDIT)).items()}
    assert "detach is granted by capability detach: declare it" in results["test_detach_of_a_result"]
    assert "nn.Linear is granted by capability nn" in results["test_nn_linear"]
    assert "grad is granted by capability autograd" in results["test_parameter_grad"]
    assert "clone is not granted by any capability" in results["test_uncontracted_member"]
    assert "numpy is granted by capability numpy" in results["test_refusal_that_swallows_everything"]
    assert "declares detach but uses none of the members granted" in results["test_over_declared"]
    assert results["test_exact"] == "passed"


# --- backends have what they declare ------------------------------------------------------------------------


def member_name(member: str) -> str:
    """``backward(retain_graph=)`` grants an argument of ``backward``: the member is ``backward``."""
    return member.split("(", 1)[0]


def resolves(obj: object, path: str) -> bool:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return True


def custom_function_context(backend) -> object:
    """The context a custom function's forward receives."""
    seen = []

    class Identity(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(ctx)
            ctx.save_for_backward(x)
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    Identity.apply(backend.tensor([1.0], requires_grad=True))
    return seen[0]


def objects_of(backend, name: str) -> list[object]:
    """The objects whose members capability ``name`` grants, made by ``backend``."""
    if name in (cap.NN, cap.HOOKS):
        return [backend.nn.Linear(2, 2)]
    if name in (cap.RESNET18, cap.PRETRAINED):
        model = backend.models.resnet18()
        return [model, model.fc]
    if name == cap.SGD:
        model = backend.nn.Linear(2, 2) if cap.NN in backend.capabilities else backend.models.resnet18()
        return [backend.optim.SGD(model.parameters(), lr=0.1)]
    if name == cap.CUSTOM_FUNCTION:
        return [custom_function_context(backend)]
    if name == cap.GRAPH:
        leaf = backend.tensor([1.0, 2.0], requires_grad=True)
        node = (leaf * leaf).grad_fn
        following = node.next_functions[0]
        return [node, following[0] if isinstance(following, tuple) else following]
    return []


def missing_members(backend) -> list[str]:
    """The members that ``backend``'s declared capabilities grant and it does not have (on a matrix: ``mT``
    exists only there), but those it says it lacks (``Backend.lacks``: those specs are unsupported)."""
    tensor = backend.tensor([[1.0, 2.0]])
    missing = []
    for name in sorted(backend.capabilities):
        capability, lacked = cap.BY_NAME[name], backend.lacks.get(name, frozenset())
        missing += [
            f"{name}: backend.{path}"
            for path in capability.backend
            if path not in lacked and not resolves(backend, member_name(path))
        ]
        missing += [
            f"{name}: tensor.{member}"
            for member in capability.tensor
            if member != "broadcasting" and member not in lacked and not hasattr(tensor, member_name(member))
        ]
        if capability.objects:
            objects = objects_of(backend, name)
            missing += [
                f"{name}: {member} of {', '.join(type(obj).__name__ for obj in objects)}"
                for member in capability.objects
                if not any(hasattr(obj, member) for obj in objects)
            ]
    return missing


#: members an engine lacks although it has the rest of the capability's API, each one a deviation that the specs
#: using it report: neither mygrad nor tinygrad can switch gradient tracking on for an existing tensor (mygrad's
#: ``constant`` is fixed at creation; tinygrad has no flag); paddle's layers have no full backward hook
#: (``mechanics.module-hooks``), its Linear no ``out_features`` and its Momentum optimizer no ``param_groups``
#: (``train.sgd-param-group``); its graph nodes have no ``.variable`` (``graph.walk-reaches-leaves``).
KNOWN_GAPS = {
    "mygrad": ["autograd: tensor.requires_grad_"],
    "tinygrad": ["autograd: tensor.requires_grad_"],
    "paddle": [
        "graph: variable of GradNodeBase, GradNodeBase",
        "hooks: register_full_backward_hook of PaddleModule",
        "models.resnet18: out_features of PaddleModule, PaddleModule",
        "optim.sgd: param_groups of Momentum",
    ],
}


@pytest.mark.parametrize("name", ["cpu", *sorted(BUILTIN_ADAPTERS)])
def test_a_declared_capability_has_every_member_it_grants(name):
    if name in BUILTIN_ADAPTERS:
        pytest.importorskip(name)
    assert missing_members(resolve(name)) == KNOWN_GAPS.get(name, [])


def test_the_member_check_sees_a_missing_member():
    backend = resolve("cpu")
    backend.tensor64 = None  # an engine declaring float64 without tensor64()
    assert missing_members(backend) == ["float64: backend.tensor64"]


def test_the_table_is_the_single_source():
    assert [capability.name for capability in cap.TABLE] == list(cap.DESCRIPTIONS)
    assert frozenset(cap.BY_NAME) == cap.ALL
    assert cap.TORCH_ERRORS in cap.ALL
    always = cap.ALWAYS.members()
    assert [capability.name for capability in cap.TABLE if capability.members() & always] == []


def test_the_readme_shows_the_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert cap.markdown() in readme, "paste backends.capabilities.markdown() into the README's Capabilities section"
