#!/usr/bin/env bash
# Installs what the test suite needs (npm packages, Docker engine, busybox test image, git, CBC)
# and runs it. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cbc >/dev/null 2>&1; then
  echo "test.sh: installing coinor-cbc (independent MILP solver for the allocator cross-check)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends coinor-cbc >&2
fi
eval "$(bash scripts/ensure-docker.sh)"
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
npm test
