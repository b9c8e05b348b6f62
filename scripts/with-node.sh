#!/usr/bin/env bash
# Runs a TypeScript entry point of this project under Node 24 (fetched when the one on PATH is older).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"
bash "$TRIBUTARY_ROOT/scripts/deps.sh"
exec node --disable-warning=ExperimentalWarning --disable-warning=TimeoutNegativeWarning "$@"
