#!/usr/bin/env bash
# Classification throughput: cg-dataplane --replay (parse + flow + nDPI, one thread) against
# ndpiReader (one thread) on the same large capture, with the same nDPI data files.
# The capture is the corpus copied COPIES times with rewritten addresses (cg-make-campus-pcap).
# Figures: packets per second of the packet loop (ours: report totals.wall_seconds; ndpiReader:
# its "Packet Processing Time"), medians of RUNS, and the ratio. SMOKE=1: one copy, one run.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CG_BUILD_DIR:-build}/bin
COPIES=${COPIES:-40}
RUNS=${RUNS:-3}
[ "${SMOKE:-0}" = 1 ] && COPIES=1 && RUNS=1
E=../shared/corpus/ndpi-4.2-example
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$BIN/perf/cg-make-campus-pcap" --corpus ../shared/corpus/pcap --copies "$COPIES" \
  --out "$work/campus.pcap"
cat > "$work/dp.yaml" <<YAML
timeouts: { tcp_embryonic: 86400, tcp_established: 86400, tcp_closing: 86400,
            tcp_closed: 86400, udp: 86400, icmp: 86400, other: 86400 }
classify:
  protocols_file: $E/protos.txt
  categories_file: $E/categories.txt
  risky_domains_file: $E/risky_domains.txt
  ja3_file: $E/ja3_fingerprints.csv
  sha1_file: $E/sha1_fingerprints.csv
YAML

ours=() theirs=()
for r in $(seq 1 "$RUNS"); do
  "$BIN/cg-dataplane" --replay "$work/campus.pcap" --config "$work/dp.yaml" \
    --report "$work/report.json"
  read -r pkts secs flows < <(python3 -c "
import json; t = json.load(open('$work/report.json'))['totals']
print(t['packets'], t['wall_seconds'], t['flows'])")
  ours+=("$(echo "$pkts / $secs" | bc -l)")
  out=$(ndpiReader -p $E/protos.txt -c $E/categories.txt -r $E/risky_domains.txt \
        -j $E/ja3_fingerprints.csv -S $E/sha1_fingerprints.csv -i "$work/campus.pcap" -n 1 2>&1)
  ms=$(echo "$out" | awk '/Packet Processing Time:/{print $4}')
  nflows=$(echo "$out" | awk '/Unique flows:/{print $3}')
  theirs+=("$(echo "$pkts / ($ms / 1000)" | bc -l)")
  printf 'run %d: ours %.0f pps (%d flows), ndpiReader %.0f pps (%d flows)\n' "$r" \
    "${ours[-1]}" "$flows" "${theirs[-1]}" "$nflows"
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
o=$(med "${ours[@]}"); t=$(med "${theirs[@]}")
echo "capture: $pkts packets ($COPIES copies of the corpus)"
printf 'cg-dataplane --replay (parse+flow+nDPI): %8.3f Mpps\n' "$(echo "$o / 1000000" | bc -l)"
printf 'ndpiReader:                              %8.3f Mpps\n' "$(echo "$t / 1000000" | bc -l)"
printf 'ratio: %.2f (goal >= 2)\n' "$(echo "$o / $t" | bc -l)"
