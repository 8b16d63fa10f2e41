"""The layers import downwards only: the engines (``backends/``) and the harness (``conformance/``) never import
the specs (``spec_tests/``), which the harness runs and reads as files; what the harness and the specs share, such
as the operator catalogue, lives in the harness."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT


def imported_modules(path: Path) -> Iterator[str]:
    """The absolute module names ``path`` imports, at any depth (a relative import stays in its own package)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


@pytest.mark.parametrize("layer", ["backends", "conformance"])
def test_no_lower_layer_imports_the_specs(layer):
    sources = sorted((ROOT / layer).rglob("*.py"))
    assert sources
    importers = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources
        for module in imported_modules(path)
        if module.partition(".")[0] == "spec_tests"
    ]
    assert importers == []
