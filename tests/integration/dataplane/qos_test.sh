#!/usr/bin/env bash
# Bandwidth through the real cg-dataplane between namespaces, scaled down for a 2-core machine:
# the classroom host's classroom gets 20 Mbit/s; plain HTTP inside it is capped at 5 Mbit/s.
#   1. iperf3 TCP (default class) reaches the classroom rate within ±10%;
#   2. an HTTP download is held to the class cap within ±10%;
#   3. a live policy load halves the classroom rate and TCP follows (hot swap).
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgqos
source tests/integration/lib/netns.sh
POL=tests/integration/dataplane/policies
topo_up
DP_ARGS="--policy $POL/bandwidth.yaml" dp_start
log "dataplane up with bandwidth.yaml (classroom 20 Mbit/s, web cap 5 Mbit/s)"

in_net iperf3 -s -B "$NET_IP" -p 5201 > /dev/null 2>&1 &
sleep 0.5
tcp_mbit() {  # TCP download into the classroom for 6 s; prints Mbit/s received
  in_cl iperf3 -c "$NET_IP" -p 5201 -t 6 -R --json > "$WORK/iperf.json"
  jget "['end']['sum_received']['bits_per_second'] / 1e6" < "$WORK/iperf.json"
}
within() {  # within VALUE TARGET PERCENT
  python3 -c "import sys; v, t, p = map(float, sys.argv[1:]); sys.exit(0 if abs(v - t) <= t * p / 100 else 1)" "$@"
}

got=$(tcp_mbit)
log "TCP in the default class: $got Mbit/s (classroom rate 20)"
within "$got" 20 10 || fail "TCP $got Mbit/s is not within 10% of the classroom's 20 Mbit/s"

mkdir -p "$WORK/www"; head -c 3500000 /dev/urandom > "$WORK/www/f.bin"
( cd "$WORK/www" && in_net python3 -m http.server 8080 --bind "$NET_IP" >/dev/null 2>&1 ) &
for _ in $(seq 1 50); do in_cl curl -s -o /dev/null "http://$NET_IP:8080/" && break; sleep 0.1; done
bps=$(in_cl curl -s -o /dev/null -w '%{speed_download}' "http://$NET_IP:8080/f.bin")
web=$(python3 -c "print($bps * 8 / 1e6)")
log "HTTP in the capped web class: $web Mbit/s (cap 5)"
within "$web" 5 10 || fail "HTTP $web Mbit/s is not within 10% of the 5 Mbit/s cap"
dp_query qos > "$WORK/qos.json"
python3 - "$WORK/qos.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))["workers"][0]["qos"]
cls = {c["name"]: c for c in q["classes"]}
assert cls["web"]["bytes_down"] >= 3_500_000, cls["web"]
assert cls["web"]["dropped_packets"] > 0, "the cap never dropped: it did not bind"
assert cls["default"]["bytes_down"] > 10_000_000, cls["default"]
PY

sed 's/rate: 20 Mbit/rate: 10 Mbit/' "$POL/bandwidth.yaml" > "$WORK/bandwidth-10.yaml"
dp_load "$WORK/bandwidth-10.yaml" > /dev/null
got=$(tcp_mbit)
log "TCP after a live load with the classroom at 10 Mbit/s: $got Mbit/s"
within "$got" 10 10 || fail "TCP $got Mbit/s is not within 10% of the new 10 Mbit/s"
log "PASS"
