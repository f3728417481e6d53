#!/usr/bin/env bash
# The default recipe on every shared data set: `npm run train -- --dataset <name>` and nothing else (the
# output paths aside: models in .cache/models/default-<name>, never shipped; reports in
# bench-out/default-<name>.json, which `npx tsx scripts/bench-report.ts` turns into BENCHMARKS.md's
# "Default recipe" table). Each run starts fresh (its checkpoint is removed first) and stops at the
# default 40-minute budget at the latest.
# Usage: bash scripts/bench-default.sh [online-retail] [taobao] [beauty] [ml-1m]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench-out
sets=("$@"); [ ${#sets[@]} -eq 0 ] && sets=(online-retail taobao beauty ml-1m)
for s in "${sets[@]}"; do
  rm -rf ".cache/checkpoints/default-$s"
  npm run train -- --dataset "$s" --out ".cache/models/default-$s" --json "bench-out/default-$s.json"
done
