"""SPECS.md is generated from the specs, stays current, and picks up every spec module; sources are checked."""

import pytest

from conformance.catalogue import KINDS, OUT_OF_SCOPE, SEEDS, collect, main, render, spec

NEW_MODULE = '''
from conformance.catalogue import spec


@spec("extra.behaviour", sources=["003", "docs:autograd-mechanics"], kind="value")
def test_extra(engine):
    """The documented sentence.

    A note on releases."""
    assert engine
'''


def test_specs_md_is_current():
    assert main(["--check"]) == 0, "SPECS.md is stale: run python -m conformance.catalogue"


def test_check_fails_on_a_stale_file_and_passes_once_written(tmp_path):
    output = tmp_path / "SPECS.md"
    output.write_text("# an old catalogue\n")
    assert main(["--check", "--output", str(output)]) == 1
    assert main(["--output", str(output)]) == 0
    assert main(["--check", "--output", str(output)]) == 0


def test_a_new_spec_module_is_picked_up(tmp_path):
    spec_dir = tmp_path / "spec_tests"
    spec_dir.mkdir()
    (spec_dir / "test_extra.py").write_text(NEW_MODULE)
    (entry,) = collect(spec_dir)
    assert (entry.spec.id, entry.location) == ("extra.behaviour", "spec_tests/test_extra.py::test_extra")
    text = render([entry])
    assert "## extra" in text
    assert "| `extra.behaviour` | value | The documented sentence. | 003, docs:autograd-mechanics |  |" in text
    assert "A note on releases." in text


def test_specs_md_lists_the_out_of_scope_content():
    text = render(collect())
    assert "## Out of scope" in text
    assert all(item.reason in text for item in OUT_OF_SCOPE)


@pytest.mark.parametrize("sources", [["007"], ["docs:"], ["seed 002"], []])
def test_a_spec_must_cite_known_sources(sources):
    with pytest.raises(ValueError, match="sources"):
        spec("extra.behaviour", sources=sources, kind="value")


def test_a_spec_must_have_a_known_kind():
    with pytest.raises(ValueError, match="kind 'wording'; kinds: value, refusal, surface"):
        spec("extra.behaviour", sources=["000"], kind="wording")


def test_specs_md_counts_the_specs_of_each_kind():
    entries = collect()
    text = render(entries)
    for kind in KINDS:
        assert f"| {kind} | {sum(entry.spec.kind == kind for entry in entries)} |" in text


def test_out_of_scope_content_cites_seeds():
    assert {source for item in OUT_OF_SCOPE for source in item.sources} <= set(SEEDS)
