#!/usr/bin/env bash
# The regression tracker's GPU figures (README, "Regression tracking"), in one bounded run of at most 295 s:
#
#   bash benchmarks/gpu_tracker_checks.sh OUTDIR [--backend cuda] [--dry-run]
#
# from the project's root, on the machine's own python3 (torch, torchvision, scipy, pytest-benchmark). Writes to
# OUTDIR, each part bounded by `timeout` and each file rewritten after every comparison, so a cut run keeps its part:
#   tracker-power-base-cuda.{json,md}  the base variant (batch 32, 224 px), 20 rounds a side: 20 A/A comparisons,
#                                      2/5/10% slowdowns in forward/backward/step on the host and the device side,
#                                      3 of each (budget 170 s)
#   tracker-power-step-cuda.{json,md}  the seeds' step (one 64 px image), 30 rounds a side: 20 A/A, 2 of each
#                                      slowdown (budget 72 s)
#   <device>-overhead.json             the harness-overhead check, harness and bare loop interleaved (base step)
#   *.log, timings.txt                 each part's output, exit status and wall time
# Each tracker part stops before a comparison that would not end within its budget (--budget-s) and records
# how many comparisons each condition got. --dry-run: the same plumbing with tiny settings (for a CPU, a minute).
set -u
OUT=${1:?usage: benchmarks/gpu_tracker_checks.sh OUTDIR [--backend cuda] [--dry-run]}
shift
BACKEND=cuda DRY=0
while [ $# -gt 0 ]; do
  case $1 in
    --backend) BACKEND=$2; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
TAG=$("$PYTHON" -c "import torch; print(torch.device('$BACKEND').type)")

if [ $DRY = 1 ]; then  # plumbing only: every part, tiny, on the overhead workload
  BASE=(--workloads overhead --rounds 6 --warmup 1 --comparisons 2 --detections 1 --slowdowns 300 --budget-s 20)
  SEED=(--workloads overhead --rounds 6 --warmup 1 --comparisons 1 --detections 1 --slowdowns 300 --budget-s 20)
  OVERHEAD=(--variant b2-32px --rounds 5 --batch 5 --warmup 1)
  LIMITS=(60 60 90)
else
  BASE=(--workloads step:base --rounds 20 --warmup 3 --comparisons 20 --detections 3 --budget-s 170)
  SEED=(--workloads step --rounds 30 --warmup 3 --comparisons 20 --detections 2 --budget-s 72)
  OVERHEAD=(--variant b32-224px --rounds 50 --batch 10)
  LIMITS=(185 85 25)  # each budget leaves 13-15 s for python's start and the last comparison; 295 s in all
fi

part() {  # part NAME LIMIT COMMAND...: run bounded, log, time
  local name=$1 limit=$2; shift 2
  local start=$(date +%s)
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local status=$?
  echo "$name exit=$status wall=$(( $(date +%s) - start ))s limit=${limit}s" | tee -a "$OUT/timings.txt"
}

TRACKER=("$PYTHON" -m benchmarks.tracker_power --backend "$BACKEND" --modes interleaved)
part tracker-base "${LIMITS[0]}" "${TRACKER[@]}" "${BASE[@]}" \
  --json "$OUT/tracker-power-base-$TAG.json" --md "$OUT/tracker-power-base-$TAG.md"
part tracker-step "${LIMITS[1]}" "${TRACKER[@]}" "${SEED[@]}" \
  --json "$OUT/tracker-power-step-$TAG.json" --md "$OUT/tracker-power-step-$TAG.md"
part overhead "${LIMITS[2]}" "$PYTHON" -m benchmarks.gpu_sweep --overhead-only --backend "$BACKEND" \
  --results "$OUT" "${OVERHEAD[@]}"
