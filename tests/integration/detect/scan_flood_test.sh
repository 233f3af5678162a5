#!/usr/bin/env bash
# Live detection across the real cg-dataplane between namespaces, followed through the control
# socket's event stream (events.subscribe) and eve.json:
#  - an nmap SYN scan raises a port-scan event naming the scanner within 2 s;
#  - a DNS query and a TLS ClientHello for a blocklisted domain are dropped and alerted;
#  - an hping3 SYN flood raises a flood event while a normal TCP transfer still completes;
#  - every event validates against dataplane/api/event.schema.json and names the zone the
#    active policy gives the classroom host ("classroom");
#  - the stats reply carries the detect_* counters summed over workers;
#  - alert events name an evidence pcap (export.evidence.dir) that tcpdump reads with the
#    flow's first packets: the blocked DNS query itself, the TLS handshake up to the ClientHello.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgdet
source tests/integration/lib/netns.sh
for b in nmap hping3 openssl curl; do
  command -v $b >/dev/null || fail "$b missing (scripts/deps/detect.txt)"
done
topo_up
printf '# test feed\n0.0.0.0 blocked.example\n' > "$WORK/feed.txt"
DP_ARGS="--policy tests/integration/detect/policies/zones.yaml" dp_start "detect:
  flood: { syn_packets: 300 }
  blocklist: { files: [$WORK/feed.txt], action: block }
  events: { eve_file: $WORK/eve.json }
export:
  evidence: { dir: $WORK/evidence, snaplen: 1600, max_packets: 8 }"
log "dataplane up"
python3 tests/integration/detect/subscribe.py "$WORK/dataplane.sock" "$WORK/events.jsonl" &
SUB=$!
for _ in $(seq 1 100); do [ -e "$WORK/events.jsonl.ready" ] && break; sleep 0.1; done
[ -e "$WORK/events.jsonl.ready" ] || fail "events.subscribe not acknowledged"

wait_event() {  # wait_event SECONDS PYTHON-PREDICATE-ON-e
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
  while [ "$(date +%s%N)" -lt $deadline ]; do
    python3 - "$WORK/events.jsonl" "$2" <<'PY' && return 0
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if eval(sys.argv[2]):
        sys.exit(0)
sys.exit(1)
PY
    sleep 0.1
  done
  return 1
}

# 1. nmap SYN scan of 200 ports.
in_cl nmap -sS -Pn -n -T4 -p 1-200 --max-retries 0 "$NET_IP" > "$WORK/nmap.txt" 2>&1 || fail "nmap"
wait_event 2 "e.get('detector') == 'port_scan' and e['src_ip'] == '$CL_IP' and e['dest_ip'] == '$NET_IP'" \
  || { cat "$WORK/events.jsonl"; fail "no port-scan event naming $CL_IP within 2 s"; }
log "nmap scan -> port_scan event naming $CL_IP"

# 2. Blocklisted domain: DNS query (a UDP server counts what arrives) and TLS SNI.
in_net python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$NET_IP', 53)); s.settimeout(4)
n = 0
try:
    while True:
        s.recvfrom(2048); n += 1
except socket.timeout:
    pass
open('$WORK/dns_received', 'w').write(str(n))
" &
DNS=$!
sleep 0.3
in_cl python3 -c "
import socket, struct
q = struct.pack('!HHHHHH', 0x4242, 0x0100, 1, 0, 0, 0)
for label in 'www.blocked.example'.split('.'):
    q += bytes([len(label)]) + label.encode()
