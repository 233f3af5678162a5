#!/usr/bin/env bash
# Live IPFIX flow audit log: the real cg-dataplane inline between network namespaces exports its
# flows to a real nfcapd (nfdump) on the dataplane namespace's loopback. A few known flows cross
# it — HTTP downloads (curl -> python http.server) and a DNS query/response over UDP; after a
# clean shutdown (which flushes the flow table), `nfdump -r` must show each of those flows with
# the nDPI app name and exactly the packet and byte counts of both directions that the
# dataplane's own flow table reported (`flows` on the control socket), and the exporter's
# counters must show no loss.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgipx
source tests/integration/lib/netns.sh
for b in nfcapd nfdump curl; do
  command -v $b >/dev/null || fail "$b missing (apt-get install nfdump curl; scripts/deps/detect.txt)"
done
topo_up
PORT=$((20000 + RANDOM % 20000))
mkdir -p "$WORK/flows" "$WORK/www"
ip netns exec "$NS_CG" nfcapd -b 127.0.0.1 -p $PORT -w "$WORK/flows" -t 3600 \
  > "$WORK/nfcapd.log" 2>&1 &
NFCAPD=$!
for _ in $(seq 50); do ip netns exec "$NS_CG" ss -uln | grep -q "127.0.0.1:$PORT " && break; sleep 0.1; done
ip netns exec "$NS_CG" ss -uln | grep -q "127.0.0.1:$PORT " || fail "nfcapd did not start"
DP_ARGS="--policy tests/integration/detect/policies/zones.yaml" dp_start "export:
  ipfix: { collector: 127.0.0.1:$PORT, transport: udp, active_timeout_s: 300 }"
log "dataplane up, exporting to nfcapd on 127.0.0.1:$PORT"

# Flows: two HTTP downloads of known files, one DNS query answered by a small UDP server.
head -c 300000 /dev/urandom > "$WORK/www/a.bin"
head -c 20000 /dev/urandom > "$WORK/www/b.bin"
( cd "$WORK/www" && in_net python3 -m http.server 8080 --bind "$NET_IP" >/dev/null 2>&1 ) &
for _ in $(seq 1 50); do in_cl curl -s -o /dev/null "http://$NET_IP:8080/b.bin" && break; sleep 0.1; done
in_cl curl -s --max-time 20 -o "$WORK/a.got" "http://$NET_IP:8080/a.bin" || fail "curl a.bin"
in_cl curl -s --max-time 20 -o "$WORK/b.got" "http://$NET_IP:8080/b.bin" || fail "curl b.bin"
cmp -s "$WORK/www/a.bin" "$WORK/a.got" || fail "a.bin corrupted"
in_net python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$NET_IP', 53)); s.settimeout(5)
q, peer = s.recvfrom(2048)
r = bytearray(q); r[2] |= 0x80; r[3] |= 0x80   # QR + RA: a response (no answers)
s.sendto(bytes(r), peer)
" &
DNS=$!
sleep 0.3
in_cl python3 -c "
import socket, struct
q = struct.pack('!HHHHHH', 0x4243, 0x0100, 1, 0, 0, 0)
for label in 'www.example.org'.split('.'):
    q += bytes([len(label)]) + label.encode()
q += b'\x00' + struct.pack('!HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$CL_IP', 53530)); s.settimeout(5)
s.sendto(q, ('$NET_IP', 53)); s.recvfrom(2048)
" || fail "DNS exchange"
wait $DNS
sleep 1  # the last FIN/ACKs are through; the flows are quiet
dp_query flows --limit 1000 > "$WORK/flows.json"
dp_query shutdown > /dev/null
for _ in $(seq 1 100); do kill -0 "$DP_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DP_PID" 2>/dev/null && fail "cg-dataplane did not stop"
wait "$DP_PID" || fail "cg-dataplane exited with an error: $(tail -5 "$WORK/dataplane.err")"
DP_PID=
tail -1 "$WORK/dataplane.out" > "$WORK/final_stats.json"
sleep 0.5  # the last datagram is read
kill -TERM $NFCAPD; wait $NFCAPD || true
nfdump -R "$WORK/flows" -q -o 'fmt:%sa|%sp|%da|%dp|%pr|%ipkt|%ibyt|%opkt|%obyt|%nbnam' \
  > "$WORK/nfdump.txt" || fail "nfdump could not read $WORK/flows"
python3 - "$WORK/flows.json" "$WORK/nfdump.txt" "$WORK/final_stats.json" "$CL_IP" "$NET_IP" <<'PY'
import json, sys
flows = json.load(open(sys.argv[1]))["flows"]
stats = json.load(open(sys.argv[3]))["counters"]
cl, net = sys.argv[4], sys.argv[5]
rows = {}
for line in open(sys.argv[2]):
    f = [x.strip() for x in line.split('|')]
    if len(f) >= 10 and f[1].isdigit() and f[3].isdigit():  # ICMP: type.code
        rows.setdefault((f[0], int(f[1]), f[2], int(f[3])), []).append(f)
ours = [f for f in flows if f["src_ip"] == cl and f["dst_ip"] == net]
http = [f for f in ours if f["dst_port"] == 8080]
dns = [f for f in ours if f["dst_port"] == 53]
assert len(http) >= 3 and len(dns) == 1, ("flows the dataplane reported", ours)
bad = 0
for f in ours:
    key = (f["src_ip"], f["src_port"], f["dst_ip"], f["dst_port"])
    want = [str(f["src2dst_packets"]), str(f["src2dst_bytes"]),
            str(f["dst2src_packets"]), str(f["dst2src_bytes"])]
    got = rows.get(key, [])
    if len(got) != 1 or got[0][5:9] != want:
        print("MISMATCH", key, "dataplane", want, "nfdump", [g[5:9] for g in got]); bad += 1
        continue
    name = got[0][9].split('/')[0]
    # A flow still under inspection gets its final name (nDPI's guess) only at flow end.
    if f.get("classification") != "inspecting" and name != f["app"]:
        print("APP", key, "dataplane", f["app"], "nfdump", got[0][9]); bad += 1
    print("ok", key, "packets/bytes", want, "app", name)
done = [f for f in http if f["dst2src_bytes"] > 20000]  # the downloads (not refused probes)
assert len(done) == 3 and all(f["app"] == "HTTP" for f in done), [f["app"] for f in http]
assert dns[0]["app"] == "DNS", dns[0]["app"]
for k in ("ipfix_records_lost_ring_full", "ipfix_records_lost", "ipfix_send_errors"):
    assert stats.get(k) == 0, (k, stats.get(k))
assert stats["ipfix_records"] == stats["ipfix_records_queued"] >= len(ours), stats
print(f"{len(ours)} flows matched nfdump exactly; exporter: {stats['ipfix_records']} records, "
      f"{stats['ipfix_messages']} messages, {len(rows)} flows in nfdump")
sys.exit(1 if bad else 0)
PY
log "PASS"
