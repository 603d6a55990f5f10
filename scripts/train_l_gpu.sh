#!/bin/bash
# Trains L on one GPU, as the shipped public/models/ponder-l.gguf was trained (on one
# NVIDIA H200, 16 cores): checks that the ponder-train binary runs and that the PyTorch
# forward computes what the crate's does, writes the training rows with 16 processes,
# then trains for a wall-clock budget. Weights and log go to $OUT; export them with
#   ponder-train import large public/models/ponder-l.gguf $OUT/weights-*.safetensors
#
#   OUT=l-gpu PONDER_TRAIN=target/release/ponder-train scripts/train_l_gpu.sh
set -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PONDER_TRAIN=${PONDER_TRAIN:-$HERE/../target/release/ponder-train}
OUT=${OUT:?set OUT to the folder for the weights}
ROWS=${ROWS:-/tmp/rows}
mkdir -p "$OUT" "$ROWS"
T0=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, safetensors; print(torch.__version__, safetensors.__version__)"
"$PONDER_TRAIN" reference "$HERE/../public/models/ponder-s.gguf" "$ROWS/ref-s.safetensors" \
  || { echo "BINARY FAILED"; exit 3; }
python3 "$HERE/train_l_gpu.py" --check "$ROWS/ref-s.safetensors" --device cuda \
  || { echo "CHECK FAILED"; exit 4; }
echo "checks done at $(( $(date +%s) - T0 )) s"
R=${ROWS_PER_SHARD:-450000}
for i in $(seq 0 15); do
  "$PONDER_TRAIN" corpus --seed 3 --seq 256 --rows "$R" --first $((i * R)) \
    --out "$ROWS/rows-$i.bin" 2>>"$ROWS/gen.log" &
done
wait
tail -2 "$ROWS/gen.log"
echo "rows done at $(( $(date +%s) - T0 )) s"
PYTHONUNBUFFERED=1 python3 "$HERE/train_l_gpu.py" --size large --rows "$ROWS/rows-*.bin" --seq 256 \
  --batch 512 --lr 2e-3 --warmup 300 --seed 3 --compile --minutes "${MINUTES:-7.5}" \
  --out "$OUT" 2>&1 | tee "$OUT/train.out"
rc=$?
echo "all done at $(( $(date +%s) - T0 )) s, rc $rc"
exit $rc
