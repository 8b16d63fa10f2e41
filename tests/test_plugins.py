"""Engines that plug in without editing the suite: module:attribute and the entry-point group."""

import re

from backends import ENTRY_POINT_GROUP
from tests.conftest import ROOT


def readme_example_backend() -> str:
    """The complete backend of the README's "Writing a backend" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Writing a backend", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_module_attribute_loads_the_readme_example_backend(harness):
    harness.makepyfile(my_engine=readme_example_backend())
    harness.syspathinsert()
    (harness.path / "test_readme_engine_gradients.py").write_text(
        (ROOT / "spec_tests" / "test_gradients.py").read_text()
    )
    result = harness.runpytest("-v", "--backend=my_engine:backend")
    result.stdout.fnmatch_lines(["*test_external_gradient[[]my_engine:backend[]] PASSED*"])
    assert result.ret == 0


def test_readme_example_gets_unsupported_for_undeclared_capabilities(harness):
    harness.makepyfile(my_engine=readme_example_backend())
    harness.syspathinsert()
    harness.makepyfile(
        test_graph="""
        from backends import capabilities as cap
        from conformance.catalogue import spec

        @spec("example.leaf-has-no-grad-fn", sources=["002"], needs=[cap.GRAPH], kind="value")
        def test_leaf(engine):
            '''A leaf's grad_fn is None.'''
            assert engine.tensor([1.0], requires_grad=True).grad_fn is None
        """
    )
    result = harness.runpytest("-rs", "--backend=my_engine:backend")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*unsupported: my_engine:backend does not declare graph*"])


def test_entry_point_group_finds_an_installed_engine(harness):
    """A throwaway distribution (a dist-info folder on sys.path) registers a backend by name."""
    harness.makepyfile(
        throwaway_engine="""
        from backends.torch_backend import TorchBackend

        class ThrowawayEngine(TorchBackend):
            engine = "throwaway"
        """,
        test_spec="""
        def test_engine_is_the_registered_one(engine):
            assert engine.engine == "throwaway"
        """,
    )
    dist_info = harness.mkdir("throwaway_engine-0.1.dist-info")
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: throwaway-engine\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nthrowaway = throwaway_engine:ThrowawayEngine\n"
    )
    harness.syspathinsert()
    result = harness.runpytest("-v", "--backend=throwaway")
    result.stdout.fnmatch_lines(["*test_engine_is_the_registered_one[[]throwaway[]] PASSED*"])
    assert result.ret == 0
    listed = harness.runpytest("--backend=nosuch")
    listed.stderr.fnmatch_lines(["*known backends:*throwaway*"])
