#!/usr/bin/env bash
# QoS benchmark (see README.md): candidates' cost per packet (ours vs rte_meter trTCM vs
# rte_sched) at 500 x 8 and 10 x 8, pipeline with shaping off/on over 100k flows, accuracy of
# 100 capped classrooms. SMOKE=1: small sizes, one run (CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CG_BUILD_DIR:-build}/bin/perf
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${SMOKE:-0}" = 1 ]; then
  "$BIN/cg-bench-qos" --smoke
else
  "$BIN/cg-bench-qos" --runs "${RUNS:-3}" --packets "${PACKETS:-4000000}"
fi
