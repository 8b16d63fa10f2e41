"""What changed between conformance reports: ``python -m conformance.diff OLD.json NEW.json [NEWER.json ...]``.

Each report (``--conformance-json``) is compared with the one before it, backend by backend: the backends of one
name in both (torch 2.14.1 against torch 2.15.0, both ``cpu``), or the pairs ``--pair OLD=NEW`` names (one engine
against another on the same suite commit: ``--pair cpu=jax``); two reports of one backend each are paired
whatever their names. For each pair: every spec whose verdict changed, with both reasons; the specs only one
report has; the verdict counts, failures by kind and coverage; and each area's passes. ``--md`` writes it as
Markdown for a release note, ``--json`` as data.

A **regression** is a spec that had a verdict of conformance or a documented one (pass, known failure,
unsupported, n/a) and now fails, errs, crashed, timed out or did not run; the exit status is 1 when any pair
has one (a release job gates on it), 0 when none, 2 when the input cannot be compared.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from . import untrusted, user_files, verdicts
from .render import LABELS

#: verdicts that are no evidence of conformance: a spec that reaches one of them from another has regressed
BAD = frozenset({verdicts.FAIL, verdicts.ERROR, verdicts.CRASHED, verdicts.TIMED_OUT, verdicts.NOT_RUN})
#: the largest report read (a report of every spec on ten engines is a few megabytes)
MAX_REPORT_BYTES = 64 << 20
SCHEMA_VERSION = 1
#: the backend description entries that say what a column ran on
PROVENANCE = ("engine", "engine_version", "device", "torch_version", "suite_commit", "date")


class Unusable(Exception):
    """A report that cannot be read or compared: the message says why."""


def load(path: Path) -> dict[str, Any]:
    """The report in ``path``, or :class:`Unusable` saying what is wrong with it."""
    try:
        report = user_files.read_json(path, MAX_REPORT_BYTES)
    except (OSError, ValueError) as error:
        raise Unusable(f"{path}: {error}") from error
    if not (
        isinstance(report, dict)
        and isinstance(report.get("backends"), dict)
        and isinstance(report.get("specs"), list)
        and isinstance(report.get("run"), dict)
    ):
        raise Unusable(f"{path}: not a conformance report (--conformance-json): no run, backends and specs")
    return report


def verdicts_of(report: dict[str, Any], backend: str) -> dict[str, dict[str, Any]]:
    """spec ID -> the backend's verdict entry (with the spec's area and kind)."""
    return {
        spec["id"]: {**spec["verdicts"][backend], "area": spec["area"], "kind": spec["kind"]}
        for spec in report["specs"]
        if backend in spec["verdicts"]
    }


def pairs(old: dict[str, Any], new: dict[str, Any], asked: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (old backend, new backend) pairs to compare."""
    if asked:
        for side, report, names in (("old", old, [a for a, _ in asked]), ("new", new, [b for _, b in asked])):
            if missing := [name for name in names if name not in report["backends"]]:
                raise Unusable(f"--pair: the {side} report has no backend {', '.join(missing)}; it has {known(report)}")
        return asked
    if common := [name for name in old["backends"] if name in new["backends"]]:
        return [(name, name) for name in common]
    if len(old["backends"]) == 1 and len(new["backends"]) == 1:
        return [(next(iter(old["backends"])), next(iter(new["backends"])))]
    raise Unusable(f"no backend in both reports (old: {known(old)}; new: {known(new)}): name pairs with --pair OLD=NEW")


def known(report: dict[str, Any]) -> str:
    return ", ".join(report["backends"]) or "none"


