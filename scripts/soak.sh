#!/usr/bin/env bash
# The long soak (npm run soak): 80 % of the measured ingest maximum for SOAK_SECONDS (default 600)
# with memory and consumer lag sampled; exits non-zero when an event is lost, memory grows or lag
# runs away. Uses KAFKA_BROKERS when set, otherwise a dedicated local broker from the kit.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/with-node.sh" "$(dirname "${BASH_SOURCE[0]}")/../bench/soak.ts" "$@"
