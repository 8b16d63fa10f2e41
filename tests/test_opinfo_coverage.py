"""The OpInfo coverage command: its matching rule, and the figure README.md and SPECS.md show."""

import re
import subprocess
import sys

import pytest
import torch

from conformance import opinfo_coverage as coverage
from conformance.catalogue import ROOT, opinfo_figure


@pytest.fixture(scope="module")
def infos():
    return {
        f"{info.name}.{info.variant_test_name}" if info.variant_test_name else info.name: info
        for info in coverage.autograd_opinfos()
    }


def test_operators_and_functions_get_opinfo_names():
    x = torch.ones(2, 2)
    with coverage.Recorder() as recorder:
        _ = x + x
        _ = x.mT
        torch.linalg.det(x)
        torch.nn.functional.gelu(x)
    assert [coverage.canonical_name(func) for func in recorder.called] == [
        "add",
        "mT",
        "linalg.det",
        "nn.functional.gelu",
    ]


def test_a_variant_is_covered_only_by_an_entry_that_names_it(infos):
    entries = {"opgrad.interpolate-bilinear": [torch.nn.functional.interpolate]}
    assert coverage.covered_by(infos["nn.functional.interpolate.bilinear"], entries) == ["opgrad.interpolate-bilinear"]
    assert coverage.covered_by(infos["nn.functional.interpolate.nearest"], entries) == []
    assert coverage.covered_by(infos["exp"], entries) == []


def test_the_command_prints_the_figure_and_the_missing_operators():
    result = subprocess.run(
        [sys.executable, "-m", "conformance.opinfo_coverage"], capture_output=True, text=True, check=True, cwd=ROOT
    )
    lines = result.stdout.splitlines()
    figure = re.fullmatch(r"(\d+) of (\d+) OpInfo autograd-capable operators covered \(torch .+\)", lines[0])
    assert figure, lines[0]
    covered, total = map(int, figure.groups())
    missing = [line.strip() for line in lines[2:]]
    assert lines[1] == f"missing ({len(missing)}):"
    assert covered + len(missing) == total
    assert covered >= 200
    recorded = opinfo_figure()
    if torch.__version__.split("+")[0] == recorded["torch"]:
        assert (recorded["covered"], recorded["total"]) == (covered, total), (
            "run python -m conformance.opinfo_coverage --write"
        )
    else:  # the figure is recorded for the torch that constraints.txt pins
        assert f"torch=={recorded['torch']}" in (ROOT / "constraints.txt").read_text(encoding="utf-8").split()


def test_the_readme_states_the_recorded_figure():
    figure = opinfo_figure()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"**{figure['covered']} of {figure['total']}** with torch {figure['torch']}" in readme


def test_the_comparison_of_two_releases_names_new_gradients_and_whether_the_catalogue_has_them():
    old = {"torch": "2.14.1", "covered": ["add"], "missing": ["gone"]}
    new = {"torch": "2.15.0", "covered": ["add", "special.bessel_j0"], "missing": ["special.bessel_y0"]}
    assert coverage.compare(old, new) == [
        "torch 2.14.1 -> 2.15.0: 2 operators newly autograd-capable, 1 no longer",
        "  + special.bessel_j0 (covered)",
        "  + special.bessel_y0 (NOT in the catalogue)",
        "  - gone",
    ]
