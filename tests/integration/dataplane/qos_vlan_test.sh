#!/usr/bin/env bash
# "Each VLAN of a per-VLAN zone is its own classroom", live through the real cg-dataplane
# (net_af_packet between namespaces). The VM's kernel has no 802.1Q module, so there are no VLAN
# interfaces: tests/integration/lib/vlan_frames.py sends tagged UDP/IPv4 frames with a packet
# socket on the classroom side and counts them per VLAN id with another on the internet side
# (the kernel moves the tag into PACKET_AUXDATA; the frames go no further, which is fine here).
# Policy qos-vlans.yaml: zone `classrooms` = VLANs 101-160, 2 Mbit/s per classroom (per: vlan).
#   1. VLANs 101 and 102, each offered 5 Mbit/s of upload at the same time, each come out at
#      ITS OWN 2 Mbit/s (±10 %): two classrooms, not one shared 2 Mbit/s (with `per: zone` the
#      two got 1.3 + 0.7: both the per-VLAN rates and their sum of 4 are asserted);
#   2. the `qos` answer lists `classrooms/vlan101` and `classrooms/vlan102` with passed bytes
#      equal to what was captured (±1 %), passed + dropped equal to what was sent (±1 %), and
#      exactly 1000 bytes per frame; at the end `decode_vlan_tagged` = frames sent and
#      `drop_qos` = the classrooms' drops;
#   3. VLAN 300 (in no zone), offered 5 Mbit/s at the same time, is the classroom `unzoned`,
#      which has no rate of its own (only the 100 Mbit/s uplink): all of it passes, no drops;
#   4. a live policy load with the classroom rate at 3 Mbit/s: both VLANs follow (±10 %).
#
# Unit of every rate and byte count: whole frames as the policer counts them, i.e. the DPDK
# mbuf's pkt_len (`wire_len` in dataplane/pipeline) = the Ethernet frame *including* the 4-byte
# 802.1Q tag (net_af_packet re-inserts the tag the kernel stripped), without the FCS. The sender
# sizes its frames in that unit (1000 bytes), and the counter adds the 4 tag bytes back to the
# length the kernel reports. Rates are measured over 1.0-4.5 s of a 5 s send (kernel receive
# timestamps), after the initial bucket (62.5 KB, gone in ~0.2 s at 3 Mbit/s excess) has drained.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgvlan
source tests/integration/lib/netns.sh
POL=tests/integration/dataplane/policies
FRAMES=tests/integration/lib/vlan_frames.py
topo_up
# 2048-frame rings (~1 s of this test's traffic): a worker descheduled for a while on the busy
# 2-core VM loses nothing (DPDK 22.11's af_packet does not even count a full ring's drops).
DP_INSIDE="net_af_packet0,iface=cgin,framecnt=2048" \
  DP_OUTSIDE="net_af_packet1,iface=cgout,framecnt=2048" \
  DP_ARGS="--policy $POL/qos-vlans.yaml" dp_start
log "dataplane up with qos-vlans.yaml (VLANs 101-160: 2 Mbit/s per VLAN)"
DST_MAC=$(in_net cat /sys/class/net/in0/address)

# send_and_count NAME SECONDS RATE_MBIT VLAN...: offers RATE_MBIT per VLAN from the classroom
# side for SECONDS while the internet side counts; leaves $WORK/NAME.{sent,count,qos,stats}.json.
send_and_count() {
  local name=$1 secs=$2 rate=$3; shift 3
  local vlans=() v
  for v in "$@"; do vlans+=(--vlan "$v"); done
  rm -f "$WORK/$name.ready"
  in_net python3 "$FRAMES" count --iface in0 --seconds "$(python3 -c "print($secs + 1.5)")" \
    --bin 0.5 --ready "$WORK/$name.ready" --out "$WORK/$name.count.json" &
  local counter=$!
  for _ in $(seq 1 100); do [ -f "$WORK/$name.ready" ] && break; sleep 0.05; done
  [ -f "$WORK/$name.ready" ] || fail "the frame counter on in0 did not start"
  in_cl python3 "$FRAMES" send --iface cl0 "${vlans[@]}" --rate-mbit "$rate" --size 1000 \
    --seconds "$secs" --flows 4 --src "$CL_IP" --dst "$NET_IP" --dst-mac "$DST_MAC" \
    --out "$WORK/$name.sent.json" || fail "vlan_frames.py send"
  wait "$counter" || fail "vlan_frames.py count"
  dp_query qos > "$WORK/$name.qos.json" || fail "qos query"
  dp_query stats > "$WORK/$name.stats.json" || fail "stats query"
}

