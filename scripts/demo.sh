#!/usr/bin/env bash
# campusguard's main job on an embedded default, no external server needed: a "classroom" host
# and an "internet" host in their own network namespaces, joined only through cg-dataplane
# (DPDK, net_af_packet, no hugepages). Real traffic crosses it — ping, an HTTP download over
# TCP, an iperf3 UDP stream — while the live counters print every second; then the top flows.
# Run as root. DEMO_SECONDS (default 12) sets how long traffic runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
export CG_BUILD_DIR=build
PREFIX=cgdemo
source tests/integration/lib/netns.sh
secs=${DEMO_SECONDS:-12}

topo_up
log "namespaces: $NS_CL ($CL_IP) <-> [$NS_CG: cg-dataplane] <-> $NS_NET ($NET_IP)"
dp_start
log "cg-dataplane is bridging; starting traffic for ${secs}s"

mkdir -p "$WORK/www"
head -c 50000000 /dev/urandom > "$WORK/www/lesson-video.bin"
( cd "$WORK/www" && in_net python3 -m http.server 8080 --bind "$NET_IP" >/dev/null 2>&1 ) &
in_net iperf3 -s -B "$NET_IP" -p 5201 >/dev/null 2>&1 &
sleep 0.5

in_cl ping -i 0.2 -w "$secs" "$NET_IP" > "$WORK/ping.txt" 2>&1 &
( end=$((SECONDS + secs)); while [ $SECONDS -lt $end ]; do
    in_cl curl -s --max-time "$secs" -o /dev/null "http://$NET_IP:8080/lesson-video.bin" || true
  done ) &
in_cl iperf3 -c "$NET_IP" -p 5201 -u -b 20M -t "$secs" >/dev/null 2>&1 &

"$CG_BUILD_DIR/bin/cg-dataplane" --watch 1 --count "$secs" --socket "$WORK/dataplane.sock"
sleep 2

echo
log "ping: $(tail -2 "$WORK/ping.txt" | head -1)"
log "top flows by bytes:"
dp_query flows --limit 5 | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("  %-5s %-22s %-22s %-10s %10s %14s  %s" % ("proto", "source", "destination", "app", "packets", "bytes", "state"))
for f in r["flows"]:
    print("  %-5s %-22s %-22s %-10s %10d %14d  %s" % (f["proto"], "%s:%s" % (f["src_ip"], f["src_port"]),
          "%s:%s" % (f["dst_ip"], f["dst_port"]), f.get("app", "-"), f["packets"], f["bytes"], f.get("tcp_state", "")))
print("  (%d flows active)" % r["flows_active"])'
dp_query shutdown >/dev/null
wait "$DP_PID" 2>/dev/null || true
DP_PID=""
log "demo finished"
