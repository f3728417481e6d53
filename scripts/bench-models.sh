#!/usr/bin/env bash
# Trains and evaluates the encoder on the benchmark data sets (never shipped: their models stay in
# .cache/models/). Each run prints the model beside the five baselines on the same split and writes
# bench-out/<name>.json; `npx tsx scripts/bench-report.ts` then updates BENCHMARKS.md. Runs resume from
# .cache/checkpoints/; with the schedule in the flags (--lr-drop; a factor above 1 raises the rate again), a
# resumed run follows the same rates as a fresh one.
# Usage: bash scripts/bench-models.sh [beauty] [taobao] [ml-1m]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench-out
sets=("$@"); [ ${#sets[@]} -eq 0 ] && sets=(beauty taobao ml-1m)
for s in "${sets[@]}"; do
  case "$s" in
    beauty) npx tsx scripts/train.ts --dataset beauty --out .cache/models/beauty-wd-d04 --ff 64 --ff-act relu --no-emb-scale --no-inner-dropout --weigh batch --max-len 50 --epochs 36 --patience 10 --batch 128 --lr 0.005 --lr-drop 27:0.2,32:0.3 --dropout 0.4 --mask-seen --weight-decay 0.1 --workers 2 --valid-users 6000 --plateau 0 --minutes 0 --quantize float32 --json bench-out/beauty-wd-d04.json ;;
    taobao) npx tsx scripts/train.ts --dataset taobao --out .cache/models/taobao --ff 64 --ff-act relu --no-emb-scale --no-inner-dropout --weigh batch --max-len 50 --epochs 40 --patience 3 --plateau 0.3 --batch 64 --lr 0.002 --sampled 2048 --workers 2 --minutes 30 --quantize float32 --json bench-out/taobao.json ;;
    ml-1m)
      # Three stages, each continuing the previous one's checkpoint: epochs 1-50 (with a warm restart at 33),
      # 51-63 (a second restart), then 64-77 with --mask-seen and a third restart.
      common="--dataset ml-1m --ff 64 --ff-act relu --no-emb-scale --no-inner-dropout --weigh batch --max-len 200 --patience 8 --batch 32 --lr 0.001 --dropout 0.2 --workers 2 --valid-users 2000 --plateau 0 --minutes 0 --sampled 0 --quantize float32"
      drops="22:0.3,27:0.3,33:5.5556,41:0.3,46:0.3"
      npx tsx scripts/train.ts $common --out .cache/models/ml-1m-wr --epochs 50 --lr-drop $drops --json bench-out/ml-1m-wr.json
      [ -e .cache/checkpoints/ml-1m-wr2 ] || cp -r .cache/checkpoints/ml-1m-wr .cache/checkpoints/ml-1m-wr2
      npx tsx scripts/train.ts $common --out .cache/models/ml-1m-wr2 --epochs 63 --lr-drop $drops,50:11.111,56:0.3,60:0.3 --json bench-out/ml-1m-wr2.json
      [ -e .cache/checkpoints/ml-1m-mask ] || cp -r .cache/checkpoints/ml-1m-wr2 .cache/checkpoints/ml-1m-mask
      npx tsx scripts/train.ts $common --out .cache/models/ml-1m-mask --epochs 77 --lr-drop $drops,50:11.111,56:0.3,60:0.3,64:11.111,70:0.3,74:0.3 --mask-seen --json bench-out/ml-1m-mask.json ;;
    *) echo "unknown data set $s"; exit 2 ;;
  esac
done
