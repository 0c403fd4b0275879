#!/usr/bin/env bash
# Runs the local cloud (dev/local-cloud): an Auto Scaling + EC2 query endpoint on 127.0.0.1 whose
# instances are private dockerd engines on 127.0.0.N. Needs root (bridges, dockerd).
#
#   scripts/local-cloud.sh --port 4566 --group ecoware-local --desired 1 --max 4 --boot-delay-ms 2000
#   scripts/local-cloud.sh --measure [--rounds 5] [--boot-delay-ms 2000]   # scale-out timings
#   scripts/local-cloud.sh --demo [--boot-delay-ms 3000]   # the daemon grows and shrinks the group
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/ensure-docker.sh)"
bash scripts/ensure-npm.sh
npx tsc -p dev/local-cloud/tsconfig.json
case "${1:-}" in
  --measure) shift; exec node dist-all/dev/local-cloud/measure-scale-out.js "$@" ;;
  --demo) shift; exec node dist-all/dev/local-cloud/demo.js "$@" ;;
esac
exec node dist-all/dev/local-cloud/main.js "$@"
