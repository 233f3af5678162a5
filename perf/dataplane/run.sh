#!/usr/bin/env bash
# Side-by-side forwarding benchmark (run as root on an idle machine; 2 lcores):
#   1. dpdk-testpmd io forwarding on a net_null pair (in-memory: RX makes packets, TX frees
#      them), median Rx-pps over the run. (testpmd on a net_ring loop only circulates 32 mbuf
#      pointers without touching them, hundreds of Mpps that compare with nothing.)
#   2. cg-bench-pipeline: our io loop and our parse+flow pipeline on a net_ring port with
#      FLOWS concurrent flows (median of RUNS)
#   3. the flow-lookup micro benchmark at 10k / 1M flows
# Prints every figure and the ratios. SMOKE=1 makes every step tiny (CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CG_BUILD_DIR:-build}/bin/perf
SECS=${SECS:-6}
RUNS=${RUNS:-3}
FLOWS=${FLOWS:-1000000}
[ "${SMOKE:-0}" = 1 ] && SECS=3

testpmd_pps() {  # $@: vdev args; prints the median Rx-pps of the 1 s samples after the first
  local out
  out=$(timeout $((SECS + 5)) dpdk-testpmd -l 0-1 --no-huge -m 1024 --no-pci --file-prefix=cg-tp \
        --log-level=lib.eal:error "$@" -- --forward-mode=io --stats-period 1 \
        --no-lsc-interrupt --total-num-mbufs=16384 2>&1 & sleep "$SECS"; \
        pkill -INT -f "file-prefix=cg-tp" || true; wait) || true
  echo "$out" | awk '/Rx-pps:/{print $2}' | awk 'NR>2' | sort -n |
    awk '{a[NR]=$1} END{if (NR==0) print 0; else print a[int((NR+1)/2)]}'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
null_pps=$(testpmd_pps --vdev=net_null0 --vdev=net_null1)
printf 'testpmd io forwarding, net_null pair:   %8.2f Mpps\n' "$(echo "$null_pps / 1000000" | bc -l)"

if [ "${SMOKE:-0}" = 1 ]; then
  out=$("$BIN/cg-bench-pipeline" --smoke 2>/dev/null)
else
  out=$("$BIN/cg-bench-pipeline" --flows "$FLOWS" --seconds "$SECS" --runs "$RUNS" 2>/dev/null)
fi
echo "$out" | grep -v '^RESULT'
ours=$(echo "$out" | sed -n 's/^RESULT pipeline_mpps=\([0-9.]*\).*/\1/p')
if [ -n "$ours" ] && [ "$null_pps" != 0 ]; then
  printf 'ratio parse+flow / testpmd io:  %.3f\n' "$(echo "$ours * 1000000 / $null_pps" | bc -l)"
  printf 'target: 14.88 Mpps (10GbE line rate, 64-byte frames): %s\n' \
    "$(echo "$ours >= 14.88" | bc -l | sed 's/1/met/;s/0/not met/')"
fi

if [ "${SMOKE:-0}" = 1 ]; then
  "$BIN/cg-bench-flow-lookup" --benchmark_filter='/10000$' --benchmark_min_time=0.01
else
  "$BIN/cg-bench-flow-lookup" --benchmark_repetitions="$RUNS" --benchmark_report_aggregates_only=true
fi
