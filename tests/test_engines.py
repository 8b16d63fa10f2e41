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
