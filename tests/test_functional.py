"""The functional gradient path: Backend.vjp through a tape, and torch through torch.func."""

from pathlib import Path

import numpy as np
import pytest

from backends import Backend, registry
from backends import capabilities as cap
from backends.contract import UnknownBackend


def cube(x, y):
    return x**3 * 2 + y * 0


def test_a_tape_engine_answers_vjp_through_backward_with_zeros_for_an_unused_input():
    engine = registry.resolve("cpu")
    output, (dx, dy) = engine.vjp(
        cube, [engine.tensor([1.0, 2.0]), engine.tensor([3.0, 4.0])], engine.tensor([1.0, -1.0])
    )
    np.testing.assert_array_equal(engine.to_numpy(output), [2.0, 16.0])
    np.testing.assert_array_equal(engine.to_numpy(dx), [6.0, -24.0])
    np.testing.assert_array_equal(engine.to_numpy(dy), [0.0, 0.0])


@pytest.mark.parametrize("spelling", ["cpu", "torch.func"])
def test_vjp_of_vjp_gives_second_derivatives(spelling):
    engine = registry.resolve(spelling)
    ones = engine.tensor64([1.0, 1.0])

    def gradient(x):
        return engine.vjp(lambda x: x**3, [x], ones, create_graph=True)[1][0].sum()

    _, (second,) = engine.vjp(gradient, [engine.tensor64([1.0, 2.0])], engine.tensor64(1.0))
    np.testing.assert_array_equal(engine.to_numpy(second), [6.0, 12.0])


@pytest.mark.parametrize("spelling", ["cpu", "torch.func"])
def test_jvp_is_forward_mode(spelling):
    engine = registry.resolve(spelling)
    output, tangent = engine.jvp(lambda x: x.sin(), [engine.tensor64([0.0, 1.0])], [engine.tensor64([2.0, 1.0])])
    np.testing.assert_allclose(engine.to_numpy(tangent), [2.0, np.cos(1.0)])
    np.testing.assert_allclose(engine.to_numpy(output), [0.0, np.sin(1.0)])


def test_torch_func_declares_the_functional_capabilities_and_no_tape():
    engine = registry.resolve("torch.func")
    assert engine.name == "torch.func"
    assert {cap.VJP, cap.JVP, cap.SECOND_ORDER} <= engine.capabilities
    assert cap.AUTOGRAD not in engine.capabilities
    assert registry.resolve("torch.func:cpu").device == "cpu"


def test_torch_func_on_a_device_torch_does_not_know_is_refused():
    with pytest.raises(UnknownBackend, match="'nonsense' is not a torch device"):
        registry.resolve("torch.func:nonsense")


def test_declaring_autograd_declares_vjp():
    class Tape(Backend):
        capabilities = frozenset({cap.AUTOGRAD})

    class NoTape(Backend):
        capabilities = frozenset({cap.FLOAT64})

    assert cap.VJP in Tape.capabilities
    assert cap.VJP not in NoTape.capabilities


def test_the_readmes_functional_engine_example_runs_the_gradient_specs(harness, tmp_path, monkeypatch):
    """The README's "Functional engines" example, as written there, passes the gradient-value specs."""
    pytest.importorskip("jax")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split('```python\n"""my_jax.py', 1)[1].split("```", 1)[0]
    (tmp_path / "my_jax.py").write_text('"""my_jax.py' + example, encoding="utf-8")
    monkeypatch.syspath_prepend(tmp_path)
    result = harness.runpytest_inprocess("--pyargs", "spec_tests.test_gradients", "--backend=my_jax:backend")
    result.assert_outcomes(passed=2, skipped=10)
