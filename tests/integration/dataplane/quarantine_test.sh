#!/usr/bin/env bash
# Quarantine and blocklist hot reload through the real cg-dataplane between namespaces:
#   1. quarantine.set ["10.77.0.1"]: that client's ping fails while another client's
#      (10.77.0.3, same link) passes; drop_quarantine counts; a `quarantine` event is emitted
#      (rate-limited); a bad list changes nothing; quarantine.set [] lifts it;
#   2. blocklist hot reload: an address added to the feed file blocks after a policy reload
#      (policy.prepare re-reads detect.blocklist.files); a broken feed fails the reload
#      naming FILE:LINE and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgqua
source tests/integration/lib/netns.sh
POL=tests/integration/dataplane/policies
topo_up
ip -n "$NS_CL" addr add 10.77.0.3/24 dev cl0
ip -n "$NS_CL" addr add 10.77.0.4/24 dev cl0
printf '# test feed\n192.0.2.99\n' > "$WORK/feed.txt"
DP_ARGS="--policy $POL/allow-all.yaml" dp_start "detect:
  blocklist: { files: [$WORK/feed.txt], action: block }
  events: { eve_file: $WORK/eve.json }"
log "dataplane up"

ping_ok() { in_cl ping -n -q -c 2 -i 0.2 -W 1 -I "$1" "$NET_IP" >/dev/null 2>&1; }
counter() { dp_query stats | jget "['counters']['$1']"; }

ping_ok "$CL_IP" || fail "ping from $CL_IP before quarantine"
ping_ok 10.77.0.3 || fail "ping from 10.77.0.3 before quarantine"

# --- 1. quarantine -------------------------------------------------------------------------
r=$(dp_query quarantine.set --arg 'addresses=["10.77.0.1"]')
[ "$(echo "$r" | jget "['ok']")" = True ] || fail "quarantine.set: $r"
[ "$(echo "$r" | jget "['entries']")" = 1 ] || fail "quarantine.set entries: $r"
log "quarantine.set applied in $(echo "$r" | jget "['apply_us']") us"
ping_ok "$CL_IP" && fail "the quarantined client's ping got through"
ping_ok 10.77.0.3 || fail "another client's ping failed while $CL_IP is quarantined"
# Both directions: the internet host cannot reach the quarantined one either.
in_net ping -n -q -c 2 -i 0.2 -W 1 "$CL_IP" >/dev/null 2>&1 && fail "ping toward the quarantined host got through"
drops=$(counter drop_quarantine)
[ "$drops" -ge 4 ] || fail "drop_quarantine $drops, want >= 4"
st=$(dp_query quarantine.status)
[ "$(echo "$st" | jget "['addresses']")" = "['10.77.0.1']" ] || fail "quarantine.status: $st"
for _ in $(seq 1 50); do grep -q '"detector":"quarantine"' "$WORK/eve.json" 2>/dev/null && break; sleep 0.1; done
python3 - "$WORK/eve.json" <<'PY' || fail "quarantine event"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
q = [e for e in ev if e.get("detector") == "quarantine"]
assert q, "no quarantine event in eve.json"
assert all(e["quarantine"]["entry"] == "10.77.0.1" and e["alert"]["action"] == "blocked" for e in q), q
assert len(q) <= 10, f"{len(q)} events: the per-address budget is 10 per minute"
print(f"{len(q)} quarantine event(s), first: {q[0]['src_ip']} -> {q[0]['dest_ip']}")
PY
python3 - "$WORK/eve.json" <<'PY' || fail "events do not validate against the schema"
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open("dataplane/api/event.schema.json")))
for line in open(sys.argv[1]):
    v.validate(json.loads(line))
PY
r=$(dp_query quarantine.set --arg 'addresses=["10.77.0.3","not-an-address"]' || true)
echo "$r" | grep -q "bad address 'not-an-address'" || fail "bad list accepted: $r"
ping_ok 10.77.0.3 || fail "a rejected quarantine.set changed the set"
ping_ok "$CL_IP" && fail "a rejected quarantine.set lifted the quarantine"
r=$(dp_query quarantine.set --arg 'addresses=[]')
[ "$(echo "$r" | jget "['entries']")" = 0 ] || fail "quarantine.set []: $r"
ping_ok "$CL_IP" || fail "ping from $CL_IP after the quarantine was lifted"
log "quarantine: blocked both ways, other client unaffected, lifted by an empty set"

# --- 2. blocklist hot reload --------------------------------------------------------------
( cd "$WORK" && in_net python3 -m http.server 8080 --bind "$NET_IP" >/dev/null 2>&1 ) &
get() { in_cl curl -s --max-time 3 --interface "$1" -o /dev/null -w '%{http_code}' \
          "http://$NET_IP:8080/" || true; }
for _ in $(seq 1 50); do [ "$(get 10.77.0.4)" = 200 ] && break; sleep 0.1; done
[ "$(get 10.77.0.4)" = 200 ] || fail "HTTP from 10.77.0.4 before the feed lists it"
printf '# test feed\n192.0.2.99\nthis line is broken\n' > "$WORK/feed.txt"
if dp_load "$POL/allow-all.yaml" > "$WORK/load_bad.json" 2>&1; then
  fail "a broken feed was accepted: $(cat "$WORK/load_bad.json")"
fi
grep -q "feed.txt:3:" "$WORK/load_bad.json" || fail "broken feed not named: $(cat "$WORK/load_bad.json")"
gen=$(dp_query policy.status | jget "['generation']")
printf '# test feed\n192.0.2.99\n10.77.0.4   ; added\n' > "$WORK/feed.txt"
[ "$(get 10.77.0.4)" = 200 ] || fail "the feed file alone (no reload) changed the dataplane"
dp_load "$POL/allow-all.yaml" > "$WORK/load.json" || fail "reload: $(cat "$WORK/load.json")"
gen2=$(dp_query policy.status | jget "['generation']")
[ "$gen2" -gt "$gen" ] || fail "generation $gen2 after the reload, before $gen"
code=$(get 10.77.0.4)
[ "$code" = 000 ] || fail "10.77.0.4 is in the reloaded feed but HTTP got through ($code)"
[ "$(get 10.77.0.3)" = 200 ] || fail "10.77.0.3 is not in the feed but was blocked"
[ "$(counter drop_blocklist)" -ge 1 ] || fail "drop_blocklist did not count"
log "blocklist: broken feed refused (named), new entry blocks after the reload"
log "PASS"
