#!/usr/bin/env bash
# Everything this project checks on a GPU, in one bounded run of at most 585 s (120 + 4 x 30 + 300 + 45), from the project's root on the
# machine's own python3 (torch with CUDA, torchvision, pytest, pytest-xdist, pytest-benchmark, scipy):
#
#   bash benchmarks/gpu_checks.sh [OUTDIR] [--dry-run]
#
# Phases, in order of importance, each bounded by `timeout`; OUTDIR/gpu.tgz is packed after every phase, so a cut
# run keeps what it measured (OUTDIR defaults to $OUT, else ./gpu-out):
#   specs    the spec suite on cpu, cuda and torch.func:cuda, with the conformance reports (specs-cuda.{json,md})
#   resnet   the resnet18 gradient specs on cuda over 8 draws of their inputs, under cuDNN's default (TF32
#            convolutions), TF32 off, cuDNN off, and TF32 matrix products on (resnet-<setting>.json)
#   tracker  the regression tracker's power and the interleaved overhead check (benchmarks/gpu_tracker_checks.sh)
#   benign   the suite on the benign variants on cuda (specs-benign-cuda.json)
# --dry-run: the same phases on the CPU with tiny settings (cuda becomes cpu), to test the plumbing.
# PHASES (default "specs resnet tracker benign") runs some of them; DRAWS (default 8) and RESNET_LIMIT (default 30 s
# per CUDA math setting) size the resnet phase.
set -u
OUT=${1:-${OUT:-gpu-out}}
DRY=0; [ "${2:-}" = --dry-run ] && DRY=1
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"; W=$(mktemp -d); mkdir -p "$W/plugins"
export PYTHONUNBUFFERED=1 PYTHONPATH="$W/plugins${PYTHONPATH:+:$PYTHONPATH}"
DEVICE=cuda WORKERS=8 DRAWS=${DRAWS:-8} LIMITS=(120 "${RESNET_LIMIT:-30}" 300 45)
PHASES=${PHASES:-specs resnet tracker benign}
if [ $DRY = 1 ]; then DEVICE=cpu WORKERS=2 DRAWS=2 LIMITS=(300 300 300 300); fi
wanted() { [[ " $PHASES " == *" $1 "* ]]; }

pack() { cp "$W/log.txt" "$OUT/log.txt"; tar czf "$OUT/gpu.tgz" -C "$W" --exclude=plugins . ; }
phase() {  # phase NAME LIMIT COMMAND...
  local name=$1 limit=$2; shift 2
  echo "=== $name (limit ${limit}s) $(date +%T)" | tee -a "$W/log.txt"
  local start=$(date +%s)
  timeout "$limit" "$@" > "$W/$name.log" 2>&1
  echo "=== $name exit=$? wall=$(( $(date +%s) - start ))s" | tee -a "$W/log.txt"
  tail -n 15 "$W/$name.log" >> "$W/log.txt"
  pack
}
PYTEST=("$PYTHON" -m pytest spec_tests -p no:cacheprovider -q -n "$WORKERS")

{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv 2>&1 || true
  "$PYTHON" -c "import sys, torch, torchvision; print(sys.version); print('torch', torch.__version__, 'torchvision',
torchvision.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version(), 'gpu',
torch.cuda.get_device_name() if torch.cuda.is_available() else None)"
  "$PYTHON" -m pip list 2>/dev/null | grep -iE "^(torch|torchvision|pytest|pytest-benchmark|pytest-xdist|numpy|scipy) "
  git log -1 --format='suite commit %H %cd' 2>/dev/null; date -u; nproc; } > "$W/env.txt" 2>&1
cat "$W/env.txt" >> "$W/log.txt"; pack

wanted specs && phase specs "${LIMITS[0]}" "${PYTEST[@]}" --backend="cpu,$DEVICE,torch.func:$DEVICE" \
  --conformance-json="$W/specs-cuda.json" --conformance-md="$W/specs-cuda.md"

# each setting is a plugin module, imported in every xdist worker before the specs run
cat > "$W/plugins/math_default.py" <<'PY'
"""torch's defaults: cuDNN convolutions in TF32, matrix products in IEEE float32."""
PY
cat > "$W/plugins/math_tf32_off.py" <<'PY'
import torch
torch.backends.cudnn.allow_tf32 = False
PY
cat > "$W/plugins/math_no_cudnn.py" <<'PY'
import torch
torch.backends.cudnn.enabled = False
PY
cat > "$W/plugins/math_matmul_tf32.py" <<'PY'
import torch
torch.backends.cuda.matmul.allow_tf32 = True
PY
for setting in default tf32_off no_cudnn matmul_tf32; do
  wanted resnet && phase "resnet-$setting" "${LIMITS[1]}" "${PYTEST[@]}" --backend="$DEVICE" -p "math_$setting" --draws="$DRAWS" \
    --spec=train.backward-fills-every-grad,train.eval-mode-fills-every-grad,finetune.only-fc-gets-grad \
    --conformance-json="$W/resnet-$setting.json"
done

if ! wanted tracker; then :
elif [ $DRY = 1 ]; then
  phase tracker "${LIMITS[2]}" bash benchmarks/gpu_tracker_checks.sh "$W/tracker" --backend cpu --dry-run
else
  phase tracker "${LIMITS[2]}" bash benchmarks/gpu_tracker_checks.sh "$W/tracker"
fi

wanted benign && phase benign "${LIMITS[3]}" "${PYTEST[@]}" \
  --backend="benign:tf32:$DEVICE,benign:split-k:$DEVICE,benign:float64-accumulation:$DEVICE" \
  --conformance-json="$W/specs-benign-cuda.json"
echo "=== done $(date +%T)" >> "$W/log.txt"; pack
