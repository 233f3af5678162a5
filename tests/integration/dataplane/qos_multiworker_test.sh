#!/usr/bin/env bash
# QoS with two workers: each polices its own flows, and the Balancer (dataplane/qos/balancer.h)
# gives each its share of every node by demand, so a classroom whose flows are spread over both
# workers still gets its rate once, not twice. 16 parallel iperf3 TCP downloads into the
# 20 Mbit/s classroom of bandwidth.yaml: the sum never above the rate (+10%: without the balancer
# it is up to 2x), at least 80% of it (shares follow demand with a lag of 5-80 ms, and on a
# 2-core machine lcores 1 and 2 time-share CPU 1; measured 17.6-19.7 on the wire), and both
# workers carried some (else the test would prove nothing). The kernel's fanout hash picks each
# flow's queue: with 16 flows all of them land on one worker with probability 2^-15 (with 8 it
# was 1/128, and CI once saw it).
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgqmw
source tests/integration/lib/netns.sh
POL=tests/integration/dataplane/policies
topo_up
DP_WORKERS=2 DP_INSIDE="net_af_packet0,iface=cgin,qpairs=2" \
  DP_OUTSIDE="net_af_packet1,iface=cgout,qpairs=2" DP_LCORES="['0@0', '1@1', '2@1']" \
  DP_ARGS="--policy $POL/bandwidth.yaml" dp_start
log "dataplane up with 2 workers and bandwidth.yaml (classroom 20 Mbit/s)"
in_net iperf3 -s -B "$NET_IP" -p 5201 > /dev/null 2>&1 &
sleep 0.5
in_cl iperf3 -c "$NET_IP" -p 5201 -P 16 -t 8 -R --json > "$WORK/iperf.json" || fail "iperf3"
got=$(iperf_wire_mbit "$WORK/iperf.json")  # on the wire, after the first second
dp_query qos > "$WORK/qos.json"
log "16 TCP streams over 2 workers: $got Mbit/s in total (classroom rate 20)"
python3 - "$WORK/qos.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))
per = []
for w in q["workers"]:
    cls = {c["name"]: c for c in w["qos"]["classes"]}
    per.append(cls["default"]["bytes_down"])
print("bytes per worker:", per, "balancer:", q["balancer"])
assert all(b > 1_000_000 for b in per), "one worker carried (almost) nothing: %s" % per
assert q["balancer"]["qos_balance_rounds"] > 100, q["balancer"]
assert q["balancer"]["qos_balance_nodes"] > 0, q["balancer"]
PY
python3 -c "import sys; v = float(sys.argv[1]); sys.exit(0 if 16 <= v <= 22 else 1)" "$got" ||
  fail "2 workers: $got Mbit/s is not within -20%/+10% of the classroom's 20 Mbit/s"
log "PASS"
