#!/usr/bin/env bash
# "Nothing acknowledged is lost" against the REAL cg-dataplane (issue 6): the dataplane bridges
# a classroom and an internet namespace (tests/integration/lib/netns.sh) and raises a
# blocklist_domain event for each of N DNS queries (one flow each) for a blocklisted name.
# cg-controld ingests them into SQLite and runs an alert rule that raises one alert per event.
#  1. controld is started after the first events were emitted (its first subscribe must get
#     them from the dataplane's backlog);
#  2. it is killed with SIGKILL in the middle of a burst (once it stored 600 events, or when that
#     burst ends on a slow machine); a second burst follows while it is away;
#  3. it is restarted: it resubscribes after the stream position it persisted, the dataplane
#     replays from its backlog, and its alert feed evaluates what was stored but not evaluated.
# Then every event the dataplane emitted (eve.json, and its stats counters) is in the store
# exactly once, and the alert rule saw each exactly once (one alert per event, each alert
# made of exactly one event).
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgingrt
source tests/integration/lib/netns.sh
BUILD="${CG_BUILD_DIR:-build}"
DP_BUILD="${DP_BUILD_DIR:-$BUILD}"
CONTROLD="$BUILD/bin/cg-controld"
[ -x "$DP_BUILD/bin/cg-dataplane" ] || fail "$DP_BUILD/bin/cg-dataplane not built"
[ -x "$CONTROLD" ] || fail "$CONTROLD not built"
N=${INGEST_EVENTS:-3000}
topo_up
printf '# test feed\n0.0.0.0 blocked.example\n' > "$WORK/feed.txt"
CG_BUILD_DIR="$DP_BUILD" dp_start "detect:
  blocklist: { files: [$WORK/feed.txt], action: block }
  policy_events: { per_source: 1000000 }
  events: { eve_file: $WORK/eve.json, backlog_kb: 16384 }"
log "dataplane up"

mkdir -p "$WORK/state"
cat > "$WORK/alerting.yaml" <<YAML
version: 1
delivery: { queue: $WORK/state/alerts.db }
channels:
  discard: { type: syslog, transport: udp, host: 127.0.0.1, port: 9 }
rules:
  - name: each
    match: { detector: blocklist_domain }
    group_by: [event_id]
    threshold: { count: 1, window: 5m }
    dedup: { key: [event_id], window: 1h }
    channels: [discard]
YAML
cat > "$WORK/controld.yaml" <<YAML
state_dir: $WORK/state
api: { listen: 127.0.0.1, port: 0 }
dataplane: { socket: $WORK/dataplane.sock }
events: { batch: 100, flush_ms: 50 }
alerting: { file: $WORK/alerting.yaml }
YAML
CONTROLD_PID=""
start_controld() {
  rm -f "$WORK/state/controld.port"
  "$CONTROLD" --config "$WORK/controld.yaml" 2>> "$WORK/controld.log" &
  CONTROLD_PID=$!
  for _ in $(seq 1 150); do
    [ -s "$WORK/state/controld.port" ] && return 0
    kill -0 "$CONTROLD_PID" 2>/dev/null || { cat "$WORK/controld.log" >&2; fail "cg-controld exited"; }
    sleep 0.1
  done
  fail "cg-controld did not come up"
}
stored() {
  python3 - "$WORK/state/controld.db" <<'PY'
import sqlite3, sys
try:
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
    print(db.execute("SELECT COUNT(*) FROM events WHERE event_type = 'alert'").fetchone()[0])
except sqlite3.Error:
    print(0)
PY
}
stat_of() { dp_query stats | python3 -c "import json,sys; print(json.load(sys.stdin)['counters'].get('$1', 0))"; }

# The burst: N DNS queries for www.blocked.example, each from its own source port (its own
# flow, so its own event), paced at about 500 per second.
cat > "$WORK/burst.py" <<PY
import socket, struct, sys, time
first, n = int(sys.argv[1]), int(sys.argv[2])
q = struct.pack('!HHHHHH', 0x4242, 0x0100, 1, 0, 0, 0)
for label in 'www.blocked.example'.split('.'):
    q += bytes([len(label)]) + label.encode()
q += b'\x00' + struct.pack('!HH', 1, 1)
t0 = time.monotonic()
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('$CL_IP', first + i))
    s.sendto(q, ('$NET_IP', 53))
    s.close()
    if i % 50 == 49:
        time.sleep(max(0.0, t0 + (i + 1) / 500.0 - time.monotonic()))
