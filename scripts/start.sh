#!/usr/bin/env bash
# README's first command (`npm start`): installs the system packages the hub needs when missing
# (Java for the local Kafka kit, Redis, ...), then runs every component in one process on the
# embedded defaults (`tributary up`). Extra arguments go to `tributary up`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/system-deps.sh"
exec bash "$here/with-node.sh" "$here/../cli/main.ts" up "$@"