# check NAME ROOM_RATE_MBIT LIMITED_VLANS [FREE_VLANS]: the assertions of points 1-3 (comma
# separated VLAN lists); prints one line of figures per VLAN.
check() {
  python3 - "$WORK/$1" "$2" "$3" "${4:-}" <<'PY'
import json, sys
base, rate, limited, free = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
limited = limited.split(",")
free = [v for v in free.split(",") if v]
sender = json.load(open(base + ".sent.json"))
sent = sender["vlans"]
count = json.load(open(base + ".count.json"))
workers = json.load(open(base + ".qos.json"))["workers"]
assert len(workers) == 1, "one worker expected"
rooms = {r["name"]: r for r in workers[0]["qos"]["classrooms"]}
errors = []
def err(msg):
    errors.append(msg)
WINDOW = (2, 9)  # 0.5 s bins: 1.0 s .. 4.5 s after the first frame
def steady_mbit(v):
    bins = count["vlans"].get(v, {}).get("bins", [])
    got = bins[WINDOW[0]:WINDOW[1]]
    return sum(got) * 8 / (0.5 * (WINDOW[1] - WINDOW[0])) / 1e6
ports = json.load(open(base + ".stats.json"))["ports"]
print("  dataplane so far: inside rx {rx_packets} frames, missed {nic_rx_missed}; ".format(
          **ports["inside"]) + "outside tx {tx_packets} frames, tx full {drop_tx_full}, "
      "errors {nic_tx_errors}".format(**ports["outside"]))
if count["kernel_drops"]:
    err(f"the counter's socket dropped {count['kernel_drops']} frames: figures incomplete")
total = 0.0
for v in limited + free:
    s = sent[v]
    c = count["vlans"].get(v, {"frames": 0, "bytes": 0, "bins": []})
    offered = s["bytes"] * 8 / sender["seconds"] / 1e6
    mbit = steady_mbit(v)
    name = f"classrooms/vlan{v}" if v in limited else "unzoned"
    room = rooms.get(name)
    print(f"  VLAN {v}: offered {offered:.2f} Mbit/s ({s['frames']} frames), out {mbit:.2f} "
          f"Mbit/s steady, captured {c['bytes']} B / {c['frames']} frames; qos '{name}': "
          + (f"passed {room['bytes_up']} B, dropped {room['dropped_bytes']} B "
             f"({room['dropped_packets']} frames)" if room else "MISSING"))
    if v in limited:
        # 1. its own classroom rate, on the wire.
        total += mbit
        if abs(mbit - rate) > 0.1 * rate:
            err(f"VLAN {v}: {mbit:.2f} Mbit/s is not within 10% of its classroom's {rate}")
    elif c["frames"] < s["frames"] or abs(mbit - offered) > 0.1 * offered:
        # 3. not in the zone: no classroom rate, everything the sender sent came out.
        err(f"VLAN {v}: {c['frames']} of {s['frames']} frames came out "
            f"({mbit:.2f} of {offered:.2f} Mbit/s): it was limited")
    # 2. the dataplane's counters agree with the wire (captured) and the sender.
    if room is None:
        err(f"the qos answer has no classroom '{name}' for VLAN {v}: {sorted(rooms)}")
        continue
    if abs(room["bytes_up"] - c["bytes"]) > 0.01 * c["bytes"] + 2000:
        err(f"VLAN {v}: qos '{name}' passed {room['bytes_up']} B, {c['bytes']} B captured")
    if abs(room["bytes_up"] + room["dropped_bytes"] - s["bytes"]) > 0.01 * s["bytes"]:
        err(f"VLAN {v}: qos '{name}' passed + dropped = "
            f"{room['bytes_up'] + room['dropped_bytes']} B, {s['bytes']} B sent (fewer: lost "
            "before the policer, e.g. a full af_packet ring — an overloaded machine)")
    if v in limited:
        # The unit: every frame of these classrooms is one of ours, 1000 bytes with the tag.
        n = room["packets"] + room["dropped_packets"]
        if room["bytes_up"] + room["dropped_bytes"] != 1000 * n:
            err(f"VLAN {v}: qos '{name}' counted {room['bytes_up'] + room['dropped_bytes']} B "
                f"for {n} frames of 1000 B (tag included)")
        if room["dropped_packets"] == 0:
            err(f"VLAN {v}: no drop in '{name}': the classroom rate never bound")
    elif room["dropped_packets"] != 0:
        err(f"VLAN {v}: '{name}' dropped {room['dropped_packets']} frames")
if len(limited) > 1:
    print(f"  sum of the classrooms: {total:.2f} Mbit/s ({len(limited)} x {rate})")
    if total < 0.9 * rate * len(limited):
        err(f"{total:.2f} Mbit/s for {len(limited)} VLANs: they share one classroom")
for e in errors:
    print("FAIL: " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

# --- 1-3. VLANs 101 and 102 (classrooms) and 300 (no zone) at once --------------------------
send_and_count rooms 5 5 101 102 300
log "5 Mbit/s offered on each of VLANs 101, 102 (classrooms, 2 Mbit/s each) and 300 (no zone):"
check rooms 2 101,102 300 || fail "VLAN classrooms (see above; files in $WORK with KEEP_WORK=1)"

# --- 4. a live load changes the rate of every VLAN classroom -------------------------------
sed 's/rate: 2 Mbit/rate: 3 Mbit/' "$POL/qos-vlans.yaml" > "$WORK/qos-vlans-3.yaml"
dp_load "$WORK/qos-vlans-3.yaml" > "$WORK/load.json" || { cat "$WORK/load.json"; fail "load"; }
send_and_count rooms3 5 5 101 102
log "after a live load with 3 Mbit/s per classroom, 5 Mbit/s offered on VLANs 101 and 102:"
check rooms3 3 101,102 || fail "VLAN classrooms after the live load (see above)"
# Every frame reached the dataplane with its tag (net_af_packet re-inserts it), and the QoS drops
# of the two policies (each new plan starts its counters at zero) are all of `drop_qos`.
dp_query stats > "$WORK/stats.json"
python3 - "$WORK" <<'PY' || fail "dataplane counters (see above)"
import json, sys
w = sys.argv[1]
c = json.load(open(f"{w}/stats.json"))["counters"]
sent = sum(v["frames"] for p in ("rooms", "rooms3")
           for v in json.load(open(f"{w}/{p}.sent.json"))["vlans"].values())
drops = sum(r["dropped_packets"] for p in ("rooms", "rooms3")
            for r in json.load(open(f"{w}/{p}.qos.json"))["workers"][0]["qos"]["classrooms"])
print(f"  decode_vlan_tagged {c['decode_vlan_tagged']} (sent {sent}), drop_qos {c['drop_qos']} "
      f"(classrooms' drops {drops})")
sys.exit(0 if c["decode_vlan_tagged"] == sent and c["drop_qos"] == drops else 1)
PY
log "PASS"
