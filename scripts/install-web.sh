#!/usr/bin/env bash
# What the SDK, the example web app and the browser tests need, installed once (npm test runs
# this; each step is skipped when its result is already there): Debian's Chromium (Playwright
# drives it; no browser is ever downloaded), and the npm packages of packages/client and
# examples/web, each in its own node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[install] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium (for the browser tests)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# npm packages: reinstall when a package's lock file is newer than its installed tree.
for dir in packages/client examples/web; do
  [ -f "$dir/package.json" ] || continue
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing the npm packages of $dir"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done
