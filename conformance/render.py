"""The conformance report (see :meth:`conformance.report.ConformanceReport.document`) as terminal lines and
as Markdown: the matrix of verdicts by area, the reasons, and one summary line per backend."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from . import untrusted, verdicts
from .catalogue import REFUSAL, SURFACE, VALUE

LABELS = {
    verdicts.PASS: "pass",
    verdicts.FAIL: "FAIL",
    verdicts.UNSUPPORTED_VERDICT: "unsupported",
    verdicts.KNOWN_FAILURE: "known failure",
    verdicts.KNOWN_FAILURE_PASSES: "KNOWN FAILURE PASSES",
    verdicts.NOT_APPLICABLE_VERDICT: "n/a",
    verdicts.ERROR: "ERROR",
    verdicts.CRASHED: "CRASHED",
    verdicts.TIMED_OUT: "TIMED OUT",
    verdicts.NOT_RUN: "NOT RUN",
}
#: verdicts named in a summary line only when some spec has them
RARE = (
    (verdicts.KNOWN_FAILURE_PASSES, "known failures now passing"),
    (verdicts.CRASHED, "crashed"),
    (verdicts.TIMED_OUT, "timed out"),
    (verdicts.NOT_RUN, "not run"),
    (verdicts.NOT_APPLICABLE_VERDICT, "not applicable"),
)
NOT_SELECTED = "-"
#: the lacked capabilities a summary line names (the most specs first)
LACKING_SHOWN = 6
#: the Markdown's table of each backend's environment, after its name
ENVIRONMENT_COLUMNS = ("engine", "engine_version", "device", "torch_version", "platform", "date", "suite_commit")
#: how a rendering writes a string an engine or a file supplied (:func:`conformance.untrusted.terminal`, ...)
Escape = Callable[[str], str]
#: kind -> (one failure, several) in the summary line
KIND_WORDS = {
    VALUE: ("silent wrong result", "silent wrong results"),
    verdicts.LOUD: ("loud failure", "loud failures"),
    REFUSAL: ("missing refusal", "missing refusals"),
    SURFACE: ("surface deviation", "surface deviations"),
}


def cell(spec: dict[str, Any], backend: str) -> str:
    result = spec["verdicts"].get(backend)
    return LABELS[result["verdict"]] if result else NOT_SELECTED


def by_area(report: dict[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    areas: dict[str, list[dict[str, Any]]] = {}
    for spec in report["specs"]:
        areas.setdefault(spec["area"], []).append(spec)
    yield from sorted(areas.items())


def reasons(report: dict[str, Any], escape: Escape) -> Iterator[str]:
    """ "spec.id [backend] label: reason" for every verdict that has a reason, or a failure the exception that
    stopped it ("raised TypeError: ..."), but unsupported ones (those are summed up per backend by
    :func:`lacking`); a failure in a named check of the spec says so ("FAIL in the second-order check"); each
    supplied string escaped by ``escape``."""
    for spec in report["specs"]:
        for backend, result in spec["verdicts"].items():
            if (reason := explanation(result)) and result["verdict"] != verdicts.UNSUPPORTED_VERDICT:
                yield f"{spec['id']} [{escape(backend)}] {verdict_label(result)}: {escape(reason)}"


def explanation(result: dict[str, Any]) -> str:
    """A verdict's reason, or for a failure without one the exception that stopped it ("raised TypeError: ...")."""
    return result.get("reason") or (f"raised {result['raised']}" if result.get("raised") else "")


def verdict_label(result: dict[str, Any]) -> str:
    """``FAIL``, or ``FAIL in the second-order check`` for a failure in a named check."""
    where = f" in the {check} check" if (check := result.get("failed_in")) else ""
    return f"{LABELS[result['verdict']]}{where}"


def lacking(report: dict[str, Any], backend: str, escape: Escape) -> str:
    """The capabilities ``backend`` lacks (a lacked member counts for its capability), each with the number of
    specs it left unsupported (float64: checked in float32 only), most first, the first :data:`LACKING_SHOWN` of
    them: what an engine author would implement next to raise coverage, in a line that stays readable (each spec's
    ``missing`` is in the report)."""
    counts = Counter(
        capability
        for spec in report["specs"]
        if (result := spec["verdicts"].get(backend))
        for capability in {missing.split("[", 1)[0] for missing in result["missing"]}
    )
    shown = ", ".join(f"{escape(capability)} ({count})" for capability, count in counts.most_common(LACKING_SHOWN))
    more = len(counts) - LACKING_SHOWN
    return f"{shown} and {more} more capabilities" if more > 0 else shown