PY
in_cl python3 "$WORK/burst.py" 20000 300   # before controld exists: only the backlog has them
for _ in $(seq 1 50); do [ "$(stat_of events_stream_seq)" -ge 300 ] && break; sleep 0.1; done
[ "$(stat_of events_stream_seq)" -ge 300 ] || fail "the first 300 events were not emitted"
start_controld
A=$(((N - 300) / 2))
log "controld up (pid $CONTROLD_PID); burst of $A queries, killed in the middle of it"
in_cl python3 "$WORK/burst.py" 20300 $A &
BURST=$!
for _ in $(seq 1 300); do
  [ "$(stored)" -ge 600 ] && break
  kill -0 $BURST 2>/dev/null || break
  sleep 0.05
done
AT_KILL=$(stored)
kill -9 "$CONTROLD_PID"
wait "$CONTROLD_PID" 2>/dev/null || true
log "kill -9 of controld with $AT_KILL events stored, dataplane at stream_seq $(stat_of events_stream_seq)"
[ "$AT_KILL" -ge 300 ] || fail "controld stored only $AT_KILL events before the kill"
wait $BURST
log "$((N - 300 - A)) more queries while controld is away"
in_cl python3 "$WORK/burst.py" $((20300 + A)) $((N - 300 - A))
for _ in $(seq 1 50); do [ "$(stat_of events_drained)" -ge "$N" ] && break; sleep 0.1; done
AWAY=$(stat_of events_stream_seq)
log "burst done while controld was away: dataplane at stream_seq $AWAY"
[ "$AWAY" -gt "$AT_KILL" ] || fail "no events were emitted while controld was away"
start_controld
for _ in $(seq 1 600); do [ "$(stored)" -ge "$N" ] && break; sleep 0.1; done
log "after the restart: $(stored) events stored"
sleep 1  # let the feed and the stats settle; nothing more may arrive
kill -TERM "$CONTROLD_PID"
wait "$CONTROLD_PID" || fail "cg-controld did not stop cleanly"
dp_query stats > "$WORK/stats.json"
python3 - "$WORK" "$N" <<'PY' || { tail -n 20 "$WORK/controld.log" >&2; fail "exactly-once check"; }
import json, sqlite3, sys
work, n = sys.argv[1], int(sys.argv[2])
eve = [json.loads(l) for l in open(work + "/eve.json")]
emitted = [e["event_id"] for e in eve if e["event_type"] == "alert"]
assert not [e for e in eve if e["event_type"] == "overflow"], "the dataplane itself lost events"
c = json.load(open(work + "/stats.json"))["counters"]
db = sqlite3.connect(work + "/state/controld.db")
rows = [r[0] for r in db.execute("SELECT event_id FROM events WHERE event_type = 'alert'")]
print("dataplane: %d queries sent, %d events emitted (events_drained %d, stream_seq %d); "
      "resumes %d, replayed %d, backlog %d lines / %d bytes, backlog_lost %d"
      % (n, len(emitted), c["events_drained"], c["events_stream_seq"], c["events_resumes"],
         c["events_replayed"], c["events_backlog_lines"], c["events_backlog_bytes"],
         c["events_backlog_lost"]))
assert len(emitted) == n == c["events_drained"], "one event per blocked query"
assert len(rows) == len(set(rows)), "duplicate rows"
missing, extra = set(emitted) - set(rows), set(rows) - set(emitted)
assert not missing and not extra, ("missing", sorted(missing)[:5], "extra", sorted(extra)[:5])
assert c["events_resumes"] >= 1 and c["events_replayed"] >= 1, "controld did not resume"
assert c["events_backlog_lost"] == 0
state = dict(db.execute("SELECT key, value FROM state"))
pos = json.loads(state["events.stream_position"])
assert pos["seq"] == c["events_stream_seq"], (pos, c["events_stream_seq"])
alerts = sqlite3.connect(work + "/state/alerts.db")
bodies = [json.loads(r[0]) for r in alerts.execute("SELECT body FROM alerts")]
per_event = {}
for a in bodies:
    per_event[a["event"]["event_id"]] = per_event.get(a["event"]["event_id"], 0) + a["events"]
assert set(per_event) == set(emitted), ("alerts", len(per_event), "events", len(emitted))
assert all(v == 1 for v in per_event.values()), "an event was evaluated twice"
through = dict(alerts.execute("SELECT key, value FROM progress"))["events.evaluated_through"]
assert through == db.execute("SELECT MAX(id) FROM events").fetchone()[0]
print("store: each of the %d events exactly once; alert rule: %d alerts, one event each; "
      "alert engine evaluated through row %d" % (len(rows), len(bodies), through))
PY
log "PASS"
