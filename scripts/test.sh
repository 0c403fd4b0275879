#!/usr/bin/env bash
# Installs what the test suite needs (npm packages, Docker engine, busybox test image, git, CBC,
# Chromium, PostgreSQL) and runs it. Used by the README and by .ci/run.
#
#   bash scripts/test.sh                    # the whole suite
#   bash scripts/test.sh test/cli           # arguments go to jest: some test files only
#
# Every run starts its own Docker engine on a brand-new data root (private socket, data root and
# bridge under /var/lib/ecoware-test-run/<pid>), so what an engine does on its very first start is
# tested every time, and removes it afterwards. ECOWARE_TEST_REUSE_ENGINE=1 runs against the engine
# at $DOCKER_HOST instead (or the one scripts/ensure-docker.sh finds or starts).
set -euo pipefail
cd "$(dirname "$0")/.."

# coinor-cbc: an independent MILP solver the allocator is cross-checked against;
# openssl: certificates for the Docker-over-TLS tests; chromium: the browser the operator's page is
# tested in (test/ui/, driven by playwright-core, which cannot download a browser of its own here);
# postgresql: the tests of the PostgreSQL state backend start private servers of their own
# (scripts/ensure-postgres.sh, never port 5432).
missing=()
command -v cbc >/dev/null 2>&1 || missing+=(coinor-cbc)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  bash scripts/apt-install.sh "${missing[@]}"
fi
if [ -n "${ECOWARE_TEST_REUSE_ENGINE:-}" ]; then
  eval "$(bash scripts/ensure-docker.sh)"
else
  ENGINE_DIR=/var/lib/ecoware-test-run/$$
  trap 'bash scripts/ensure-docker.sh --remove "$ENGINE_DIR"' EXIT
  eval "$(bash scripts/ensure-docker.sh --fresh "$ENGINE_DIR")"
  echo "test.sh: tests run against a new engine at $DOCKER_HOST" >&2
fi
# The pinned AWS SDK runs on Node.js 20; its notice that later releases will need Node.js 22 is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
bash scripts/ensure-npm.sh
start=$(date +%s)
status=0
if [ $# -eq 0 ]; then
  npm test || status=$?
else
  # Some test files only: both tiers get them (each runs those of its own, if any).
  { npm run typecheck && npm run build && npm run test:unit -- --passWithNoTests "$@" \
    && npx jest --runInBand --selectProjects integration --passWithNoTests "$@"; } || status=$?
fi
echo "test.sh: the test run took $(( $(date +%s) - start )) s" >&2
exit $status
