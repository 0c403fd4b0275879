#!/usr/bin/env bash
# Installs the npm packages package-lock.json names, unless every one of them is already installed at
# the locked version (so a second run, or a tree installed another way, installs nothing).
set -euo pipefail
cd "$(dirname "$0")/.."

installed() {
  node -e '
    const fs = require("fs");
    const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages ?? {};
    for (const [path, entry] of Object.entries(lock)) {
      if (!path || entry.link || entry.optional) continue;
      let version;
      try { version = JSON.parse(fs.readFileSync(`${path}/package.json`, "utf8")).version; } catch { process.exit(1); }
      if (version !== entry.version) process.exit(1);
    }' 2>/dev/null
}

if installed; then exit 0; fi
# better-sqlite3 builds from source when its prebuilt binary cannot be downloaded: it needs a compiler.
if ! command -v make >/dev/null 2>&1 || ! command -v g++ >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
  echo "ensure-npm: installing python3, make and g++ (better-sqlite3 is compiled at install)" >&2
  bash scripts/apt-install.sh python3 make g++
fi
echo "ensure-npm: installing the npm packages of package-lock.json" >&2
npm ci --no-audit --no-fund >&2
