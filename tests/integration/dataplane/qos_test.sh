#!/usr/bin/env bash
# Bandwidth through the real cg-dataplane between namespaces, scaled down for a 2-core machine
# (classroom 20 Mbit/s, class cap 5 Mbit/s), all with the automatic bucket depth (no burst-ms):
#   1. iperf3 TCP (default class) reaches the classroom rate within ±10%;
#   2. an HTTP download is held to the class cap within ±10%;
#   3. a live policy load halves the classroom rate and TCP follows (hot swap);
#   4. two classrooms at once (hosts .11 and .12, one zone each: the VM's kernel has no 802.1Q
#      for VLAN interfaces) each get their own 20 Mbit/s; VLAN classrooms: qos_vlan_test.sh;
#   5. a priority class (HTTP, guaranteed 15 Mbit/s) keeps its guarantee while 4 bulk TCP
#      streams saturate the classroom;
#   6. a schedule switches a cap: the timetable clock (clock.offset) is moved to 4 s before a
#      lesson; a running TCP download drops from 20 to the lesson's 5 Mbit/s cap when it starts.
# Rates are compared on the wire (lib/netns.sh: wire, iperf_wire_mbit), TCP without its first
# second.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgqos
source tests/integration/lib/netns.sh
POL=tests/integration/dataplane/policies
topo_up
# Two more classroom hosts for test 4.
ip -n "$NS_CL" addr add 10.77.0.11/24 dev cl0
ip -n "$NS_CL" addr add 10.77.0.12/24 dev cl0
DP_CONTROL_EXTRA="allow_clock_offset: true" DP_ARGS="--policy $POL/bandwidth.yaml" dp_start
log "dataplane up with bandwidth.yaml (classroom 20 Mbit/s, web cap 5 Mbit/s)"

in_net iperf3 -s -B "$NET_IP" -p 5201 > /dev/null 2>&1 &
in_net iperf3 -s -B "$NET_IP" -p 5202 > /dev/null 2>&1 &
in_net iperf3 -s -B "$NET_IP" -p 5203 > /dev/null 2>&1 &
sleep 0.5
tcp_mbit() {  # tcp_mbit [CLIENT PORT OUT]: TCP download into the classroom; wire Mbit/s, s 1-7
  in_cl iperf3 -c "$NET_IP" -B "${1:-$CL_IP}" -p "${2:-5201}" -t 7 -R --json > "${3:-$WORK/iperf.json}"
  iperf_wire_mbit "${3:-$WORK/iperf.json}"
}
load() { dp_load "$1" > "$WORK/load.json" || { cat "$WORK/load.json"; fail "load $1"; }; }

got=$(tcp_mbit)
log "TCP in the default class: $got Mbit/s on the wire (classroom rate 20)"
within "$got" 20 10 || fail "TCP $got Mbit/s is not within 10% of the classroom's 20 Mbit/s"

mkdir -p "$WORK/www"; head -c 3500000 /dev/urandom > "$WORK/www/f.bin"
head -c 10000000 /dev/urandom > "$WORK/www/big.bin"
( cd "$WORK/www" && in_net python3 -m http.server 8080 --bind "$NET_IP" >/dev/null 2>&1 ) &
for _ in $(seq 1 50); do in_cl curl -s -o /dev/null "http://$NET_IP:8080/" && break; sleep 0.1; done
bps=$(in_cl curl -s -o /dev/null -w '%{speed_download}' "http://$NET_IP:8080/f.bin")
web=$(wire "$(python3 -c "print($bps * 8 / 1e6)")")
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
load "$WORK/bandwidth-10.yaml"
got=$(tcp_mbit)
log "TCP after a live load with the classroom at 10 Mbit/s: $got Mbit/s"
within "$got" 10 10 || fail "TCP $got Mbit/s is not within 10% of the new 10 Mbit/s"

