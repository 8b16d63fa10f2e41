"""Third-party engine adapters: they load, a missing engine says how to install it, their known-failures files
name only specs that exist and can run on them, the README lists what they declare, and their translations
hand back the engine's own results."""

import importlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from backends import Backend, capabilities, resolve
from backends.registry import BUILTIN_ADAPTERS
from conformance.catalogue import collect

ROOT = Path(__file__).resolve().parent.parent
ENGINES = sorted(BUILTIN_ADAPTERS)

SPEC = """
def test_engine_is_selected(engine):
    pass
"""


def adapter_class(name: str) -> type[Backend]:
    module_name, _, attribute = BUILTIN_ADAPTERS[name].partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@pytest.fixture(params=ENGINES)
def adapter(request) -> Backend:
    """Each installed engine's backend (``engine`` is the plugin's fixture of the specs)."""
    pytest.importorskip(request.param)
    return resolve(request.param)


@pytest.mark.parametrize("name", ENGINES)
def test_adapter_loads_by_its_builtin_name(name):
    pytest.importorskip(name)
    backend = resolve(name)
    assert backend.name == name
    assert backend.engine == name
    assert backend.engine_version != "unknown"
    assert backend.capabilities <= capabilities.ALL


@pytest.mark.parametrize("name", ENGINES)
def test_missing_engine_says_how_to_install_it(harness, monkeypatch, name):
    monkeypatch.setitem(sys.modules, name, None)  # makes `import <name>` raise ImportError
    harness.makepyfile(SPEC)
    result = harness.runpytest(f"--backend={name}")
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*{name} is not installed: pip install 'autograd-conformance[[]{name}[]]'*"])


@pytest.mark.parametrize("name", ENGINES)
def test_known_failures_name_existing_specs_the_engine_can_run(name):
    """Every listed ID is a spec of the catalogue whose capabilities the adapter declares: an entry for a spec
    reported unsupported could never be checked."""
    file = adapter_class(name).known_failures_file
    assert file is not None and file.is_file()
    known = json.loads(file.read_text(encoding="utf-8"))
    assert all(isinstance(reason, str) and reason for reason in known.values())
    specs = {entry.spec.id: entry.spec for entry in collect()}
    assert set(known) <= set(specs), f"{file.name} names specs that do not exist"
    declared = adapter_class(name).capabilities
    assert [spec_id for spec_id in known if not specs[spec_id].needs <= declared] == []


def readme_capabilities() -> dict[str, set[str]]:
    """Engine -> capabilities, from the table of the README's "## Third-party engines" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Third-party engines", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| \[(\w+)\]\(.*\| (.+) \|$", section, flags=re.MULTILINE)
    return {engine: {name.strip(" `") for name in names.split(",")} for engine, names in rows}


def test_readme_lists_the_declared_capabilities():
    assert readme_capabilities() == {name: set(adapter_class(name).capabilities) for name in ENGINES}


ENGINE_REPORT = ROOT / "docs" / "engine-report.json"


def test_readme_results_are_those_of_the_committed_engine_report():
    """The README's results table is the committed report's summary, and that report is current: its known
    failures are exactly those the engines' known-failures files list today."""
    report = json.loads(ENGINE_REPORT.read_text(encoding="utf-8"))
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("### Results", 1)[1].split("\n## ", 1)[0]
    for name, backend in report["backends"].items():
        counts = backend["summary"]
        row = (
            f"| {counts['pass']} | {counts['fail']} | {counts['known-failure']} | {counts['unsupported']} | "
            f"{counts['not-applicable']} | {counts['run']}/{counts['applicable']} |"
        )
        assert re.search(rf"^\| `{re.escape(name)}`.*{re.escape(row)}$", section, flags=re.MULTILINE), name
    for name in ENGINES:
        reported = {
            spec["id"]: cell["reason"]
            for spec in report["specs"]
            if (cell := spec["verdicts"].get(name)) and cell["verdict"] == "known-failure"
        }
        listed = json.loads(adapter_class(name).known_failures_file.read_text(encoding="utf-8"))
        assert reported == listed, f"docs/engine-report.* is stale for {name}: re-run the command in the README"