def by_kind(failures: dict[str, int]) -> str:
    """ "0 silent wrong results, 2 loud failures, 1 missing refusal, 3 surface deviations": the failures (fail
    and known failure) counted by the kind of the spec, a value spec's failure by an engine's exception as loud."""
    return ", ".join(f"{failures[kind]} {words[failures[kind] != 1]}" for kind, words in KIND_WORDS.items())


def summary(name: str, backend: dict[str, Any], escape: Escape) -> str:
    counts = backend["summary"]
    about = " ".join(escape(backend[key]) for key in ("engine", "engine_version"))
    line = (
        f"{escape(name)} ({about} on {escape(backend['device'])}): "
        f"{counts[verdicts.PASS]} conforming, {counts[verdicts.FAIL]} failing, "
        f"{counts[verdicts.KNOWN_FAILURE]} known failures, {counts[verdicts.UNSUPPORTED_VERDICT]} unsupported, "
        f"{counts[verdicts.ERROR]} errors"
    )
    line += "".join(f", {counts[verdict]} {words}" for verdict, words in RARE if counts[verdict])
    return (
        f"{line}; {by_kind(backend['failures_by_kind'])}; "
        f"coverage {counts['run']}/{counts['applicable']} applicable specs run"
    )


def summaries(report: dict[str, Any], escape: Escape) -> Iterator[str]:
    """One line per backend: its summary and, if specs were unsupported, the capabilities it lacks."""
    for name, backend in report["backends"].items():
        line = summary(name, backend, escape)
        yield f"{line}; lacks {missing}" if (missing := lacking(report, name, escape)) else line


def completeness(report: dict[str, Any], escape: Escape) -> str:
    """One line: whether every selected spec got a verdict, and if not, why."""
    run = report["run"]
    if run["complete"]:
        return f"complete run (exit status {run['exit_status']})"
    status = "" if run["exit_status"] is None else f", exit status {run['exit_status']}"
    return f"INCOMPLETE run{status}: {'; '.join(map(escape, run['incomplete_because']))}"


def text(report: dict[str, Any]) -> list[str]:
    """The terminal's lines: every string an engine or a file supplied with its control characters visible."""
    names = list(report["backends"])
    rows = [["spec", *map(untrusted.terminal, names)]]
    for area, specs in by_area(report):
        rows.append([area, *[""] * len(names)])
        rows += [[f"  {spec['id']}", *(cell(spec, name) for name in names)] for spec in specs]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    if notes := list(reasons(report, untrusted.terminal)):
        lines += ["", "reasons:", *(f"  {note}" for note in notes)]
    return [*lines, "", *summaries(report, untrusted.terminal), completeness(report, untrusted.terminal)]


def markdown(report: dict[str, Any]) -> str:
    """The Markdown document: every string an engine or a file supplied kept in its table cell or list item,
    and inert (no HTML, image or link)."""
    names = list(report["backends"])
    lines = [
        "# Conformance report",
        "",
        f"**{completeness(report, untrusted.markdown)}**",
        "",
        "| spec | " + " | ".join(map(untrusted.code, names)) + " |",
    ]
    lines.append("| --- |" + " --- |" * len(names))
    for area, specs in by_area(report):
        lines.append(f"| **{area}** |" + " |" * len(names))
        lines += [f"| `{spec['id']}` | " + " | ".join(cell(spec, name) for name in names) + " |" for spec in specs]
    if notes := list(reasons(report, untrusted.markdown)):
        lines += ["", "## Reasons", "", *(f"- {note}" for note in notes)]
    lines += ["", "## Backends", "", *(f"- {line}" for line in summaries(report, untrusted.markdown))]
    lines += ["", "| backend | engine | version | device | torch | platform | date | suite commit |"]
    lines.append("| --- |" + " --- |" * 7)
    lines += [
        f"| {untrusted.code(name)} | "
        + " | ".join(untrusted.markdown(backend[key]) for key in ENVIRONMENT_COLUMNS)
        + " |"
        for name, backend in report["backends"].items()
    ]
    return "\n".join(lines) + "\n"
