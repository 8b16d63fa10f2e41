"""The spec catalogue: every spec's stable ID, sources and needed capabilities, declared at the spec.

A spec is a test function decorated with :func:`spec`; its docstring's first paragraph is the documented
behaviour it checks, in the documentation's words, and the rest notes variance between releases::

    @spec("grad.external-gradient", sources=["000", "001", "004"], needs=[cap.AUTOGRAD])
    def test_external_gradient(engine):
        \"\"\"Q.backward(gradient=external_grad) leaves dQ/da = 9a² in a.grad and dQ/db = -2b in b.grad.\"\"\"

``sources`` name seed files by their three-digit prefix (``"002"`` is ``002_….txt`` in ``shared/seeds``) or a
PyTorch documentation section (``"docs:autograd-mechanics#in-place-correctness-checks"``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pytest

from backends import capabilities

SPEC_ID = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)+$")


@dataclass(frozen=True)
class Spec:
    id: str
    sources: tuple[str, ...]
    needs: frozenset[str]
    says: str
    notes: str
    test: str

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]


def spec(spec_id: str, *, sources: Iterable[str], needs: Iterable[str] = ()) -> Callable:
    """Declare a test function as the spec ``spec_id`` (see the module docstring)."""
    needs = checked_needs(spec_id, needs)

    def register(function: Callable) -> Callable:
        doc = inspect.cleandoc(function.__doc__ or "")
        if not doc:
            raise ValueError(f"spec {spec_id!r} has no docstring stating the documented behaviour")
        says, _, notes = doc.partition("\n\n")
        entry = Spec(
            id=spec_id,
            sources=tuple(sources),
            needs=needs,
            says=" ".join(says.split()),
            notes=notes.strip(),
            test=f"{function.__module__}::{function.__qualname__}",
        )
        return pytest.mark.spec(entry)(function)

    return register


def checked_needs(spec_id: str, needs: Iterable[str]) -> frozenset[str]:
    """``needs`` as a set, after checking the spec ID's form and that every capability is known."""
    if not SPEC_ID.match(spec_id):
        raise ValueError(f"spec ID {spec_id!r} is not of the form area.behaviour (lower case, dotted)")
    needs = frozenset(needs)
    if unknown := needs - capabilities.ALL:
        raise ValueError(f"spec {spec_id!r} needs unknown capabilities {sorted(unknown)}")
    return needs


def spec_param(
    spec_id: str, *values: object, says: str, sources: Iterable[str], test: str, needs: Iterable[str] = ()
) -> pytest.ParameterSet:
    """One parameter of a parametrized test that is a spec of its own, for catalogues of similar specs::

        @pytest.mark.parametrize("op", [spec_param("opgrad.relu", RELU, says="...", sources=[...], test=...)])

    The parameter's id is the spec ID's behaviour (``relu``); ``test`` names the test function as
    ``"module::qualname"``.
    """
    entry = Spec(
        id=spec_id,
        sources=tuple(sources),
        needs=checked_needs(spec_id, needs),
        says=" ".join(says.split()),
        notes="",
        test=test,
    )
    return pytest.param(*values, marks=pytest.mark.spec(entry), id=spec_id.split(".", 1)[1])


def spec_of(item: pytest.Item) -> Spec | None:
    """The catalogue entry of a collected test, or None for a test that is not a spec."""
    marker = item.get_closest_marker("spec")
    return marker.args[0] if marker else None


def check_unique_ids(items: Iterable[pytest.Item]) -> None:
    """Raise if two different test functions of a run declare the same spec ID."""
    seen: dict[str, str] = {}
    for item in items:
        if entry := spec_of(item):
            first = seen.setdefault(entry.id, entry.test)
            if first != entry.test:
                raise pytest.UsageError(f"spec ID {entry.id!r} is declared twice: {first} and {entry.test}")
