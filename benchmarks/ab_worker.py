"""One side of ``python -m benchmarks.ab --python-a/--python-b``, in its own interpreter.

Started once with a backend and a workload, it prepares them (warm-up, slowed-engine sizing, the
synchronisation check) and answers ``{"ready": <its versions>}`` on stdout; then each line ``N`` on stdin runs N
rounds and answers ``{"seconds": [...]}``; end of input ends it. A failure answers ``{"error": "..."}``.
"""

from __future__ import annotations

import argparse
import json
import sys

from .ab import LocalSide
from .workloads import workload_name


def answer(message: dict) -> None:
    print(json.dumps(message), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab_worker", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", required=True)
    parser.add_argument("--workload", type=workload_name, required=True)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    try:
        side = LocalSide(args.backend, args.workload, args.warmup)
    except Exception as error:  # any failure to prepare is the answer, in the worker's own words
        answer({"error": f"{type(error).__name__}: {error}"})
        return 1
    answer({"ready": side.describe()})
    for line in sys.stdin:
        answer({"seconds": side.measure(int(line))})
    side.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
