#!/usr/bin/env bash
# Full pipeline with policies (parse + flow + nDPI + verdicts) on one thread over the campus mix:
# Mpps, cycles/packet, new flows/s with policies of 1,000 and 10,000 rules, against parse+flow
# and +nDPI in the same run; policy compile and prepare times. COPIES sets the capture size
# (default 10, about 0.6 M packets), RUNS the repetitions (median). SMOKE=1: tiny, one run.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CG_BUILD_DIR:-build}/bin
COPIES=${COPIES:-10}
RUNS=${RUNS:-3}
RULES=${RULES:-1000,10000}
[ "${SMOKE:-0}" = 1 ] && COPIES=1 && RUNS=1 && RULES=100,1000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BIN/perf/cg-make-campus-pcap" --corpus ../shared/corpus/pcap --copies "$COPIES" \
  --out "$work/campus.pcap" >/dev/null
"$BIN/perf/cg-bench-policy" --pcap "$work/campus.pcap" --rules "$RULES" --runs "$RUNS"
