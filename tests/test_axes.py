"""The review of every area against the axes of spec depth (conformance.axes) is whole, cites real specs, and
is what the README shows."""

from conformance import axes
from conformance.catalogue import ROOT, collect


def catalogue_ids() -> set[str]:
    return {entry.spec.id for entry in collect()}


def test_every_area_is_reviewed_on_every_axis():
    areas = {spec_id.split(".", 1)[0] for spec_id in catalogue_ids()}
    assert set(axes.REVIEW) == areas
    assert {area: sorted(reviews) for area, reviews in axes.REVIEW.items() if set(reviews) != set(axes.AXES)} == {}


def test_every_cited_spec_exists_in_its_area():
    ids = catalogue_ids()
    cited = {
        (area, spec_id)
        for area, reviews in axes.REVIEW.items()
        for review in reviews.values()
        if isinstance(review, axes.Covered)
        for spec_id in review.by
    }
    assert (
        sorted((area, spec_id) for area, spec_id in cited if spec_id not in ids or not spec_id.startswith(f"{area}."))
        == []
    )


def test_a_covered_axis_names_its_specs_and_a_missing_one_its_reason():
    for reviews in axes.REVIEW.values():
        for review in reviews.values():
            if isinstance(review, axes.Covered):
                assert review.by
            else:
                assert review.what if isinstance(review, axes.Gap) else review.why


def test_the_readme_shows_the_review():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert axes.markdown() in readme, "paste conformance.axes.markdown() into the README's spec depth section"
