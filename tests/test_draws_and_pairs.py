"""--draws (each spec on several seeded draws of its inputs, the worst verdict standing) and --pair-mutants (each
mutant only on the spec meant to catch it, catalogue parameters included)."""

from conformance.catalogue import SPEC_DIR, collect
from tests.test_report import report_json, verdict_table

DRAWN = """
import numpy as np

from conformance.catalogue import spec


@spec("demo.draws", sources=["000"], kind="value")
def test_draws(engine):
    '''Fails on the draws whose first number is above one half: the verdict over draws is the worst.'''
    assert np.random.random_sample() <= 0.5


@spec("demo.seen", sources=["000"], kind="value")
def test_seen(engine):
    '''Records each draw's first number.'''
    with open("seen.txt", "a") as seen:
        seen.write(f"{np.random.random_sample()}\\n")
"""


def test_each_draw_is_seeded_apart_and_the_worst_verdict_stands(harness):
    harness.makepyfile(DRAWN)
    result, report = report_json(harness, "--draws=6", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] >= 1 and outcomes["passed"] >= 6  # six draws of demo.seen, some of demo.draws pass
    assert verdict_table(report) == {("demo.draws", "cpu"): "fail", ("demo.seen", "cpu"): "pass"}
    assert len(set((harness.path / "seen.txt").read_text().split())) == 6
    result.stdout.fnmatch_lines(["FAILED *::test_draws?cpu-draw?]*"])


def test_mutants_are_paired_with_their_specs_only(pytester):
    """A mutant runs with its own spec, a catalogue parameter too; the other backends run every spec."""
    result = pytester.runpytest_subprocess(
        str(SPEC_DIR / "test_operator_gradients.py"),
        str(SPEC_DIR / "test_gradients.py"),
        "--collect-only",
        "-q",
        "--backend=cpu,mutant:doubled-gradients,mutant:wrong-grad-cdist",
        "--pair-mutants",
        "-p",
        "no:cacheprovider",
    )
    tests = [line.rsplit("::", 1)[1] for line in result.outlines if "::" in line]
    assert sorted(test for test in tests if "mutant:" in test) == [
        "test_external_gradient[mutant:doubled-gradients]",
        "test_operator_gradient[mutant:wrong-grad-cdist-cdist]",
    ]
    opgrad = sum(entry.spec.area == "opgrad" for entry in collect())
    assert sum(test.startswith("test_operator_gradient[cpu-") for test in tests) == opgrad
