#!/usr/bin/env bash
# Installs the npm dependencies exactly as locked, unless node_modules was installed from this very lock file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.lock-sha256 2>/dev/null)" != "$want" ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > node_modules/.lock-sha256
fi
