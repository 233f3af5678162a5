#!/usr/bin/env bash
# IPFIX flow audit records into a real nfcapd (nfdump) on loopback: every flow of a capture
# (through the real pipeline with nDPI) arrives, nfdump shows it with its app name (NBAR-style
# application table) and the exact byte and packet counts of both directions.
set -euo pipefail
BUILD=${CG_BUILD_DIR:-build}
SRC=${CG_SOURCE_DIR:-.}
TOOL=$BUILD/bin/cg-ipfix-replay
for b in nfcapd nfdump; do
  command -v $b >/dev/null || { echo "FAIL: $b missing (apt-get install nfdump; scripts/deps/detect.txt)"; exit 1; }
done
[ -x "$TOOL" ] || { echo "FAIL: $TOOL not built"; exit 1; }
DIR=$(mktemp -d /tmp/cg-ipfix.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
PORT=$((20000 + RANDOM % 20000))
mkdir -p "$DIR/flows"
nfcapd -b 127.0.0.1 -p $PORT -w "$DIR/flows" -t 3600 -B 4194304 >"$DIR/nfcapd.log" 2>&1 &
PID=$!
for _ in $(seq 50); do ss -uln | grep -q "127.0.0.1:$PORT " && break; sleep 0.1; done
fail=0
for cap in android.pcap google_ssl.pcap dns_doh.pcap; do
  "$TOOL" --collector 127.0.0.1:$PORT --pcap "$SRC/../shared/corpus/pcap/$cap" >>"$DIR/exported.jsonl"
done
kill -TERM $PID; wait $PID || true; PID=
cat "$DIR/nfcapd.log"
nfdump -6 -R "$DIR/flows" -q -o 'fmt:%sa|%sp|%da|%dp|%pr|%ipkt|%ibyt|%opkt|%obyt|%nbnam' >"$DIR/nfdump.txt"
python3 - "$DIR/exported.jsonl" "$DIR/nfdump.txt" <<'PY'
import ipaddress, json, sys
ip = lambda a: str(ipaddress.ip_address(a))
sent = [json.loads(l) for l in open(sys.argv[1])]
rows = {}
for line in open(sys.argv[2]):
    f = [x.strip() for x in line.split('|')]
    if len(f) < 10: continue
    port = lambda x: int(x) if x.isdigit() else 0  # ICMP: type.code
    key = (ip(f[0]), port(f[1]), ip(f[2]), port(f[3]))
    rows.setdefault(key, []).append(f)
bad = 0
named = 0
for s in sent:
    key = (ip(s['src_ip']), s['src_port'], ip(s['dst_ip']), s['dst_port'])
    got = rows.get(key)
    if not got:
        print('MISSING', key); bad += 1; continue
    want = [str(s['packets']), str(s['bytes']), str(s['reverse_packets']), str(s['reverse_bytes'])]
    match = [g for g in got if [g[5], g[6], g[7], g[8]] == want]
    if not match:
        print('COUNTS', key, 'sent', want, 'nfdump', [g[5:9] for g in got]); bad += 1; continue
    g = match[0]
    name = g[9].split('/')[0]
    if s['app'] and name != s['app']:
        print('APP', key, 'sent', s['app'], 'nfdump', g[9]); bad += 1
    elif s['app']:
        named += 1
total = sum(len(v) for v in rows.values())
print(f'{len(sent)} flows exported, {total} in nfdump, {named} with app names, {bad} problems')
sys.exit(1 if bad or total != len(sent) or named == 0 else 0)
PY
