#!/usr/bin/env bash
# Installs Debian packages for the set-up scripts: `bash scripts/apt-install.sh PKG...`.
# The package lists are refreshed only when none were fetched in the last hour, so the scripts that
# each need a package (test.sh, ensure-docker.sh, ensure-npm.sh) update them once per set-up, not
# once each.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 -print -quit 2>/dev/null)" ]; then
  apt-get update -qq >&2
fi
apt-get install -y -qq --no-install-recommends "$@" >&2