@pytest.mark.parametrize("name", [name for name in ENGINES if capabilities.NN in adapter_class(name).capabilities])
def test_seed_reproduces_the_engines_layer_initialisation(name):
    pytest.importorskip(name)
    backend = resolve(name)

    def initial_weight(seed):
        backend.seed(seed)
        return backend.to_numpy(dict(backend.nn.Linear(3, 2).named_parameters())["weight"])

    np.testing.assert_array_equal(initial_weight(7), initial_weight(7))
    assert not np.array_equal(initial_weight(7), initial_weight(8))


# --- translations: torch's spelling in, the engine's own result out ---------------------------------------


def test_comparison_is_elementwise_and_proxies_hash_by_identity(adapter):
    a, b = adapter.tensor([1.0, 2.0]), adapter.tensor([1.0, 3.0])
    np.testing.assert_array_equal(adapter.to_numpy(a == b), [True, False])
    np.testing.assert_array_equal(adapter.to_numpy(a != b), [False, True])
    assert len({a, b}) == 2


def test_reductions_over_dims(adapter):
    values = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = adapter.tensor(values)
    np.testing.assert_allclose(adapter.to_numpy(x.sum(dim=1, keepdim=True)), values.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(adapter.to_numpy(x.mean(dim=(0, 2))), values.mean(axis=(0, 2)))
    np.testing.assert_allclose(adapter.to_numpy(x.sum()), values.sum())


@pytest.mark.parametrize(
    "name, reference",
    [
        ("exp", np.exp),
        ("log", np.log),
        ("sin", np.sin),
        ("tanh", np.tanh),
        ("sigmoid", lambda v: 1 / (1 + np.exp(-v))),
    ],
)
def test_unary_math(adapter, name, reference):
    values = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    result = getattr(adapter.tensor(values), name)()
    np.testing.assert_allclose(adapter.to_numpy(result), reference(values), rtol=1e-6)


def test_flatten_and_matmul(adapter):
    x = adapter.tensor(np.ones((2, 3, 4, 5), dtype=np.float32))
    assert x.flatten(1).shape == (2, 60)
    assert x.flatten(1, 2).shape == (2, 12, 5)
    assert x.flatten().shape == (120,)
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(adapter.to_numpy(adapter.tensor(a) @ adapter.tensor(b)), a @ b)


def test_numpy_item_tolist_cpu(adapter):
    x = adapter.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(x.numpy(), np.ndarray)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert adapter.tensor([1.5]).item() == 1.5
    assert x.cpu() is x


def test_mygrad_numpy_is_the_data_array_and_float64_is_there():
    pytest.importorskip("mygrad")
    adapter = resolve("mygrad")
    x = adapter.tensor([1.0, 2.0])
    assert x.numpy() is x.wrapped.data
    assert adapter.tensor64([1.0], requires_grad=True).wrapped.dtype == np.float64
    with adapter.no_grad():
        assert not adapter.is_grad_enabled()
    assert adapter.is_grad_enabled()


@pytest.fixture
def tinygrad_engine() -> Backend:
    pytest.importorskip("tinygrad")
    return resolve("tinygrad")


def test_tinygrad_host_device_is_cpu_and_named_in_the_description(tinygrad_engine):
    assert tinygrad_engine.device == "cpu"
    assert tinygrad_engine.describe()["tinygrad_device"] in ("PYTHON", "CPU")


def test_tinygrad_sequential_names_parameters_as_torch_does(tinygrad_engine):
    nn = tinygrad_engine.nn
    net = nn.Sequential(nn.Conv2d(3, 4, 3, 1), nn.Conv2d(4, 2, 3, 1))
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert len(net.parameters()) == 4
    assert net(tinygrad_engine.randn(1, 3, 6, 6)).shape == (1, 2, 2, 2)
    assert nn.Linear(5, 3)(tinygrad_engine.randn(2, 5)).shape == (2, 3)


def test_tinygrad_autograd_grad_returns_gradients_and_leaves_grad_alone(tinygrad_engine):
    x = tinygrad_engine.tensor([1.0, 2.0], requires_grad=True)
    (dx,) = tinygrad_engine.autograd.grad((x**3).sum(), [x])
    np.testing.assert_allclose(tinygrad_engine.to_numpy(dx), [3.0, 12.0])
    assert x.grad is None


def test_tinygrad_batch_norm_updates_running_statistics_as_torch_does(tinygrad_engine):
    x = np.random.standard_normal((4, 2, 3, 3)).astype(np.float32)
    mean, var = tinygrad_engine.zeros(2), tinygrad_engine.ones(2)
    expected_mean, expected_var = torch.zeros(2), torch.ones(2)
    y = tinygrad_engine.functional.batch_norm(tinygrad_engine.tensor(x), mean, var, training=True, momentum=0.25)
    expected = torch.nn.functional.batch_norm(
        torch.from_numpy(x), expected_mean, expected_var, training=True, momentum=0.25
    )
    for actual, wanted in ((y, expected), (mean, expected_mean), (var, expected_var)):
        np.testing.assert_allclose(tinygrad_engine.to_numpy(actual), wanted.numpy(), rtol=1e-5, atol=1e-5)


def test_tinygrad_adaptive_avg_pool2d_pools_to_a_dividing_size_and_refuses_others(tinygrad_engine):
    x = np.random.standard_normal((1, 2, 4, 6)).astype(np.float32)
    pooled = tinygrad_engine.functional.adaptive_avg_pool2d(tinygrad_engine.tensor(x), (2, 3))
    expected = torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(x), (2, 3))
    np.testing.assert_allclose(tinygrad_engine.to_numpy(pooled), expected.numpy(), rtol=1e-6)
    with pytest.raises(NotImplementedError, match="4x6 only to an output size that divides it, not 3x3"):
        tinygrad_engine.functional.adaptive_avg_pool2d(tinygrad_engine.tensor(x), 3)