def area_passes(entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    """area -> passes and applicable specs (all but n/a)."""
    areas: dict[str, Counter] = {}
    for entry in entries.values():
        counts = areas.setdefault(entry["area"], Counter())
        counts["pass"] += entry["verdict"] == verdicts.PASS
        counts["applicable"] += entry["verdict"] != verdicts.NOT_APPLICABLE_VERDICT
    return {area: {key: counts[key] for key in ("pass", "applicable")} for area, counts in sorted(areas.items())}


def side(path: Path, report: dict[str, Any], backend: str) -> dict[str, Any]:
    described = report["backends"][backend]
    return {
        "report": str(path),
        "backend": backend,
        **{key: described.get(key) for key in PROVENANCE},
        "complete": bool(report["run"].get("complete")),
        "summary": described.get("summary", {}),
        "failures_by_kind": described.get("failures_by_kind", {}),
    }


def compare(
    old_path: Path, old: dict[str, Any], new_path: Path, new: dict[str, Any], old_name: str, new_name: str
) -> dict[str, Any]:
    """One pair's comparison, as data."""
    before, after = verdicts_of(old, old_name), verdicts_of(new, new_name)
    changes = []
    for spec_id in sorted(before.keys() & after.keys()):
        was, now = before[spec_id], after[spec_id]
        if was["verdict"] != now["verdict"]:
            changes.append(
                {
                    "id": spec_id,
                    "area": now["area"],
                    "kind": now["kind"],
                    "old": was["verdict"],
                    "new": now["verdict"],
                    "old_reason": was["reason"],
                    "new_reason": now["reason"],
                    "regression": now["verdict"] in BAD and was["verdict"] not in BAD,
                }
            )
    return {
        "old": side(old_path, old, old_name),
        "new": side(new_path, new, new_name),
        "regressions": [change["id"] for change in changes if change["regression"]],
        "changes": changes,
        "added": [{"id": i, "verdict": after[i]["verdict"]} for i in sorted(after.keys() - before.keys())],
        "removed": [{"id": i, "verdict": before[i]["verdict"]} for i in sorted(before.keys() - after.keys())],
        "areas": {"old": area_passes(before), "new": area_passes(after)},
    }


def diff(paths: list[Path], asked: list[tuple[str, str]]) -> dict[str, Any]:
    """Every report compared with the one before it."""
    loaded = [(path, load(path)) for path in paths]
    comparisons = []
    for (old_path, old), (new_path, new) in itertools.pairwise(loaded):
        comparisons += [compare(old_path, old, new_path, new, a, b) for a, b in pairs(old, new, asked)]
    return {"schema_version": SCHEMA_VERSION, "comparisons": comparisons}


def label(side: dict[str, Any]) -> str:
    """``cpu (torch 2.15.0 on cpu, suite 1a2b3c4, 2026-12-05)``."""
    commit = str(side["suite_commit"] or "unknown")[:12]
    date = str(side["date"] or "")[:10]
    return f"{side['backend']} ({side['engine']} {side['engine_version']} on {side['device']}, suite {commit}, {date})"


def headline(comparison: dict[str, Any]) -> str:
    old, new = comparison["old"], comparison["new"]
    passes = f"pass {old['summary'].get('pass', '?')} -> {new['summary'].get('pass', '?')}"
    return (
        f"{label(old)} -> {label(new)}: {len(comparison['changes'])} verdicts changed "
        f"({len(comparison['regressions'])} regressions), {len(comparison['added'])} specs added, "
        f"{len(comparison['removed'])} removed; {passes}"
    )


def text(document: dict[str, Any]) -> list[str]:
    """The terminal's summary: a headline per pair, then its regressions."""
    lines = []
    for comparison in document["comparisons"]:
        lines.append(untrusted.terminal(untrusted.text(headline(comparison))))
        lines += [
            untrusted.terminal(untrusted.text(f"  REGRESSED {c['id']}: {LABELS[c['old']]} -> {LABELS[c['new']]}"))
            for c in comparison["changes"]
            if c["regression"]
        ]
    return lines


def markdown(document: dict[str, Any]) -> str:
    """The comparison as Markdown for a release note: every text from a report escaped."""
    md = untrusted.markdown
    out = ["# Conformance diff", ""]
    for comparison in document["comparisons"]:
        old, new = comparison["old"], comparison["new"]
        out += [f"## {md(label(old))} → {md(label(new))}", ""]
        for which in (old, new):
            if not which["complete"]:
                out += [f"**The report {md(which['report'])} is of an INCOMPLETE run.**", ""]
        regressions = len(comparison["regressions"])
        out += [
            f"{len(comparison['changes'])} verdicts changed, **{regressions} regressions**; "
            f"{len(comparison['added'])} specs added, {len(comparison['removed'])} removed.",
            "",
            "| | old | new |",
            "| --- | --- | --- |",
        ]
        for key in sorted(set(old["summary"]) | set(new["summary"])):
            out.append(f"| {md(key)} | {old['summary'].get(key, 0)} | {new['summary'].get(key, 0)} |")
        for key in sorted(set(old["failures_by_kind"]) | set(new["failures_by_kind"])):
            was, now = old["failures_by_kind"].get(key, 0), new["failures_by_kind"].get(key, 0)
            out.append(f"| failures: {md(key)} | {was} | {now} |")
        out.append("")
        if comparison["changes"]:
            out += ["| spec | kind | old | new | reason now (then) |", "| --- | --- | --- | --- | --- |"]
            for change in sorted(comparison["changes"], key=lambda c: (not c["regression"], c["id"])):
                mark = "**REGRESSED** " if change["regression"] else ""
                reason = md(change["new_reason"]) or "-"
                reason += f" (then: {md(change['old_reason'])})" if change["old_reason"] else ""
                out.append(
                    f"| {mark}{untrusted.code(change['id'])} | {change['kind']} | {LABELS[change['old']]} "
                    f"| {LABELS[change['new']]} | {reason} |"
                )
            out.append("")
        for title, entries in (("Specs added", comparison["added"]), ("Specs removed", comparison["removed"])):
            if entries:
                listed = ", ".join(f"{untrusted.code(e['id'])} ({LABELS[e['verdict']]})" for e in entries)
                out += [f"{title}: {listed}.", ""]
        areas_old, areas_new = comparison["areas"]["old"], comparison["areas"]["new"]
        out += ["| area | passing, old | passing, new |", "| --- | --- | --- |"]
        for area in sorted(areas_old.keys() | areas_new.keys()):
            cells = [
                f"{a['pass']}/{a['applicable']}" if (a := areas.get(area)) else "-" for areas in (areas_old, areas_new)
            ]
            changed = "**" if cells[0] != cells[1] else ""
            out.append(f"| {changed}{md(area)}{changed} | {cells[0]} | {cells[1]} |")
        out.append("")
    return "\n".join(out)


def pair_argument(value: str) -> tuple[str, str]:
    old, sep, new = value.partition("=")
    if not sep or not old or not new:
        raise argparse.ArgumentTypeError(f"expected OLD=NEW backend names, not {value!r}")
    return old, new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json", help="at least two, oldest first")
    parser.add_argument("--pair", action="append", default=[], type=pair_argument, metavar="OLD=NEW")
    parser.add_argument("--md", type=Path, metavar="PATH", help="write the comparison as Markdown")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the comparison as JSON")
    args = parser.parse_args(argv)
    if len(args.reports) < 2:
        parser.error("give at least two reports to compare")
    try:
        document = diff(args.reports, args.pair)
    except Unusable as error:
        print(f"error: {untrusted.terminal(untrusted.text(error))}", file=sys.stderr)
        return 2
    if args.md:
        args.md.write_text(markdown(document), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print("\n".join(text(document)))
    return 1 if any(comparison["regressions"] for comparison in document["comparisons"]) else 0


if __name__ == "__main__":
    sys.exit(main())
