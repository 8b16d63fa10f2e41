"""Specs may not leak global state, and draw the same seeded inputs wherever and however they run."""

import json


def test_guard_fails_the_spec_that_leaves_grad_mode_off_and_restores_it(harness):
    harness.makepyfile(
        """
        import torch

        def test_a_leaks(engine):
            torch.set_grad_enabled(False)

        def test_b_starts_clean(engine):
            assert torch.is_grad_enabled()
        """
    )
    result = harness.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_a_leaks*", "*spec leaked global state (now restored): torch grad mode: True -> False*"]
    )


def test_guard_restores_default_dtype_and_anomaly_mode(harness):
    harness.makepyfile(
        """
        import torch

        def test_leaks(engine):
            torch.set_default_dtype(torch.float64)
            torch.set_anomaly_enabled(True)

        def test_after(engine):
            assert torch.get_default_dtype() == torch.float32
            assert not torch.is_anomaly_enabled()
        """
    )
    result = harness.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*torch anomaly detection*torch default dtype: torch.float32 -> torch.float64*"])


def test_guard_leaves_a_failing_spec_failing_for_its_own_reason(harness):
    harness.makepyfile(
        """
        import torch

        def test_fails(engine):
            torch.set_grad_enabled(False)
            assert 1 == 2

        def test_after(engine):
            assert torch.is_grad_enabled()
        """
    )
    result = harness.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*assert 1 == 2*"])


RECORDING_SPECS = """
import json, pathlib

def record(engine, name):
    path = pathlib.Path(__file__).parent / f"{name}-{engine.name.replace(':', '_')}.json"
    path.write_text(json.dumps(engine.to_numpy(engine.rand(4)).tolist()))

def test_first(engine):
    record(engine, "first")

def test_second(engine):
    record(engine, "second")
"""


def recorded(harness, name, backend="cpu"):
    return json.loads((harness.path / f"{name}-{backend.replace(':', '_')}.json").read_text())


def test_inputs_do_not_depend_on_order_selection_or_backend(harness):
    harness.makepyfile(RECORDING_SPECS)
    harness.runpytest("--backend=cpu,torch:cpu").assert_outcomes(passed=4)
    together = recorded(harness, "second")
    assert recorded(harness, "second", "torch:cpu") == together
    assert recorded(harness, "first") != together
    harness.runpytest("-k", "second").assert_outcomes(passed=1)
    assert recorded(harness, "second") == together


def test_runs_under_xdist(harness):
    harness.makepyfile(RECORDING_SPECS)
    harness.runpytest("--backend=cpu").assert_outcomes(passed=2)
    alone = recorded(harness, "first")
    result = harness.runpytest_subprocess("-n", "2", "--backend=cpu,torch:cpu", "-p", "conformance.plugin")
    result.assert_outcomes(passed=4)
    assert recorded(harness, "first") == alone


def test_a_spec_id_declared_twice_is_an_error(harness):
    harness.makepyfile(
        """
        from conformance.catalogue import spec

        @spec("area.behaviour", sources=["000"], kind="value")
        def test_one(engine):
            '''One.'''

        @spec("area.behaviour", sources=["000"], kind="value")
        def test_two(engine):
            '''Two.'''
        """
    )
    result = harness.runpytest()
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*spec ID 'area.behaviour' is declared twice*test_one and *test_two*"])


def test_the_engine_is_seeded_with_the_specs_seed(harness):
    """Backend.seed receives the spec's seed before the spec runs, so an engine's own generator (layer
    initialisation) reproduces too."""
    harness.makepyfile(
        seeded="""
        from backends.torch_backend import TorchBackend

        class Recording(TorchBackend):
            seeds = []

            def seed(self, seed):
                self.seeds.append(seed)
        """,
        test_seeded="""
        import torch
        from seeded import Recording

        def test_seeded(engine):
            assert Recording.seeds == [torch.initial_seed()]
        """,
    )
    harness.syspathinsert()
    harness.runpytest("--backend=seeded:Recording").assert_outcomes(passed=1)


def test_the_engine_is_reset_before_every_spec_after_seeding(harness):
    """Backend.reset runs before each spec (and its fixtures), after Backend.seed: an engine that keeps state
    between specs drops it there."""
    harness.makepyfile(
        resetting="""
        from backends.torch_backend import TorchBackend

        class Recording(TorchBackend):
            calls = []

            def seed(self, seed):
                self.calls.append("seed")

            def reset(self):
                self.calls.append("reset")
        """,
        test_reset="""
        import pytest
        from resetting import Recording

        @pytest.fixture
        def calls_before_fixtures(engine):
            return list(Recording.calls)

        def test_first(engine, calls_before_fixtures):
            assert calls_before_fixtures == ["seed", "reset"]

        def test_second(engine):
            assert Recording.calls == ["seed", "reset", "seed", "reset"]
        """,
    )
    harness.syspathinsert()
    harness.runpytest("--backend=resetting:Recording", "-p", "no:randomly").assert_outcomes(passed=2)
