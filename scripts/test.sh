#!/usr/bin/env bash
# The whole test command (README's second command; .ci/run calls it): fetches Node 24 when the
# PATH node is older, installs missing Debian and npm packages, then type-checks, lints, checks
# the Avro schemas and their generated types, and runs every test against real services.
# Extra arguments go to vitest (e.g. `npm test -- test/schemas`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"
cd "$TRIBUTARY_ROOT"

step() { printf '\n== %s\n' "$*" >&2; }

step "system packages"
bash scripts/system-deps.sh
step "npm packages"
bash scripts/deps.sh

step "type-check (tsc)"
node_modules/.bin/tsc -p tsconfig.json
step "lint (biome)"
node_modules/.bin/biome ci --reporter=summary .
step "schema compatibility (tributary schemas check)"
node cli/main.ts schemas check
node cli/main.ts schemas types --check

# kafkajs schedules negative timeouts on Node 24; harmless, and not switchable through kafkajs.
export NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=TimeoutNegativeWarning"
step "tests (vitest)"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
status=0
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One closing line any CI reads: "N passed, N failed, N skipped".
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) { console.error("tributary: no test ran"); process.exit(1); }
' "$report" || status=1
exit "$status"
