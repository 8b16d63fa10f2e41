"""Third-party engine adapters: they load, a missing engine says how to install it, and their known-failures
files name only specs that exist."""

import importlib
import json
import sys
from pathlib import Path

import pytest

from backends import Backend, capabilities, resolve
from backends.registry import BUILTIN_ADAPTERS

ROOT = Path(__file__).resolve().parent.parent
ENGINES = sorted(BUILTIN_ADAPTERS)

SPEC = """
def test_engine_is_selected(engine):
    pass
"""


def spec_ids() -> set[str]:
    """Every spec ID declared in spec_tests, read from the modules' @spec marks."""
    ids = set()
    for path in sorted((ROOT / "spec_tests").glob("test_*.py")):
        module = importlib.import_module(f"spec_tests.{path.stem}")
        for function in vars(module).values():
            ids.update(mark.args[0].id for mark in getattr(function, "pytestmark", []) if mark.name == "spec")
    return ids


def adapter_class(name: str) -> type[Backend]:
    module_name, _, attribute = BUILTIN_ADAPTERS[name].partition(":")
    return getattr(importlib.import_module(module_name), attribute)


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
def test_known_failures_name_existing_specs(name):
    file = adapter_class(name).known_failures_file
    assert file is not None and file.is_file()
    known = json.loads(file.read_text(encoding="utf-8"))
    assert all(isinstance(reason, str) and reason for reason in known.values())
    assert set(known) <= spec_ids(), f"{file.name} names specs that do not exist"
