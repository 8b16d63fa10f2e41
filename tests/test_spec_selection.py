"""--spec runs only the specs with the given IDs."""

SPECS = """
from conformance.catalogue import spec


@spec("demo.one", sources=["000"], kind="value")
def test_one(engine):
    '''One.'''


@spec("demo.two", sources=["000"], kind="value")
def test_two(engine):
    '''Two.'''


def test_not_a_spec(engine):
    pass
"""


def test_spec_option_selects_by_id(harness):
    harness.makepyfile(SPECS)
    result = harness.runpytest("-v", "--spec=demo.two")
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(["*test_two*PASSED*"])


def test_spec_option_takes_several_ids(harness):
    harness.makepyfile(SPECS)
    harness.runpytest("--spec=demo.one,demo.two").assert_outcomes(passed=2, deselected=1)


def test_unknown_spec_id_is_a_usage_error(harness):
    harness.makepyfile(SPECS)
    result = harness.runpytest("--spec=demo.three")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*no collected spec has the ID demo.three*"])
