"""The static dashboard: built from reports of several engines and dates, every report text escaped, and in a real
headless Chromium (driven by playwright): it opens with no console error, fetches nothing, its links land, the
drill-down shows the reasons and the interop switch hides the specs that agree."""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from conformance import dashboard
from tests.test_diff import EXTRA, report
from tests.test_hostile import SPECS, backend

#: CI sets it: there the browser test must run, not skip
REQUIRE_BROWSER = "CONFORMANCE_REQUIRE_BROWSER"


@pytest.fixture
def reports(harness):
    """A report of cpu and a hostile engine, and a later one of cpu with one more spec."""
    first = report(harness, "first.json", f"--backend=cpu,{backend('Hostile').removeprefix('--backend=')}")
    later = report(harness, "later.json", "--backend=cpu", specs=SPECS + EXTRA)
    document = json.loads(later.read_text(encoding="utf-8"))
    document["backends"]["cpu"]["date"] = "2099-01-01T00:00:00+00:00"
    later.write_text(json.dumps(document), encoding="utf-8")
    return [first, later]


def build(paths, out):
    assert dashboard.main([*map(str, paths), f"--out={out}"]) == 0
    return out.read_text(encoding="utf-8")


def test_the_page_has_a_column_per_backend_and_report_and_keeps_report_text_inert(reports, tmp_path):
    page = build(reports, tmp_path / "dashboard.html")
    assert page.count('<tr id="c') == 3  # cpu and the hostile engine, then cpu again
    for forbidden in ("<script>alert", "<img src=x", "\x1b", "\x00"):
        assert forbidden not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script>") == 1  # the page's own switch
    assert '<details id="area-alpha">' in page and '<details id="area-beta">' in page
    assert 'class="v-fail"' in page  # the hostile engine fails alpha.leaf
    assert re.findall(r'\b(?:src|href)="([^"#][^"]*)"', page) == []  # every link within the page


def test_reports_of_several_dates_give_a_history(reports, tmp_path):
    page = build(reports, tmp_path / "dashboard.html")
    history = page[page.index('<h2 id="history">') :]
    assert "<svg" in history
    assert "2099-01-01T00:00:00+00:00" in history


def test_one_date_has_no_history_and_says_so(reports, tmp_path):
    page = build(reports[:1], tmp_path / "dashboard.html")
    assert "give reports of several dates for a history" in page


def saved_run(storage, number, median):
    """A pytest-benchmark saved run of one benchmark, as ``--benchmark-autosave`` writes it."""
    run = {
        "datetime": f"2026-12-0{number}T00:00:00",
        "commit_info": {"id": f"{number}" * 40},
        "benchmarks": [{"fullname": "benchmarks/test_x.py::test_step[cpu]", "stats": {"median": median, "data": []}}],
    }
    (storage / f"000{number}_run.json").write_text(json.dumps(run), encoding="utf-8")


def test_saved_benchmark_runs_give_the_benchmark_history_chart(reports, tmp_path):
    storage = tmp_path / "storage" / "Linux-CPython-3.11-64bit"
    storage.mkdir(parents=True)
    saved_run(storage, 1, 0.010)
    saved_run(storage, 2, 0.012)
    out = tmp_path / "dashboard.html"
    assert dashboard.main([str(reports[0]), f"--benchmark-storage={tmp_path / 'storage'}", f"--out={out}"]) == 0
    section = out.read_text(encoding="utf-8").split('<h2 id="benchmarks">', 1)[1]
    assert "<svg" in section and "step[cpu]" in section
    assert section.count("<tr><td>000") == 2


def test_what_is_no_report_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[]", encoding="utf-8")
    assert dashboard.main([str(bad), f"--out={tmp_path / 'out.html'}"]) == 2
    assert "not a conformance report" in capsys.readouterr().err


def chromium() -> str:
    """The system's Chromium, or a skip saying how to get it (a failure where CI requires the browser)."""
    found = os.environ.get("CONFORMANCE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        message = "needs Chromium (apt-get install chromium) and playwright (the dashboard extra)"
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(f"{REQUIRE_BROWSER} is set: {message}")
        pytest.skip(message)
    return found


def test_the_page_works_in_a_real_browser(reports, tmp_path):
    executable = chromium()
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "dashboard.html"
    build(reports, page_path)
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    problems, fetched = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=[*flags, "--no-first-run"])
        try:
            page = browser.new_page()
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: fetched.append(request.url))
            page.goto(Path(page_path).as_uri())
            assert page.title() == "Autograd conformance dashboard"
            targets = page.eval_on_selector_all("a[href^='#']", "links => links.map(a => a.hash.slice(1))")
            assert targets and all(page.locator(f"[id='{target}']").count() == 1 for target in targets)
            assert page.locator("#area-alpha .reasons").is_hidden()
            page.click("#area-alpha > summary")
            reasons = page.locator("#area-alpha .reasons")
            assert reasons.is_visible() and "alpha.leaf" in reasons.inner_text()
            rows = page.locator("#area-alpha tr.spec")
            before = sum(rows.nth(i).is_visible() for i in range(rows.count()))
            page.check("#differing")
            after = sum(rows.nth(i).is_visible() for i in range(rows.count()))
            assert (before, after) == (2, 1)  # alpha.plain passes on both engines; alpha.leaf differs
        finally:
            browser.close()
    assert problems == []
    assert fetched == [Path(page_path).as_uri()]
