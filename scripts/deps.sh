#!/usr/bin/env bash
# Installs the project's npm packages when package-lock.json changed since the last install.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"
cd "$TRIBUTARY_ROOT"
stamp="node_modules/.tributary-lock-stamp"
want="$(sha256sum package-lock.json | cut -d' ' -f1)-$(node --version)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "tributary: installing npm packages (npm ci) ..." >&2
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" > "$stamp"