@pytest.fixture
def paddle_engine() -> Backend:
    pytest.importorskip("paddle")
    return resolve("paddle")


def test_paddle_requires_grad_is_the_inverse_of_stop_gradient(paddle_engine):
    x = paddle_engine.tensor([1.0, 2.0])
    assert x.wrapped.stop_gradient is True and x.requires_grad is False
    assert x.requires_grad_() is x
    assert x.wrapped.stop_gradient is False and x.requires_grad is True
    x.requires_grad = False
    assert x.wrapped.stop_gradient is True
    assert paddle_engine.tensor([1.0], requires_grad=True).wrapped.stop_gradient is False
    assert str(paddle_engine.tensor64([1.0]).wrapped.dtype) == "paddle.float64"


def test_paddle_version_counter_is_inplace_version(paddle_engine):
    b = paddle_engine.tensor([1.0, 3.0], requires_grad=True) + 2
    assert b._version == b.wrapped.inplace_version == 0
    b[0] = 1000.0
    b.add_(1.0)  # a Python number becomes a 0-d paddle tensor: paddle's add_ takes tensors only
    assert b._version == b.wrapped.inplace_version == 2
    np.testing.assert_array_equal(paddle_engine.to_numpy(b), [1001.0, 6.0])


def test_paddle_retain_grad_hooks_and_retain_graph(paddle_engine):
    a = paddle_engine.tensor([2.0, 3.0], requires_grad=True)
    b = a * a
    b.retain_grad()  # paddle's retain_grads()
    seen = []
    handle = a.register_hook(lambda grad: seen.append(type(grad).__name__))
    y = (3 * b).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(paddle_engine.to_numpy(b.grad), [3.0, 3.0])
    handle.remove()
    y.backward()
    np.testing.assert_array_equal(paddle_engine.to_numpy(a.grad), [24.0, 36.0])
    assert seen == ["PaddleTensor"]


def test_paddle_graph_nodes_list_next_functions_without_indices_and_leaves_without_variable(paddle_engine):
    """graph.walk-reaches-leaves and graph.rebuilt-every-forward: paddle's graph cannot be walked to the leaves
    as torch's can."""
    a = paddle_engine.tensor([2.0, 3.0], requires_grad=True)
    node = (3 * a**3).grad_fn
    assert node is not None
    while node.next_functions and node.next_functions[0] is not None:
        assert [type(function).__name__ for function in node.next_functions] == ["GradNodeBase"]  # no (node, index)
        node = node.next_functions[0]
    assert node.name() == "GradNodeAccumulation"
    assert not hasattr(node, "variable")


def test_paddle_autograd_grad_is_paddle_grad(paddle_engine):
    x = paddle_engine.tensor([1.0, 2.0], requires_grad=True)
    (dx,) = paddle_engine.autograd.grad((x**3).sum(), [x], create_graph=True)
    assert dx.requires_grad and x.grad is None
    (ddx,) = paddle_engine.autograd.grad(dx.sum(), x)
    np.testing.assert_array_equal(paddle_engine.to_numpy(ddx), [6.0, 12.0])
    assert not ddx.requires_grad


