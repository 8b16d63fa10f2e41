"""pytest plugin: how close each value spec's comparisons come to their tolerance, per backend.

Loaded by :mod:`conformance.separation` (``-p conformance.margins``). During each spec's call it wraps
``numpy.testing.assert_allclose`` and ``assert_array_equal`` and records the largest **ratio** of error to
tolerance that the spec's comparisons reach, max |actual - desired| / (atol + rtol |desired|): below 1 the
comparison passes, above 1 it fails. An oracle with an error model of its own reports its ratio through
:func:`observe` (:mod:`conformance.resnet_oracle`). A spec whose comparisons all held, or that failed on
something other than a tolerance (a ``.grad`` that is None), records what it reached before.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np
import pytest

from .catalogue import spec_of
from .plugin import engine_of

#: the ratios of the spec being called (None outside a spec's call, or when this plugin is not loaded)
_current: list[float] | None = None
#: (spec ID, backend name) -> (largest ratio, or None where nothing was compared; whether the spec failed)
MARGINS = pytest.StashKey[dict[tuple[str, str], tuple[float | None, bool]]]()


def observe(ratio: float) -> None:
    """Record one comparison's error over its tolerance for the spec being called (no-op when not measuring)."""
    if _current is not None:
        _current.append(float(ratio))


def allclose_ratio(actual: Any, desired: Any, rtol: float = 1e-7, atol: float = 0.0, equal_nan: bool = True) -> float:
    actual, desired = np.asarray(actual, dtype=np.float64), np.asarray(desired, dtype=np.float64)
    if actual.shape != desired.shape and actual.size and desired.size:
        actual, desired = np.broadcast_arrays(actual, desired)
    if actual.size == 0 or desired.size == 0:
        return 0.0
    error = np.abs(actual - desired)
    same = (actual == desired) | (equal_nan & np.isnan(actual) & np.isnan(desired))
    tolerance = atol + rtol * np.abs(desired)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(same, 0.0, np.where(tolerance > 0, error / tolerance, np.inf))
    return float(np.nan_to_num(ratios, nan=np.inf).max())


def _measured(original, ratio_of):
    @functools.wraps(original)
    def compare(actual, desired, *args, **kwargs):
        with contextlib.suppress(TypeError, ValueError):  # values that are no numbers: nothing to measure
            observe(ratio_of(actual, desired, *args, **kwargs))
        return original(actual, desired, *args, **kwargs)

    return compare


def _allclose_arguments(actual, desired, rtol=1e-7, atol=0.0, equal_nan=True, **_ignored):
    return allclose_ratio(actual, desired, rtol, atol, equal_nan)


def _equal_arguments(actual, desired, *_args, **_kwargs):
    return 0.0 if np.array_equal(np.asarray(actual), np.asarray(desired), equal_nan=True) else np.inf


def pytest_configure(config: pytest.Config) -> None:
    config.stash[MARGINS] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    global _current
    backend, entry = engine_of(item), spec_of(item)
    if backend is None or entry is None:
        return (yield)
    _current = []
    patch = pytest.MonkeyPatch()
    patch.setattr(np.testing, "assert_allclose", _measured(np.testing.assert_allclose, _allclose_arguments))
    patch.setattr(np.testing, "assert_array_equal", _measured(np.testing.assert_array_equal, _equal_arguments))
    failed = False
    try:
        return (yield)
    except BaseException:
        failed = True
        raise
    finally:
        patch.undo()
        item.config.stash[MARGINS][(entry.id, backend.name)] = (max(_current, default=None), failed)
        _current = None
