"""Specs use what they declare, and backends have what they declare.

Every spec runs on torch through a view offering exactly the members its ``needs`` grant
(``conformance/capability_audit.py``): a spec touching an undeclared member fails, and so does one declaring
a capability it does not use. Each built-in backend has the members its declared capabilities grant."""

from typing import ClassVar

import pytest

from backends import capabilities as cap
from backends import resolve
from backends.lacks import derive, literal, main, missing_members
from backends.registry import BUILTIN_ADAPTERS
from conformance.catalogue import ROOT, SPEC_DIR
from tests.conftest import torch_known_failures_here

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
    """Every spec passes on torch offering only what the spec declares, but those torch itself fails on the installed
    version (its known failures: no Bessel gradients before 2.15), which say nothing of the capabilities."""
    recorder = pytester.inline_run(str(SPEC_DIR), "-p", "no:randomly", "-p", "no:cacheprovider", *AUDIT)
    results = outcomes(recorder)
    torchs = {f"test_operator_gradient[-{spec_id.removeprefix('opgrad.')}]" for spec_id in torch_known_failures_here()}
    failed = {name: text for name, text in results.items() if text not in ("passed", "skipped") and name not in torchs}
    assert failed == {}
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


class LacksTwo(type(resolve("cpu"))):
    """torch without functional.gelu, and declaring that it lacks special.bessel_y0."""

    lacks: ClassVar[dict[str, frozenset[str]]] = {cap.SPECIAL: frozenset({"special.bessel_y0"})}

    def __init__(self):
        super().__init__("cpu")
        del self.functional.gelu


def test_the_lacks_to_declare_are_derived_from_the_backend(capsys):
    """The derived ``lacks`` keep the declared ones and add the members the backend does not have; with them
    declared, the backend has every member it grants."""
    backend = LacksTwo()
    derived = derive(backend)
    assert derived == {
        cap.ACTIVATIONS: frozenset({"functional.gelu"}),
        cap.SPECIAL: frozenset({"special.bessel_y0"}),
    }
    backend.lacks = derived
    assert missing_members(backend) == []
    assert main([f"{__name__}:LacksTwo"]) == 0
    assert literal(derived) in capsys.readouterr().out


def test_the_table_is_the_single_source():
    assert [capability.name for capability in cap.TABLE] == list(cap.DESCRIPTIONS)
    assert frozenset(cap.BY_NAME) == cap.ALL
    assert cap.TORCH_ERRORS in cap.ALL
    always = cap.ALWAYS.members()
    assert [capability.name for capability in cap.TABLE if capability.members() & always] == []


def test_the_readme_shows_the_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert cap.markdown() in readme, "paste backends.capabilities.markdown() into the README's Capabilities section"
