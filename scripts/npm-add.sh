#!/usr/bin/env bash
# Adds npm packages under a lock, so parallel work on this tree never runs two installs at once.
# Afterwards it records the new lock file's stamp, so deps.sh does not run `npm ci` again over an
# install that is already current (it would do so under running tests).
# Usage: scripts/npm-add.sh [-D] pkg...
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"
cd "$TRIBUTARY_ROOT"
flock "$TRIBUTARY_ROOT/.tools/npm.lock" npm install --no-audit --no-fund --loglevel=error "$@" || exit $?
echo "$(sha256sum package-lock.json | cut -d' ' -f1)-$(node --version)" > node_modules/.tributary-lock-stamp
