"""What a fuzzing run came to, as text: the programs run and their rate, the discards, unsupported and refused
programs by reason, the operators left out as known failures, the known findings met (:mod:`.findings`: each with
its reason, reproduction and the deviations it explains) and those not met, each new deviation with its figures and
the path of its record (every record written here), and the programs a recorded deviation explains. The command
prints it; the pytest entry fails an item with it."""

from __future__ import annotations

from pathlib import Path

from conformance.known_failures import shown_path

from .findings import Findings, unmet_note
from .records import Deviation
from .runner import Summary

#: reasons listed per count in the summary
TOP = 8


def deviation_line(deviation: Deviation, out: Path) -> str:
    """The deviation's signature and figures, and the paths of its record, written to ``out``, and reproduction."""
    path = deviation.write(out)
    return f"{deviation.signature}: {deviation.finding.figures} -> {path} (reproduction {path.with_suffix('.py')})"


def report(engine_name: str, summary: Summary, seconds: float, out: Path, findings: Findings | None = None) -> str:
    lines = [
        f"backend {engine_name}: {len(summary.programs)} programs in {seconds:.0f} s "
        f"({60 * len(summary.programs) / max(seconds, 1e-9):.0f} per minute)",
        f"with a binary step (an operand of their own): {summary.binary}",
        f"discarded as unstable: {sum(summary.unstable.values())}",
        *(f"  {count:5d}  {reason}" for reason, count in summary.unstable.most_common(TOP)),
        f"unsupported by the engine: {sum(summary.unsupported.values())}",
        *(f"  {count:5d}  {reason}" for reason, count in summary.unsupported.most_common(TOP)),
        f"refused by the oracle: {sum(summary.refused.values())}",
        *(f"  {count:5d}  {reason}" for reason, count in summary.refused.most_common(TOP)),
        f"left out as known failures: {len(summary.known)}",
        *([f"  {', '.join(sorted(summary.known))}"] if summary.known else []),
    ]
    findings = findings or Findings()
    met, new = findings.split(dict(sorted(summary.deviations.items())))
    if findings.path is None:
        lines.append("known findings: no findings file for this engine")
    else:
        lines.append(f"known findings met: {len(met)} of {len(findings.findings)} ({shown_path(findings.path)})")
    for name, deviations in met.items():
        finding = findings.by_name[name]
        lines += [f"  {finding.heading}: {finding.reason}", *(f"    {line}" for line in finding.references)]
        lines += [f"    {deviation_line(deviation, out)}" for deviation in deviations]
    lines += unmet_note(findings, met)
    lines.append(f"new deviations: {len(new)}")
    lines += [f"  {deviation_line(deviation, out)}" for deviation in new.values()]
    lines.append(
        f"programs a recorded deviation explains (the same disagreement in a longer chain): {summary.explained.total()}"
    )
    lines += [f"  {count:5d}  {signature}" for signature, count in summary.explained.most_common(TOP)]
    return "\n".join(lines)
