#!/usr/bin/env bash
# Runs every benchmark on the local platform; each prints ours against its baseline, measured in one run,
# then one table of all (bench/results/summary.json) and the plot of deploy time against replicas (SVG).
#   bash bench/run.sh [runs]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
platform_env=$(test/platform/up.sh)   # assigned first so that a failure stops the script
eval "$platform_env"
test/platform/up.sh argo >/dev/null   # Argo Rollouts, beside bluegreen-deploy in the traffic bench
export PATH="$DEPLOY_SUITE_CACHE/bin:$PATH"
bash scripts/deps.sh
# Scratch files in one place, wiped per run; images the runs build freed before and after.
export TMPDIR="$PWD/.tmp/bench-tmp"
rm -rf "$TMPDIR"; mkdir -p "$TMPDIR"
bash test/platform/clean.sh
trap 'bash test/platform/clean.sh' EXIT
# Node runs the TypeScript directly (types stripped; ./x.js imports resolved to ./x.ts by the hook).
run_ts() { node --no-warnings --experimental-transform-types --import ./scripts/ts-resolve.mjs "$@"; }
for bench in bench/*.bench.ts; do
  echo "== $bench"
  run_ts "$bench" "$@"
done
echo "== all results"
run_ts bench/report.ts
echo "results: bench/results/*.json"
