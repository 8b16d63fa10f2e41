"""The review of every area of the catalogue against the axes where real engine bugs hide.

A spec that checks a behaviour in one configuration passes an engine whose bug lives in another: a float32-only
backward, a Jacobian transposed only for non-square matrices, an in-place form whose gradient misses the operand
on the right, a hook honoured on leaves only, a module wrong where the functional form is right, a momentum buffer
that resets after the second step. Each area of ``SPECS.md`` says here, for each axis, which specs vary it
(:class:`Covered`) or why the axis does not apply to the behaviours of that area (:class:`NotApplicable`).

``tests/test_axes.py`` holds this table to the catalogue: every area is reviewed on every axis, and every spec
a review cites exists; the README shows :func:`markdown`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: axis -> the variations it asks for
AXES: dict[str, str] = {
    "dtypes": "float32 as well as float64, with float32 tolerances from an error model",
    "shapes": "non-square and batched shapes, broadcasting in every operand, 0-d and empty tensors",
    "forms": "in-place and out-of-place forms, the operand that requires grad on either side, leaves and "
    "non-leaves, views and detached aliases",
    "graph APIs": "hooks on leaves and non-leaves that replace the gradient, retain_grad on non-leaves",
    "models": "modules standalone and inside resnet18, networks frozen in part, optimizers over several steps",
    "oracle": "an expectation that the code path under test cannot compute (NumPy, closed forms, float64 "
    "replicas, finite differences)",
}


@dataclass(frozen=True)
class Covered:
    """The axis is varied: ``how``, by the specs ``by``."""

    how: str
    by: tuple[str, ...]


@dataclass(frozen=True)
class NotApplicable:
    """The axis does not apply to this area's behaviours, because ``why``."""

    why: str


Review = Covered | NotApplicable


def covered(how: str, *by: str) -> Covered:
    return Covered(how, by)


def not_applicable(why: str) -> NotApplicable:
    return NotApplicable(why)


#: area -> axis -> its review
REVIEW: dict[str, dict[str, Review]] = {}


def phrase(axis: str, review: Review) -> str:
    if isinstance(review, Covered):
        return f"{axis}: {review.how} ({', '.join(f'`{spec_id}`' for spec_id in review.by)})"
    return f"{axis}: {review.why}"


def markdown() -> str:
    """The review as the README shows it: the axes, then a line an area saying what each axis covers there and
    why the others do not apply."""
    lines = ["| axis | what it varies |", "| --- | --- |", *(f"| {axis} | {what} |" for axis, what in AXES.items()), ""]
    for area, reviews in REVIEW.items():
        covered_axes = [phrase(axis, review) for axis, review in reviews.items() if isinstance(review, Covered)]
        other_axes = [phrase(axis, review) for axis, review in reviews.items() if isinstance(review, NotApplicable)]
        line = f"- **{area}**: covers " + ("; ".join(covered_axes) if covered_axes else "no axis")
        if other_axes:
            line += ". Not applicable: " + "; ".join(other_axes)
        lines.append(line + ".")
    return "\n".join(lines) + "\n"
