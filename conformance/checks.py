"""Named checks inside a spec, so that a failure says which part of the spec did not hold.

A spec that makes several checks in turn wraps the optional ones in :func:`check`: an exception escaping the
block is tagged with the check's name, the report gives it as the verdict's ``failed_in``, and a known-failures
entry can be restricted to it (``"fails_in": "second-order"``), so that a failure anywhere else is still a
failure. :func:`conformance.gradcheck.check_gradients` makes the first-order checks (output, gradients, finite
differences) untagged, then ``float32`` (the same operator in single precision, for an engine whose first order
was checked in float64), ``float64`` (float64 results held to float64's error model, where the first-order check
held them to float32's), ``forward-mode``, ``second-order`` and last ``shape`` (a result of the oracle's size in
another shape, jittor's ``(1,)`` for a 0-d result, whose values every check before held in the oracle's shape): a
missing double backward stops the spec only after its first order held, an engine that computes float64 to
float32's precision (a constant rounded through float32) is told apart from one that computes a wrong value, and a
known wrong shape hides no wrong value.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

FLOAT32 = "float32"
FLOAT64 = "float64"
FORWARD_MODE = "forward-mode"
SECOND_ORDER = "second-order"
SHAPE = "shape"
#: every check name a spec tags and a known-failures entry may name
NAMES = (FLOAT32, FLOAT64, FORWARD_MODE, SECOND_ORDER, SHAPE)
#: the attribute an escaping exception carries
ATTRIBUTE = "conformance_check"


@contextmanager
def check(name: str) -> Iterator[None]:
    """Tag an exception escaping the block with the check's ``name`` (the innermost check wins)."""
    if name not in NAMES:
        raise ValueError(f"unknown check {name!r}; one of {', '.join(NAMES)}")
    try:
        yield
    except Exception as error:
        if not getattr(error, ATTRIBUTE, None):
            with suppress(AttributeError, TypeError):  # an exception type that takes no attributes: untagged
                setattr(error, ATTRIBUTE, name)
        raise


def failed_in(error: BaseException) -> str:
    """The check ``error`` escaped from, or empty (outside any named check)."""
    name = getattr(error, ATTRIBUTE, "")
    return name if isinstance(name, str) else ""


class _RaisedIn(type):
    def __instancecheck__(cls, error: object) -> bool:
        return isinstance(error, BaseException) and failed_in(error) == cls.check_name


def raised_in(name: str) -> type:
    """A class that an exception is an instance of exactly when it escaped check ``name``: what
    ``pytest.mark.xfail(raises=...)`` takes, so that the mark covers that check's failure and no other."""
    return _RaisedIn(f"RaisedIn[{name}]", (), {"check_name": name})
