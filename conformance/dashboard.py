"""A static conformance dashboard from any number of reports: ``python -m conformance.dashboard REPORT.json ...
--out dashboard.html [--benchmark-storage .benchmarks]``.

Each backend of each report (``--conformance-json``) is a column: engines, versions and devices side by side (the
shipped engines, torch 2.11 on a GPU, torch 2.14.1 and 2.15.0 on the CPU). The page has

- the matrix: each area's passing specs over those that apply, per column, coloured by the rate;
- per area, a drill-down (``<details>``) to each spec's verdict per column, coloured by verdict, with every
  reason; a switch shows only the specs whose verdicts differ across columns (an interop view);
- the verdicts explained;
- the history: where several reports of one backend and engine come from different dates, its pass rate over
  time (a chart, and the numbers);
- with ``--benchmark-storage``, the benchmark history chart (:mod:`benchmarks.history`, from a checkout).

One self-contained HTML file: styles, script and charts (SVG) inline, nothing fetched when it is viewed. Every text
a report holds (reasons, engine names, versions) is untrusted: escaped for HTML (:func:`html.escape`).
"""

from __future__ import annotations

import argparse
import datetime
import html
import io
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from . import untrusted, verdicts
from .diff import Unusable, load
from .render import LABELS, explanation, verdict_label

