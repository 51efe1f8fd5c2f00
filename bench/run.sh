#!/usr/bin/env bash
# Runs every benchmark on the local platform; each prints ours against its baseline, measured in one run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
eval "$(test/platform/up.sh)"
export PATH="$DEPLOY_SUITE_CACHE/bin:$PATH"
bash scripts/deps.sh
for bench in bench/*.bench.ts; do
  echo "== $bench"
  node --no-warnings "$bench" "$@"
done
echo "results: bench/results/*.json"
