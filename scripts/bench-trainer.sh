#!/usr/bin/env bash
# Training throughput with one thread vs data-parallel worker threads (--workers), same data and config:
# one epoch of Online Retail with the default architecture and with the shipped model's (feed-forward 64,
# relu, unscaled embeddings), and 1,000 ML-1M users at len 200. Fresh runs (their checkpoints are removed
# first). Prints the trainer's throughput line of each run.
# Usage: bash scripts/bench-trainer.sh [workers=2]
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-2}
run() { # name, workers, args...
  local name=$1 w=$2; shift 2
  rm -rf ".cache/checkpoints/$name"
  printf '%s, --workers %s: ' "$name" "$w"
  npx tsx scripts/train.ts "$@" --workers "$w" --out ".cache/models/$name" --no-card --quantize float32 2>/dev/null | grep '^trained'
  rm -rf ".cache/checkpoints/$name"
}
for w in 1 "$W"; do
  run bench-or-w$w "$w" --dataset online-retail --epochs 1 --lr 0.002 --batch 64
  run bench-or-relu64-w$w "$w" --dataset online-retail --epochs 1 --lr 0.002 --batch 64 --ff 64 --ff-act relu --no-emb-scale --no-inner-dropout
  run bench-ml-w$w "$w" --dataset ml-1m --max-users 1000 --max-len 200 --epochs 1 --batch 32 --dropout 0.2
done
