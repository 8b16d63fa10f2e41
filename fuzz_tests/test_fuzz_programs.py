"""One item per chainable operator of the catalogue, ``fuzz.<operator>``: the fuzzer's programs that start with it,
run on the engine and held against its oracles (:mod:`conformance.fuzz.items`)."""

import pytest

from conformance.fuzz.items import fuzz_programs_starting_with, items

TEST = f"{__name__}::test_fuzz_programs"


@pytest.mark.parametrize("operator", items(TEST))
def test_fuzz_programs(engine, operator, request):
    fuzz_programs_starting_with(engine, operator, request.node)
