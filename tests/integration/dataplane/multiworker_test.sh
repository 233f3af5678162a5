#!/usr/bin/env bash
# Two workers over net_af_packet with qpairs=2: the kernel's symmetric fanout hash sends both
# directions of a connection to the same queue index on both ports, so each flow lives in
# exactly one worker with both directions counted. Four parallel TCP streams and a ping cross;
# no tuple may appear in two workers. (On a 2-core machine lcores 1 and 2 share CPU 1.)
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgmw
source tests/integration/lib/netns.sh
topo_up
DP_WORKERS=2 DP_INSIDE="net_af_packet0,iface=cgin,qpairs=2" \
  DP_OUTSIDE="net_af_packet1,iface=cgout,qpairs=2" DP_LCORES="['0@0', '1@1', '2@1']" dp_start
log "dataplane up with 2 workers"

in_cl ping -c 10 -i 0.1 "$NET_IP" > "$WORK/ping.txt" || true
grep -q " 0% packet loss" "$WORK/ping.txt" || fail "ping lost packets: $(tail -2 "$WORK/ping.txt")"
in_net iperf3 -s -1 -B "$NET_IP" -p 5201 > /dev/null 2>&1 &
sleep 0.5
in_cl iperf3 -c "$NET_IP" -p 5201 -P 4 -t 3 -b 5M --json > "$WORK/iperf.json" || fail "iperf3 TCP"
dp_query flow --addr "$CL_IP" > "$WORK/flows.json"
dp_query stats > "$WORK/stats.json"
python3 - "$WORK/flows.json" "$WORK/stats.json" <<'PY'
import json, sys, collections
flows = json.load(open(sys.argv[1]))["flows"]; s = json.load(open(sys.argv[2]))
def need(c, what):
    if not c:
        print("FAIL:", what); print(json.dumps(flows, indent=1)); sys.exit(1)
tuples = collections.Counter((f["proto"], f["src_ip"], f["src_port"], f["dst_ip"], f["dst_port"]) for f in flows)
need(all(n == 1 for n in tuples.values()), "a tuple appears in two workers: %s" % [t for t, n in tuples.items() if n > 1])
streams = [f for f in flows if f["proto"] == "TCP" and f["dst_port"] == 5201]
need(len(streams) >= 5, "4 data streams + control connection tracked (%d)" % len(streams))
need(all(f["src2dst_packets"] > 0 and f["dst2src_packets"] > 0 for f in streams), "both directions in one worker")
used = {f["worker"] for f in streams}
workers = [w["counters"]["packets"] for w in s["workers"]]
need(len(s["workers"]) == 2, "two workers report")
print("flows per worker:", collections.Counter(f["worker"] for f in flows), "packets per worker:", workers)
need(all(p > 0 for p in workers), "both workers carried traffic")
PY
dp_query shutdown > /dev/null
wait "$DP_PID" || fail "cg-dataplane exited non-zero"
DP_PID=""
log "PASS"
