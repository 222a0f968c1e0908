#!/usr/bin/env bash
# Entry point of `npm start`, `npm stop` and `npm test`: installs what is missing, then runs
# the given Deno script with the project's pinned Deno.
set -euo pipefail
cd "$(dirname "$0")/.."
bash local/install.sh
exec node_modules/.bin/deno run -A "$@"
