#!/usr/bin/env bash
# Adds npm packages under a lock, so parallel work on this tree never runs two installs at once.
# Usage: scripts/npm-add.sh [-D] pkg...
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"
cd "$TRIBUTARY_ROOT"
exec flock "$TRIBUTARY_ROOT/.tools/npm.lock" npm install --no-audit --no-fund --loglevel=error "$@"
