#!/usr/bin/env bash
# Installs what the test suite needs (npm packages, Docker engine, busybox test image, git, CBC)
# and runs it. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# coinor-cbc: an independent MILP solver the allocator is cross-checked against;
# openssl: certificates for the Docker-over-TLS tests.
missing=()
command -v cbc >/dev/null 2>&1 || missing+=(coinor-cbc)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
eval "$(bash scripts/ensure-docker.sh)"
# The pinned AWS SDK runs on Node.js 20; its notice that later releases will need Node.js 22 is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
npm test