# --- 4. two classrooms at once ---------------------------------------------------------------
load "$POL/qos-classrooms.yaml"
tcp_mbit 10.77.0.11 5202 "$WORK/room-a.json" > "$WORK/room-a.mbit" &
p1=$!
tcp_mbit 10.77.0.12 5203 "$WORK/room-b.json" > "$WORK/room-b.mbit" &
p2=$!
wait "$p1" || fail "iperf3 in room-a"
wait "$p2" || fail "iperf3 in room-b"
a=$(cat "$WORK/room-a.mbit"); b=$(cat "$WORK/room-b.mbit")
log "two classrooms at once, on the wire: room-a $a Mbit/s, room-b $b Mbit/s (20 each)"
within "$a" 20 10 || fail "room-a: $a Mbit/s is not within 10% of its 20 Mbit/s"
within "$b" 20 10 || fail "room-b: $b Mbit/s is not within 10% of its 20 Mbit/s"
dp_query qos > "$WORK/qos-rooms.json"
python3 - "$WORK/qos-rooms.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))["workers"][0]["qos"]
rooms = {r["name"]: r for r in q["classrooms"]}
for v in ("room-a", "room-b"):
    assert v in rooms and rooms[v]["bytes_down"] > 10_000_000, (v, rooms)
PY

# --- 5. a priority class keeps its guarantee under bulk TCP --------------------------------
load "$POL/qos-priority.yaml"
in_cl iperf3 -c "$NET_IP" -p 5201 -t 10 -R -P 4 --json > "$WORK/bulk.json" &
bulk=$!
sleep 2
bps=$(in_cl curl -s -o /dev/null -w '%{speed_download}' "http://$NET_IP:8080/big.bin")
wait "$bulk" || fail "bulk iperf3"
web=$(wire "$(python3 -c "print($bps * 8 / 1e6)")")
bulk_mbit=$(iperf_wire_mbit "$WORK/bulk.json")
log "priority HTTP under 4 bulk TCP streams: $web Mbit/s (guaranteed 15); bulk $bulk_mbit Mbit/s"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 15 * 0.9 else 1)" "$web" ||
  fail "the priority class got $web Mbit/s, less than 90% of its 15 Mbit/s guarantee"
dp_query qos > "$WORK/qos-prio.json"
python3 - "$WORK/qos-prio.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))["workers"][0]["qos"]
cls = {c["name"]: c for c in q["classes"]}
assert cls["teaching"]["bytes_down"] >= 10_000_000, cls["teaching"]
assert cls["default"]["dropped_packets"] > 0, "bulk was never dropped: the room was not full"
PY

# --- 6. a schedule switches the cap on time ----------------------------------------------------
load "$POL/qos-schedule.yaml"
# The offset that puts the timetable clock 4 s before next Monday 08:00 in Beijing (UTC+8).
offset=$(python3 - <<'PY'
import datetime as d
now = d.datetime.now(d.timezone.utc)
bj = d.timezone(d.timedelta(hours=8))
local = now.astimezone(bj)
day = local.date() + d.timedelta(days=(0 - local.weekday()) % 7 + 7)
start = d.datetime(day.year, day.month, day.day, 8, 0, tzinfo=bj)
print(int((start - now).total_seconds()) - 4)
PY
)
dp_set_clock "$offset"
in_cl iperf3 -c "$NET_IP" -p 5201 -t 12 -i 1 -R --json > "$WORK/sched.json"
dp_set_clock 0
read -r before after <<<"$(python3 - "$WORK/sched.json" <<'PY'
import json, sys
iv = [i["sum"]["bits_per_second"] / 1e6 for i in json.load(open(sys.argv[1]))["intervals"]]
print(sum(iv[0:3]) / 3, sum(iv[7:12]) / 5)  # the lesson starts at ~4 s
PY
)"
before=$(wire "$before"); after=$(wire "$after")
log "schedule: before the lesson $before Mbit/s (rate 20; > 2x the cap), from 08:00 on $after Mbit/s (cap 5)"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 10 else 1)" "$before" ||
  fail "before the lesson TCP got $before Mbit/s: the cap applied early"
within "$after" 5 10 || fail "in the lesson TCP got $after Mbit/s, not within 10% of the 5 Mbit/s cap"
dp_query stats | jget "['counters']['qos_flows_reassigned']" > "$WORK/reassigned"
[ "$(cat "$WORK/reassigned")" -ge 1 ] || fail "the running flow was never re-assigned"
log "PASS"
