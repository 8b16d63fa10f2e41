"""The holdouts change behaviour: each probe observes the documented value on torch and another on its holdout."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from backends import resolve
from backends.holdout import AREAS, HOLDOUTS, bug
from backends.registry import known_backends

#: how far apart two observed numbers may be and still be the same observation: rounding, not a bug
RELATIVE, ABSOLUTE = 1e-5, 1e-6


def same(observed: Any, expected: Any) -> bool:
    """Whether two observations (nested lists of numbers, booleans, None) agree, numbers up to rounding."""
    if isinstance(observed, list | tuple) and isinstance(expected, list | tuple):
        return len(observed) == len(expected) and all(same(a, b) for a, b in zip(observed, expected, strict=True))
    if isinstance(observed, bool) or isinstance(expected, bool) or observed is None or expected is None:
        return type(observed) is type(expected) and observed == expected
    if isinstance(observed, int | float) and isinstance(expected, int | float):
        return math.isclose(observed, expected, rel_tol=RELATIVE, abs_tol=ABSOLUTE)
    return False


def observe(spelling: str, name: str) -> Any:
    """The probe of holdout ``name`` run on the backend ``spelling``, held in its spec scope as a spec is."""
    backend = resolve(spelling)
    with backend.spec_scope():
        return HOLDOUTS[name].probe(backend)


@pytest.mark.parametrize("name", sorted(HOLDOUTS))
def test_torch_gives_the_documented_value(name: str) -> None:
    assert same(observe("cpu", name), HOLDOUTS[name].torch_gives)


@pytest.mark.parametrize("name", sorted(HOLDOUTS))
def test_the_holdout_gives_another(name: str) -> None:
    observed = observe(f"holdout:{name}", name)
    assert not same(observed, HOLDOUTS[name].torch_gives), f"holdout:{name} behaves as torch: {observed!r}"


def test_a_batch_of_at_least_24_spread_over_every_area() -> None:
    per_area = Counter(cls.area for cls in HOLDOUTS.values())
    assert len(HOLDOUTS) >= 24
    assert {area: per_area[area] for area in AREAS if per_area[area] < 2} == {}


@pytest.mark.parametrize("name", sorted(HOLDOUTS))
def test_selectable_by_name_with_its_bug_in_words(name: str) -> None:
    backend = resolve(f"holdout:{name}")
    assert type(backend) is HOLDOUTS[name]
    assert backend.name == f"holdout:{name}"
    assert f"holdout:{name}" in known_backends()
    assert bug(HOLDOUTS[name])


def test_an_unknown_holdout_is_refused_with_the_known_ones() -> None:
    from backends.contract import UnknownBackend

    with pytest.raises(UnknownBackend, match=r"known holdouts: .*tanh-backward-float32"):
        resolve("holdout:no-such-bug")
