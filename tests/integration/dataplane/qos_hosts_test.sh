#!/usr/bin/env bash
# Per-host fair share through the real cg-dataplane between namespaces (one worker: the Balancer
# thread computes the host shares every 5 ms). Two hosts of one 20 Mbit/s classroom (addresses
# .11 and .12 of the classroom namespace, iperf3 -B):
#   1. both saturating at once, .11 with 4 TCP streams and .12 with one (iperf3 downloads;
#      without per-host the 4 streams would take ~4/5 of the classroom): each gets ~10 Mbit/s
#      (±15 %), the sum stays within the classroom's rate (+10 %), the host level did the
#      dropping, and the qos answer lists both hosts;
#   2. one alone gets the whole classroom (the idle host's share is redistributed, ±10 %);
#   3. a live load of `per-host: { cap: 5 Mbit }` holds one host to 5 Mbit/s (±10 %).
# Rates on the wire (lib/netns.sh: iperf_wire_mbit), without the first second.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgqh
source tests/integration/lib/netns.sh
POL=tests/integration/dataplane/policies
topo_up
ip -n "$NS_CL" addr add 10.77.0.11/24 dev cl0
ip -n "$NS_CL" addr add 10.77.0.12/24 dev cl0
DP_ARGS="--policy $POL/qos-hosts.yaml" dp_start
log "dataplane up with qos-hosts.yaml (classroom 20 Mbit/s, per-host fair share)"
in_net iperf3 -s -B "$NET_IP" -p 5202 > /dev/null 2>&1 &
in_net iperf3 -s -B "$NET_IP" -p 5203 > /dev/null 2>&1 &
sleep 0.5
# tcp_mbit CLIENT PORT SECONDS OUT [STREAMS]: TCP download to CLIENT; wire Mbit/s after the first
# second (lib/netns.sh: iperf_wire_mbit).
tcp_mbit() {
  in_cl iperf3 -c "$NET_IP" -B "$1" -p "$2" -t "$3" -P "${5:-1}" -R --json > "$4"
  iperf_wire_mbit "$4"
}

# --- 1. two saturating hosts share the classroom fairly ------------------------------------
tcp_mbit 10.77.0.11 5202 8 "$WORK/a.json" 4 > "$WORK/a.mbit" &
p1=$!
tcp_mbit 10.77.0.12 5203 8 "$WORK/b.json" > "$WORK/b.mbit" &
p2=$!
sleep 4
dp_query qos > "$WORK/qos.json"  # while both download: both hosts are active
wait "$p1" || fail "iperf3 from 10.77.0.11"
wait "$p2" || fail "iperf3 from 10.77.0.12"
a=$(cat "$WORK/a.mbit"); b=$(cat "$WORK/b.mbit")
sum=$(python3 -c "print($a + $b)")
log "two hosts at once: .11 (4 streams) $a Mbit/s, .12 (1 stream) $b Mbit/s, sum $sum (classroom 20, fair share 10 each)"
python3 - "$WORK/qos.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))
w = q["workers"][0]["qos"]
print("hosts:", json.dumps(w["hosts"]["classrooms"]), "balancer:", q["balancer"])
print("counters:", {k: v for k, v in w["counters"].items() if "host" in k})
assert w["hosts"]["classrooms"][0]["name"] == "lab", w["hosts"]
assert w["hosts"]["classrooms"][0]["active_hosts"] == 2, w["hosts"]
listed = {h["address"]: h for h in w["hosts"]["list"]}
for a in ("10.77.0.11", "10.77.0.12"):
    assert a in listed and listed[a]["offered_bytes_down"] > 2_000_000, (a, listed)
    assert 0 < listed[a]["share_bps_down"] <= 20_000_000, (a, listed)
assert w["counters"]["qos_drop_host_rate"] > 0, "the host level never dropped: it did not bind"
assert w["counters"]["qos_host_claims"] >= 2, w["counters"]
assert q["balancer"]["qos_balance_hosts"] > 0 and q["balancer"]["qos_balance_rounds"] > 100, q
PY
within "$a" 10 15 || fail ".11 got $a Mbit/s, not within 15% of its fair 10 Mbit/s"
within "$b" 10 15 || fail ".12 got $b Mbit/s, not within 15% of its fair 10 Mbit/s"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 22 else 1)" "$sum" ||
  fail "the two hosts got $sum Mbit/s together, more than the classroom's 20 Mbit/s (+10%)"

# --- 2. one host alone gets the whole classroom -----------------------------------------------
sleep 1.5  # .12's share decays
alone=$(tcp_mbit 10.77.0.11 5202 6 "$WORK/alone.json")
log "one host alone: $alone Mbit/s (classroom 20)"
within "$alone" 20 10 || fail "a host alone got $alone Mbit/s, not within 10% of the classroom's 20"

# --- 3. a per-host cap, loaded live ---------------------------------------------------------
sed 's/per-host: { fair: true }/per-host: { cap: 5 Mbit }/' "$POL/qos-hosts.yaml" > "$WORK/cap.yaml"
dp_load "$WORK/cap.yaml" > "$WORK/load.json" || { cat "$WORK/load.json"; fail "load cap.yaml"; }
capped=$(tcp_mbit 10.77.0.12 5203 6 "$WORK/capped.json")
log "per-host cap 5 Mbit (live load): $capped Mbit/s"
within "$capped" 5 10 || fail "a capped host got $capped Mbit/s, not within 10% of its 5 Mbit/s cap"
log "PASS"