#: verdict -> what it means, for the legend
MEANINGS = {
    verdicts.PASS: "the spec ran and the documented behaviour held",
    verdicts.FAIL: "the spec ran and the behaviour did not hold",
    verdicts.KNOWN_FAILURE: "failed as the engine's known-failures file says (the reason is its entry)",
    verdicts.KNOWN_FAILURE_PASSES: "listed as a known failure but held: the entry is stale",
    verdicts.UNSUPPORTED_VERDICT: "not run: the engine does not declare a capability the spec needs",
    verdicts.NOT_APPLICABLE_VERDICT: "not run: the spec cannot apply to this backend (a GPU behaviour on a CPU)",
    verdicts.ERROR: "no verdict: a setup or teardown error, or a skip the engine raised itself",
    verdicts.CRASHED: "no verdict: the process running the spec died",
    verdicts.TIMED_OUT: "no verdict: the spec ran past its time limit",
    verdicts.NOT_RUN: "no verdict: selected, but the run ended before it",
}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.rate { text-align: right; font-variant-numeric: tabular-nums; }
.v-pass { background: #c8e6c9; } .v-fail { background: #ef9a9a; font-weight: bold; }
.v-known-failure { background: #ffe0b2; } .v-known-failure-passes { background: #fff176; font-weight: bold; }
.v-unsupported { background: #e0e0e0; color: #555; } .v-not-applicable { background: #f5f5f5; color: #777; }
.v-error, .v-crashed, .v-timed-out { background: #b71c1c; color: #fff; font-weight: bold; }
.v-not-run { background: repeating-linear-gradient(45deg, #fff, #fff 4px, #eee 4px, #eee 8px); }
details { margin: 0.3em 0; } summary { cursor: pointer; }
body.differing-only tr.spec:not(.differs) { display: none; }
.reasons li { margin: 0.15em 0; } .chart svg { max-width: 100%; height: auto; }
"""
SCRIPT = """
document.getElementById('differing').addEventListener('change', function (event) {
  document.body.classList.toggle('differing-only', event.target.checked);
});
"""


def columns_of(reports: list[tuple[Path, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One column per backend of each report, with what it ran on and its verdicts (spec ID -> verdict entry)."""
    columns = []
    for path, report in reports:
        complete = bool(report["run"].get("complete"))
        for name, described in report["backends"].items():
            entries = {
                spec["id"]: {**spec["verdicts"][name], "area": spec["area"]}
                for spec in report["specs"]
                if name in spec["verdicts"]
            }
            columns.append(
                {
                    "id": f"c{len(columns) + 1}",
                    "backend": name,
                    "report": str(path),
                    "complete": complete,
                    **{key: str(described.get(key, "")) for key in ("engine", "engine_version", "device")},
                    **{key: str(described.get(key, "")) for key in ("torch_version", "date", "suite_commit")},
                    "verdicts": entries,
                }
            )
    return columns


def rate(entries: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(passing, attempted, unsupported) among a column's verdicts: attempted are those that apply and that the
    engine declares, whatever came of them (a failure, a known failure, a crash, a spec never run)."""
    counts = Counter(entry["verdict"] for entry in entries)
    unsupported = counts[verdicts.UNSUPPORTED_VERDICT]
    return counts[verdicts.PASS], len(entries) - counts[verdicts.NOT_APPLICABLE_VERDICT] - unsupported, unsupported


def rate_cell(passing: int, attempted: int, unsupported: int) -> str:
    """Passing over attempted, coloured from red (none) to green (all); the unsupported specs counted apart, in
    grey where nothing was attempted."""
    aside = f"<br><small>{unsupported} unsupported</small>" if unsupported else ""
    if not attempted:
        return f'<td class="rate v-unsupported">-{aside}</td>' if unsupported else '<td class="rate">-</td>'
    fraction = passing / attempted
    hue = round(120 * fraction)  # red to green
    return (
        f'<td class="rate" style="background: hsl({hue}, 60%, 85%)">{passing}/{attempted} ({fraction:.0%}){aside}</td>'
    )


def escaped(value: object) -> str:
    """Report text as HTML text: capped, control characters visible (:func:`conformance.untrusted.terminal`),
    markup escaped."""
    return html.escape(untrusted.terminal(untrusted.text(value)), quote=True)


def header_cells(columns: list[dict[str, Any]]) -> str:
    """A column's backend, and its engine, version, device and date, linked to its row of the columns table."""
    return "".join(
        f'<th title="{escaped(c["report"])}"><a href="#{c["id"]}">{escaped(c["backend"])}</a><br><small>'
        f"{escaped(c['engine'])} {escaped(c['engine_version'])}<br>{escaped(c['device'])} "
        f"{escaped(c['date'][:10])}</small></th>"
        for c in columns
    )


def runs_table(columns: list[dict[str, Any]]) -> list[str]:
    out = [
        '<h2 id="runs">Columns</h2>',
        "<table><tr><th>column</th><th>backend</th><th>engine</th><th>version</th><th>device</th><th>torch</th>"
        "<th>date</th><th>suite commit</th><th>run</th><th>report</th></tr>",
    ]
    for c in columns:
        run = "complete" if c["complete"] else "<strong>INCOMPLETE</strong>"
        cells = [c["backend"], c["engine"], c["engine_version"], c["device"], c["torch_version"], c["date"]]
        out.append(
            f'<tr id="{c["id"]}"><td>{c["id"]}</td>'
            + "".join(f"<td>{escaped(cell)}</td>" for cell in cells)
            + f"<td><code>{escaped(c['suite_commit'][:12])}</code></td><td>{run}</td>"
            + f"<td>{escaped(c['report'])}</td></tr>"
        )
    out.append("</table>")
    return out


def legend() -> list[str]:
    out = ['<h2 id="legend">Verdicts</h2>', "<table>"]
    for verdict, meaning in MEANINGS.items():
        out.append(f'<tr><td class="v-{verdict}">{LABELS[verdict]}</td><td>{html.escape(meaning)}</td></tr>')
    out.append("</table>")
    return out


def areas_of(columns: list[dict[str, Any]]) -> dict[str, list[str]]:
    """area -> its spec IDs, over every column."""
    areas: dict[str, set[str]] = {}
    for column in columns:
        for spec_id, entry in column["verdicts"].items():
            areas.setdefault(entry["area"], set()).add(spec_id)
    return {area: sorted(ids) for area, ids in sorted(areas.items())}


def matrix(columns: list[dict[str, Any]], areas: dict[str, list[str]]) -> list[str]:
    out = [
        '<h2 id="matrix">Passing specs by area</h2>',
        "<p>Each cell: the specs that passed of those the backend attempted (that apply to it and that it declares "
        "the capabilities of); the specs it does not declare the capabilities for are counted apart.</p>",
        f"<table><tr><th>area</th>{header_cells(columns)}</tr>",
    ]
    for area, spec_ids in areas.items():
        cells = "".join(rate_cell(*rate([c["verdicts"][i] for i in spec_ids if i in c["verdicts"]])) for c in columns)
        out.append(f'<tr><th><a href="#area-{escaped(area)}">{escaped(area)}</a></th>{cells}</tr>')
    totals = "".join(rate_cell(*rate(list(c["verdicts"].values()))) for c in columns)
    out += [f"<tr><th>all</th>{totals}</tr>", "</table>"]
    return out


def drill_down(columns: list[dict[str, Any]], areas: dict[str, list[str]]) -> list[str]:
    out = [
        '<h2 id="specs">Specs</h2>',
        '<p><label><input type="checkbox" id="differing"> only the specs whose verdicts differ across columns'
        "</label></p>",
    ]
    for area, spec_ids in areas.items():
        out += [
            f'<details id="area-{escaped(area)}"><summary>{escaped(area)} ({len(spec_ids)} specs)</summary>',
            f"<table><tr><th>spec</th>{header_cells(columns)}</tr>",
        ]
        reasons = []
        for spec_id in spec_ids:
            seen = {c["verdicts"][spec_id]["verdict"] for c in columns if spec_id in c["verdicts"]}
            row_class = "spec differs" if len(seen) > 1 else "spec"
            cells = []
            for c in columns:
                entry = c["verdicts"].get(spec_id)
                if entry is None:
                    cells.append("<td>-</td>")
                    continue
                reason = explanation(entry)
                cells.append(
                    f'<td class="v-{escaped(entry["verdict"])}" title="{escaped(reason)}">'
                    f"{LABELS[entry['verdict']]}</td>"
                )
                if reason:
                    reasons.append(
                        f"<li><code>{escaped(spec_id)}</code> [{escaped(c['backend'])}, {c['id']}] "
                        f"{escaped(verdict_label(entry))}: {escaped(reason)}</li>"
                    )
            out.append(f'<tr class="{row_class}"><td><code>{escaped(spec_id)}</code></td>{"".join(cells)}</tr>')
        out.append("</table>")
        if reasons:
            out += ['<ul class="reasons">', *reasons, "</ul>"]
        out.append("</details>")
    return out


def histories(columns: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(backend, engine) -> its columns by date, where reports of at least two dates have it."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for column in columns:
        groups.setdefault((column["backend"], column["engine"]), []).append(column)
    return {
        key: sorted(group, key=lambda c: c["date"])
        for key, group in sorted(groups.items())
        if len({c["date"] for c in group}) > 1
    }


def svg(figure: Any) -> str:
    """A matplotlib figure as inline SVG (its XML prologue dropped)."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def history_section(columns: list[dict[str, Any]]) -> list[str]:
    groups = histories(columns)
    out = ['<h2 id="history">History</h2>']
    if not groups:
        return [*out, "<p>Each backend has reports of one date only: give reports of several dates for a history.</p>"]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 3.5), layout="constrained")
    lowest = 100.0
    for (backend, engine), group in groups.items():
        points = []
        for column in group:
            passing, attempted, _ = rate(list(column["verdicts"].values()))
            if attempted:
                points.append((datetime.datetime.fromisoformat(column["date"]), 100 * passing / attempted))
        axes.plot([d for d, _ in points], [r for _, r in points], marker="o", label=f"{backend} ({engine})")
        for column, (when, value) in zip(group, points, strict=False):
            axes.annotate(column["engine_version"].split("+")[0], (when, value), fontsize="x-small")
        lowest = min([lowest, *(value for _, value in points)])
    axes.set_ylim(max(0.0, lowest - 5), 100.5)
    axes.set_ylabel("passing, of the specs attempted (%)")
    axes.set_title("Pass rate by report date")
    axes.grid(alpha=0.4)
    axes.legend(fontsize="small", frameon=False)
    out.append(f'<div class="chart">{svg(figure)}</div>')
    out.append("<table><tr><th>backend</th><th>date</th><th>version</th><th>suite commit</th><th>passing</th></tr>")
    for (backend, _), group in groups.items():
        for c in group:
            out.append(
                f"<tr><td>{escaped(backend)}</td><td>{escaped(c['date'])}</td><td>{escaped(c['engine_version'])}</td>"
                f"<td><code>{escaped(c['suite_commit'][:12])}</code></td>{rate_cell(*rate(list(c['verdicts'].values())))}</tr>"
            )
    out.append("</table>")
    return out


def benchmark_section(storage: str) -> list[str]:
    """The benchmark history chart and table of pytest-benchmark's saved runs (from a checkout)."""
    from benchmarks import history
    from benchmarks.storage import saved_runs

    runs = saved_runs(storage)
    if not runs:
        raise Unusable(f"--benchmark-storage {storage}: no saved runs (save some with --benchmark-autosave)")
    steps_of = history.steps_by_run(runs, history.DEFAULT_EFFECT)
    buffer = io.BytesIO()
    history.plot(runs, buffer, steps_of, format="svg")
    chart = buffer.getvalue().decode("utf-8")
    rows = [
        f"<tr><td>{escaped(run.label)}</td><td>{escaped(run.datetime)}</td><td>{len(run.benchmarks)}</td></tr>"
        for run in runs
    ]
    return [
        '<h2 id="benchmarks">Benchmark history</h2>',
        f'<div class="chart">{chart[chart.index("<svg") :]}</div>',
        "<table><tr><th>saved run</th><th>date</th><th>benchmarks</th></tr>",
        *rows,
        "</table>",
    ]


def page(reports: list[tuple[Path, dict[str, Any]]], storage: str | None = None) -> str:
    columns = columns_of(reports)
    areas = areas_of(columns)
    built = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    body = [
        "<h1>Autograd conformance dashboard</h1>",
        f"<p>Built {built} from {len(reports)} reports, {len(columns)} columns. "
        '<a href="#matrix">Matrix</a> · <a href="#specs">Specs</a> · <a href="#legend">Verdicts</a> · '
        '<a href="#runs">Columns</a> · <a href="#history">History</a>'
        + (' · <a href="#benchmarks">Benchmarks</a>' if storage else "")
        + "</p>",
        *matrix(columns, areas),
        *drill_down(columns, areas),
        *legend(),
        *runs_table(columns),
        *history_section(columns),
        *(benchmark_section(storage) if storage else []),
    ]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>Autograd conformance dashboard</title>",
            f"<style>{STYLE}</style></head><body>",
            *body,
            f"<script>{SCRIPT}</script>",
            "</body></html>",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json")
    parser.add_argument("--out", type=Path, required=True, metavar="PATH", help="the HTML file to write")
    parser.add_argument("--benchmark-storage", metavar="DIR", help="pytest-benchmark's storage, for its history")
    args = parser.parse_args(argv)
    try:
        reports = [(path, load(path)) for path in args.reports]
        document = page(reports, args.benchmark_storage)
    except (Unusable, ValueError) as error:
        print(f"error: {untrusted.terminal(untrusted.text(error))}", file=sys.stderr)
        return 2
    args.out.write_text(document, encoding="utf-8")
    print(f"wrote {args.out}: {len(reports)} reports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
