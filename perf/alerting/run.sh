#!/usr/bin/env bash
# Alerting benchmark (see alerting_bench.cc): engine events/s, service alerts/s into SQLite and
# deliveries/s. SMOKE=1: small sizes, one run (CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CG_BUILD_DIR:-build}/bin/perf
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${SMOKE:-0}" = 1 ]; then
  "$BIN/cg-bench-alerting" --smoke
else
  "$BIN/cg-bench-alerting" --runs "${RUNS:-3}"
fi