q += b'\x00' + struct.pack('!HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(q, ('$NET_IP', 53))
"
wait $DNS
[ "$(cat "$WORK/dns_received")" = 0 ] || fail "the blocklisted DNS query reached the server"
wait_event 2 "e.get('detector') == 'blocklist_domain' and e['blocklist']['matched_on'] == 'dns_query' and e['alert']['action'] == 'blocked'" \
  || { cat "$WORK/events.jsonl"; fail "no blocked dns_query event"; }
log "DNS query for www.blocked.example dropped and alerted"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=blocked.example -keyout "$WORK/k.pem" \
  -out "$WORK/c.pem" -days 1 >/dev/null 2>&1
in_net openssl s_server -accept 8443 -cert "$WORK/c.pem" -key "$WORK/k.pem" -quiet \
  > "$WORK/s_server.out" 2>&1 &
sleep 0.5
if echo hello | in_cl timeout 5 openssl s_client -connect "$NET_IP:8443" \
     -servername www.blocked.example -quiet > "$WORK/s_client.out" 2>&1; then
  grep -q hello "$WORK/s_server.out" && fail "TLS to the blocklisted name got through"
fi
wait_event 2 "e.get('detector') == 'blocklist_domain' and e['blocklist']['matched_on'] == 'tls_sni'" \
  || { cat "$WORK/events.jsonl"; fail "no tls_sni blocklist event"; }
log "TLS ClientHello with SNI www.blocked.example dropped and alerted"

# 3. SYN flood toward the server while a 5 MB transfer runs; the transfer completes intact.
mkdir -p "$WORK/www"
head -c 5000000 /dev/urandom > "$WORK/www/file.bin"
( cd "$WORK/www" && in_net python3 -m http.server 8080 --bind "$NET_IP" >/dev/null 2>&1 ) &
for _ in $(seq 1 50); do in_cl curl -s -o /dev/null "http://$NET_IP:8080/" && break; sleep 0.1; done
in_cl timeout 4 hping3 -S -p 9999 -i u200 "$NET_IP" > /dev/null 2>&1 &
FLOOD=$!
in_cl curl -s --max-time 60 -o "$WORK/got.bin" "http://$NET_IP:8080/file.bin" || fail "curl during flood"
wait $FLOOD || true
[ "$(sha256sum < "$WORK/www/file.bin")" = "$(sha256sum < "$WORK/got.bin")" ] || fail "transfer corrupted"
wait_event 3 "e.get('detector') == 'syn_flood' and e['dest_ip'] == '$NET_IP'" \
  || { cat "$WORK/events.jsonl"; fail "no syn_flood event"; }
log "hping3 SYN flood -> syn_flood event; 5 MB transfer during the flood intact"

dp_query stats > "$WORK/stats.json"
python3 - "$WORK/stats.json" <<'PY' || fail "detect counters missing from stats"
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
for k in ("detect_port_scans", "detect_blocklist_domain_hits", "detect_syn_floods",
          "events_emitted", "events_drained"):
    assert c.get(k, 0) >= 1, (k, c.get(k))
assert "events_lost_ring_full" in c and "detect_scan_evictions" in c
assert c.get("evidence_files_written", 0) >= 2 and c["evidence_write_errors"] == 0, c
print("stats:", {k: v for k, v in c.items() if k.startswith(("detect_", "events_"))})
PY
kill $SUB 2>/dev/null || true
python3 - "$WORK/events.jsonl" "$WORK/eve.json" <<'PY'
import json, sys, jsonschema
schema = json.load(open("dataplane/api/event.schema.json"))
v = jsonschema.Draft202012Validator(schema)
stream = [json.loads(l) for l in open(sys.argv[1])]
eve = [json.loads(l) for l in open(sys.argv[2])]
for e in stream + eve:
    v.validate(e)
    if e["event_type"] == "alert" and "10.77.0.1" in (e["src_ip"], e["dest_ip"]):
        assert e.get("zone") == "classroom", e
ids = {e["event_id"] for e in stream}
assert ids <= {e["event_id"] for e in eve}, "eve.json has every streamed event"
print(f"{len(stream)} streamed events, {len(eve)} in eve.json, all valid")
PY
# Evidence: every named file exists and tcpdump reads exactly the packets the event announces.
python3 - "$WORK/events.jsonl" "$CL_IP" "$NET_IP" <<'PY' || fail "evidence pcaps"
import json, subprocess, sys
events = [json.loads(l) for l in open(sys.argv[1])]
cl, net = sys.argv[2], sys.argv[3]
def tcpdump(f, *args):
    return subprocess.run(["tcpdump", "-nn", "-r", f, *args], capture_output=True, text=True,
                          check=True).stdout
with_ev = [e for e in events if "evidence" in e]
assert with_ev, "no event names evidence"
for e in with_ev:
    lines = tcpdump(e["evidence"]["file"]).splitlines()
    assert len(lines) == e["evidence"]["packets"], (e["evidence"], lines)
dns = [e for e in with_ev if e.get("blocklist", {}).get("matched_on") == "dns_query"]
assert dns, "the blocked DNS query has no evidence"
lines = tcpdump(dns[0]["evidence"]["file"]).splitlines()
assert len(lines) == 1 and "A? www.blocked.example" in lines[0], lines
tls = [e for e in with_ev if e.get("blocklist", {}).get("matched_on") == "tls_sni"]
assert tls, "the blocked TLS flow has no evidence"
lines = tcpdump(tls[0]["evidence"]["file"]).splitlines()
assert len(lines) >= 4 and f"{cl}." in lines[0] and "Flags [S]" in lines[0], lines
assert "www.blocked.example" in tcpdump(tls[0]["evidence"]["file"], "-A"), "no SNI in evidence"
print(f"{len(with_ev)} events with evidence; DNS query: 1 packet; TLS: {len(lines)} packets "
      "from the SYN to the ClientHello")
PY
log "evidence pcaps: tcpdump reads the first packets of the alerted flows"
log "PASS"
