#!/usr/bin/env bash
# The real cg-dataplane inline between two namespaces over net_af_packet: ping, a TCP transfer
# (curl of a file from a local HTTP server, checksum compared), UDP (iperf3), IPv6 ping, and
# the socket's counters checked against what was sent.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgbr
source tests/integration/lib/netns.sh
topo_up
dp_start
log "dataplane up"

# ARP / ND must cross the bridge for anything to work; ping both families.
in_cl ping -c 20 -i 0.05 -W 2 "$NET_IP" > "$WORK/ping.txt" || { cat "$WORK/ping.txt"; fail "ping"; }
grep -q " 0% packet loss" "$WORK/ping.txt" || fail "ping lost packets: $(tail -2 "$WORK/ping.txt")"
in_cl ping -6 -c 5 -i 0.1 -W 2 "$NET_IP6" > "$WORK/ping6.txt" || { cat "$WORK/ping6.txt"; fail "ping6"; }
log "ping ok (20 IPv4, 5 IPv6)"

# TCP: a 20 MB file over HTTP, checksum compared.
mkdir -p "$WORK/www"
head -c 20000000 /dev/urandom > "$WORK/www/file.bin"
( cd "$WORK/www" && in_net python3 -m http.server 8080 --bind "$NET_IP" >/dev/null 2>&1 ) &
for _ in $(seq 1 50); do in_cl curl -s -o /dev/null "http://$NET_IP:8080/" && break; sleep 0.1; done
in_cl curl -s --max-time 60 -o "$WORK/got.bin" "http://$NET_IP:8080/file.bin" || fail "curl"
want=$(sha256sum < "$WORK/www/file.bin"); got=$(sha256sum < "$WORK/got.bin")
[ "$want" = "$got" ] || fail "TCP transfer corrupted"
log "TCP 20 MB transfer ok, checksum matches"

# UDP: iperf3 at a modest rate. Loss can happen outside the dataplane on a busy 2-core box
# (socket buffers, the AF_PACKET ring); what must hold is that the dataplane saw at least every
# datagram the server received, and forwarded all it saw (checked below).
in_net iperf3 -s -1 -B "$NET_IP" -p 5201 > /dev/null 2>&1 &
sleep 0.5
in_cl iperf3 -c "$NET_IP" -p 5201 -u -b 20M -t 3 -l 1200 --json > "$WORK/iperf.json" \
  || { cat "$WORK/iperf.json"; fail "iperf3"; }
lost=$(jget "['end']['sum']['lost_percent']" < "$WORK/iperf.json")
udp_pkts=$(jget "['end']['sum']['packets']" < "$WORK/iperf.json")
udp_lost=$(jget "['end']['sum']['lost_packets']" < "$WORK/iperf.json")
udp_received=$((udp_pkts - udp_lost))
python3 -c "import sys; sys.exit(0 if $lost < 20 else 1)" || fail "UDP loss $lost%"
log "UDP iperf3 ok: $udp_pkts datagrams sent, $udp_received received (loss $lost%)"

# Counters: every ping request crossed inside->outside and its reply outside->inside; the
# dataplane saw at least what we sent, and tracked the flows.
dp_query stats > "$WORK/stats.json"
dp_query flow --addr "$CL_IP" > "$WORK/flows.json"
python3 - "$WORK/stats.json" "$WORK/flows.json" "$udp_received" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); f = json.load(open(sys.argv[2])); udp_received = int(sys.argv[3])
c = s["counters"]; p = s["ports"]
def need(cond, what):
    if not cond:
        print("FAIL:", what); print(json.dumps(s, indent=1)); sys.exit(1)
need(c["decode_icmp"] >= 40, "40 ICMP echo/reply seen (got %d)" % c["decode_icmp"])
need(c["decode_icmpv6"] >= 10, "10 ICMPv6 echo/reply seen")
need(c["decode_arp"] >= 2 or c["decode_icmpv6"] >= 12, "ARP/ND crossed")
need(c["decode_tcp"] > 1000, "TCP packets seen")
need(c["decode_udp"] >= udp_received, "UDP datagrams seen (%d < %d received)" % (c["decode_udp"], udp_received))
need(p["inside"]["rx_packets"] >= 20 + udp_received, "inside rx counts what crossed")
# Nothing was dropped, so each port transmitted exactly what the other received.
need(c["forwarded"] == c["packets"], "no packet dropped (%d of %d forwarded)" % (c["forwarded"], c["packets"]))
need(p["outside"]["tx_packets"] == p["inside"]["rx_packets"], "inside rx == outside tx")
need(p["inside"]["tx_packets"] == p["outside"]["rx_packets"], "outside rx == inside tx")
need(c["forwarded"] + c["drop_malformed"] + c["drop_non_ip"] + c["drop_flow_table_full"] == c["packets"], "every packet forwarded or dropped with a reason")
flows = f["flows"]
protos = {x["proto"] for x in flows}
need({"ICMP", "TCP", "UDP"} <= protos, "flows of ICMP, TCP and UDP for the classroom host: %s" % protos)
tcp = [x for x in flows if x["proto"] == "TCP" and x["dst_port"] == 8080]
need(any(x["bytes"] > 20_000_000 for x in tcp), "the 20 MB TCP flow is tracked with its bytes")
# nDPI on the live path: the download is HTTP with the Host header curl sent.
big = max(tcp, key=lambda x: x["bytes"])
need(big.get("app") == "HTTP", "HTTP download classified as HTTP (got %s)" % big.get("app"))
need(big.get("hostname") == "10.77.0.2", "HTTP Host recorded (got %s)" % big.get("hostname"))
need(any(x.get("app") == "ICMP" for x in flows if x["proto"] == "ICMP"), "ping classified as ICMP")
icmp = [x for x in flows if x["proto"] == "ICMP"]
need(any(x["src2dst_packets"] >= 20 and x["dst2src_packets"] >= 20 for x in icmp), "ping flow has 20 each way")
# Per-application totals in stats: the classified download and pings are counted by app.
apps = {a["app"]: a for a in s["apps"]}
need(apps.get("HTTP", {}).get("bytes", 0) >= 20_000_000, "stats apps: HTTP has the 20 MB (%s)" % apps.get("HTTP"))
need(apps.get("ICMP", {}).get("flows", 0) >= 1, "stats apps: ICMP flow counted")
need(sum(a["packets"] for a in s["apps"]) <= c["packets"], "per-app packets never exceed packets")
print("counters ok: packets=%d flows_created=%d" % (c["packets"], c["flows_created"]))
PY

dp_query shutdown > /dev/null
wait "$DP_PID" || fail "cg-dataplane exited non-zero"
DP_PID=""
log "PASS"