def test_paddle_function_is_a_pylayer_with_torchs_context(paddle_engine):
    import paddle

    class Square(paddle_engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    assert issubclass(Square._pylayer, paddle.autograd.PyLayer)
    x = paddle_engine.tensor([1.0, 3.0], requires_grad=True)
    y = Square.apply(x)
    assert y.requires_grad and not y.is_leaf
    y.sum().backward()
    np.testing.assert_array_equal(paddle_engine.to_numpy(x.grad), [2.0, 6.0])


def test_paddle_saved_tensors_hooks_see_proxies(paddle_engine):
    packed = []
    x = paddle_engine.tensor([1.0, 2.0], requires_grad=True)
    with paddle_engine.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        y = x * x
    y.sum().backward()
    assert [type(t).__name__ for t in packed] == ["PaddleTensor", "PaddleTensor"]
    np.testing.assert_array_equal(paddle_engine.to_numpy(x.grad), [2.0, 4.0])


def test_paddle_functional_linear_takes_torchs_weight_layout(paddle_engine):
    x, w, b = np.random.standard_normal((2, 5)), np.random.standard_normal((3, 5)), np.random.standard_normal(3)
    weight = paddle_engine.tensor64(w, requires_grad=True)
    y = paddle_engine.functional.linear(paddle_engine.tensor64(x), weight, paddle_engine.tensor64(b))
    np.testing.assert_allclose(paddle_engine.to_numpy(y), x @ w.T + b)
    y.sum().backward()
    np.testing.assert_allclose(paddle_engine.to_numpy(weight.grad), np.ones((2, 3)).T @ x)


def test_paddle_batch_norm_momentum_is_torchs(paddle_engine):
    x = np.random.standard_normal((4, 2, 3, 3)).astype(np.float32)
    mean, var = paddle_engine.zeros(2), paddle_engine.ones(2)
    paddle_engine.functional.batch_norm(paddle_engine.tensor(x), mean, var, training=True, momentum=0.25)
    np.testing.assert_allclose(paddle_engine.to_numpy(mean), 0.25 * x.mean(axis=(0, 2, 3)), rtol=1e-5, atol=1e-6)


def test_paddle_layers_are_paddles_own(paddle_engine):
    import paddle

    nn = paddle_engine.nn
    linear = nn.Linear(5, 3)
    assert isinstance(linear.module, paddle.nn.Linear)
    assert linear.weight.shape == (5, 3)  # paddle's [in, out] layout, not transposed by the adapter
    net = nn.Sequential(nn.Conv2d(3, 4, 3, 1), nn.Conv2d(4, 2, 3, 1, bias=False))
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.weight"]
    events = []
    linear.register_forward_pre_hook(lambda module, args: events.append((module is linear, type(args[0]).__name__)))
    linear.register_forward_hook(lambda module, args, output: events.append(type(output).__name__))
    assert linear(paddle_engine.randn(2, 5)).shape == (2, 3)
    assert events == [(True, "PaddleTensor"), "PaddleTensor"]


def test_paddle_resnet18_fc_replacement_and_sgd_are_paddles(paddle_engine):
    import paddle

    model = paddle_engine.models.resnet18()
    model.fc = paddle_engine.nn.Linear(512, 10)
    assert isinstance(model.module.fc, paddle.nn.Linear) and model.fc.weight.shape == (512, 10)
    optimizer = paddle_engine.optim.SGD(model.fc.parameters(), lr=0.5, momentum=0.9)
    assert isinstance(optimizer, paddle.optimizer.Momentum)
    assert optimizer.get_lr() == 0.5 and optimizer._momentum == 0.9


def test_paddle_grad_mode_is_guarded(paddle_engine):
    state = paddle_engine.global_state()
    assert state == {"paddle.is_grad_enabled": True, "paddle.default_dtype": "float32"}
    with paddle_engine.set_grad_enabled(False):
        assert paddle_engine.global_state()["paddle.is_grad_enabled"] is False
        with paddle_engine.enable_grad():
            assert paddle_engine.is_grad_enabled()
    paddle_engine.set_grad_enabled(False)
    paddle_engine.restore_global_state(state)
    assert paddle_engine.is_grad_enabled()
