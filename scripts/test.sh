#!/usr/bin/env bash
# The test command (README, .ci/run): brings the local platform up, installs dependencies, then runs
# typecheck, lint (code and workflows), the dist/ and docs freshness checks, and every test (unit and integration).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Assigned first: a failing `eval "$(…)"` would not stop the script (set -e sees eval, not up.sh).
platform_env=$(test/platform/up.sh)
eval "$platform_env"
export PATH="$DEPLOY_SUITE_CACHE/bin:$PATH"   # Node 24 first: the runtime the actions declare
bash scripts/deps.sh

echo "== typecheck";  npm run --silent typecheck
echo "== lint";       npm run --silent lint
"$DEPLOY_SUITE_ACTIONLINT" -no-color .github/workflows/*.yml docs/examples/*.yml test/fixtures/workflows/*.yml
# zizmor: the suite's workflows and the callers (the docs' and the act tests'); settings in .github/zizmor.yml.
"$DEPLOY_SUITE_ZIZMOR" --offline --quiet --config .github/zizmor.yml .github/workflows/*.yml docs/examples/*.yml test/fixtures/workflows/*.yml
echo "== freshness";  npm run --silent check:fresh
echo "== tests"
mkdir -p .tmp
rm -rf .tmp/captured .tmp/act   # what the runs show, for the secret scan below
# Every scratch file of the run (tests, actions, act) in one place, wiped here: nothing piles up in /tmp.
export TMPDIR="$PWD/.tmp/tmp"
rm -rf "$TMPDIR"; mkdir -p "$TMPDIR"
# Images earlier runs left in the engine, freed before and after the tests.
bash test/platform/clean.sh
trap 'bash test/platform/clean.sh' EXIT
# Coverage: the tests run source-mapped bundles of the actions, each run writing V8 coverage, and jest
# covers its own process; scripts/coverage.mjs merges both.
export DEPLOY_SUITE_COVERAGE="$PWD/.tmp/coverage"
rm -rf "$DEPLOY_SUITE_COVERAGE"
node scripts/bundle.mjs --coverage "$DEPLOY_SUITE_COVERAGE/dist"
status=0
node --experimental-vm-modules --no-warnings node_modules/jest/bin/jest.js --runInBand --json --outputFile=.tmp/jest.json \
  --coverage --coverageReporters=json --coverageDirectory="$DEPLOY_SUITE_COVERAGE/jest" "$@" 2>&1 | tee .tmp/jest.log || status=$?
echo "== coverage"
node scripts/coverage.mjs "$DEPLOY_SUITE_COVERAGE" || status=1
echo "== secrets"
node --no-warnings --experimental-transform-types --import ./scripts/ts-resolve.mjs scripts/secret-scan.ts .tmp/jest.log || status=1
node -e '
  const r = JSON.parse(require("fs").readFileSync(".tmp/jest.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
  if (r.numTotalTests === 0) process.exit(1);
' || status=1
exit $status
