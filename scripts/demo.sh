#!/usr/bin/env bash
# The main job, locally: bring the platform up, then run the pipeline's actions as the runner would
# (build-image, sbom-and-sign, bluegreen-deploy, verify-rollback on the test app; local registry,
# control plane and Prometheus).
# Prints where to look.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
platform_env=$(test/platform/up.sh)   # assigned first so that a failure stops the script
eval "$platform_env"
export PATH="$DEPLOY_SUITE_CACHE/bin:$PATH"
bash scripts/deps.sh
bash test/platform/clean.sh   # images earlier runs left in the engine
node --no-warnings --experimental-transform-types --import ./scripts/ts-resolve.mjs scripts/demo.ts "$@"
