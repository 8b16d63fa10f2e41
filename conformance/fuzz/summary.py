"""What a fuzzing run came to, as text: the programs run and their rate, the discards, unsupported and refused
programs by reason, the operators left out as known failures, each deviation with its figures and the path of its
record (written here), and the programs a recorded deviation explains. The command prints it; the pytest entry
fails an item with it."""

from __future__ import annotations

from pathlib import Path

from .runner import Summary

#: reasons listed per count in the summary
TOP = 8


def report(engine_name: str, summary: Summary, seconds: float, out: Path) -> str:
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
        f"deviations: {len(summary.deviations)}",
    ]
    for signature, deviation in sorted(summary.deviations.items()):
        path = deviation.write(out)
        lines.append(f"  {signature}: {deviation.finding.figures} -> {path} (reproduction {path.with_suffix('.py')})")
    lines.append(
        f"programs a recorded deviation explains (the same disagreement in a longer chain): {summary.explained.total()}"
    )
    lines += [f"  {count:5d}  {signature}" for signature, count in summary.explained.most_common(TOP)]
    return "\n".join(lines)
