#!/usr/bin/env bash
# Quarantine end to end: real cg-controld + real cgctl + the real cg-dataplane bridging a
# classroom and an internet namespace (tests/integration/lib/netns.sh). controld runs inside the
# dataplane's namespace with management.nftables on, so its nftables table lives there (never on
# the host). Checks: `cgctl quarantine add` blocks the host at once (ping through the dataplane
# fails, another client's passes; the nft quarantine set holds it), `list` shows owner, reason
# and expiry, a short --for lifts it by itself, `remove` lifts at once, a restarted dataplane
# gets the list back, and `cgctl audit verify` passes with add / expire / remove recorded.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgqctl
source tests/integration/lib/netns.sh
BUILD="${CG_BUILD_DIR:-build}"
DP_BUILD="${DP_BUILD_DIR:-$BUILD}"  # cg-dataplane may come from another build dir
for b in "$BUILD/bin/cg-controld" "$BUILD/bin/cgctl" "$DP_BUILD/bin/cg-dataplane"; do
  [ -x "$b" ] || fail "$b not built"
done
command -v nft >/dev/null || fail "nft (Debian package nftables) is needed to inspect the ruleset"
topo_up
ip -n "$NS_CL" addr add 10.77.0.3/24 dev cl0
CG_BUILD_DIR="$DP_BUILD" dp_start
log "dataplane up"

STATE="$WORK/state"
mkdir -p "$STATE"
cat > "$WORK/controld.yaml" <<YAML
state_dir: $STATE
api: { listen: 127.0.0.1, port: 0 }
dataplane: { socket: $WORK/dataplane.sock, reconcile_interval: 0.2 }
events: { subscribe: false }
auth: { argon2_opslimit: 1, argon2_memlimit_kib: 8192 }
management: { nftables: true, admin_subnets: "127.0.0.0/8, 10.77.0.0/24", https_ports: "8443" }
YAML
in_cg() { ip netns exec "$NS_CG" "$@"; }
for u in "sec secadmin" "aud auditor"; do
  set -- $u
  echo "password for $1" | in_cg "$BUILD/bin/cg-controld" --config "$WORK/controld.yaml" \
    --add-user "$1" --role "$2" >/dev/null || fail "add-user $1"
done
in_cg "$BUILD/bin/cg-controld" --config "$WORK/controld.yaml" 2> "$WORK/controld.err" &
CTL_PID=$!
trap 'kill $CTL_PID 2>/dev/null || true; topo_down' EXIT
for _ in $(seq 1 100); do [ -s "$STATE/controld.port" ] && break; sleep 0.1; done
[ -s "$STATE/controld.port" ] || { cat "$WORK/controld.err"; fail "controld did not start"; }
BASE="https://127.0.0.1:$(cat "$STATE/controld.port")"
export CGCTL_CONFIG="$WORK/cgctl.json"
cgctl() { in_cg "$BUILD/bin/cgctl" "$@"; }
login() { echo "password for $1" | cgctl login --server "$BASE" --cacert "$STATE/tls/cert.pem" \
            --user "$1" >/dev/null || fail "login $1"; }
login sec
nft_quarantine() { in_cg nft -j list set inet campusguard quarantine4 | python3 -c '
import json, sys
d = json.load(sys.stdin)
for o in d["nftables"]:
    if "set" in o:
        print(" ".join(sorted(e["elem"]["val"] if isinstance(e, dict) else e for e in o["set"].get("elem", []))))'; }
ping_ok() { in_cl ping -n -q -c 2 -i 0.2 -W 1 -I "$1" "$NET_IP" >/dev/null 2>&1; }

in_cg nft list table inet campusguard > "$WORK/ruleset0.txt" || fail "controld did not create its table"
grep -q "ip saddr @admin4 accept" "$WORK/ruleset0.txt" || fail "no management rules: $(cat "$WORK/ruleset0.txt")"
ping_ok "$CL_IP" || fail "no ping through the dataplane before the test"

# --- add: blocks at once ---------------------------------------------------------------------
cgctl -o json quarantine add "$CL_IP" --for 8s --reason "integration test" > "$WORK/add.json" \
  || fail "quarantine add: $(cat "$WORK/add.json")"
python3 - "$WORK/add.json" <<'PY' || fail "quarantine add answer"
import json, sys
a = json.load(open(sys.argv[1]))
assert a["address"] == "10.77.0.1" and a["owner"] == "sec", a
assert a["pushed"] == {"dataplane": "ok", "nftables": "ok"}, a
PY
cgctl -o json quarantine list > "$WORK/list.json"
python3 - "$WORK/list.json" <<'PY' || fail "quarantine list: $(cat "$WORK/list.json")"
import json, sys
e = json.load(open(sys.argv[1]))["entries"]
assert len(e) == 1 and e[0]["address"] == "10.77.0.1" and e[0]["owner"] == "sec", e
assert e[0]["reason"] == "integration test" and e[0]["expires"] > e[0]["since"], e
PY
ping_ok "$CL_IP" && fail "the quarantined host's ping got through"
ping_ok 10.77.0.3 || fail "another client's ping failed"
[ "$(nft_quarantine)" = "10.77.0.1" ] || fail "nft quarantine set: '$(nft_quarantine)'"
log "quarantine add: blocked at once (dataplane and nft set), list shows owner and expiry"

# --- expiry lifts it by itself ----------------------------------------------------------------
lifted=0
for _ in $(seq 1 100); do
  if [ "$(cgctl -o json quarantine list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))')" = 0 ]; then
    lifted=1; break
  fi
  sleep 0.2
done
[ "$lifted" = 1 ] || fail "the 8 s quarantine did not expire"
ping_ok "$CL_IP" || fail "ping still blocked after expiry"
[ -z "$(nft_quarantine)" ] || fail "nft set after expiry: '$(nft_quarantine)'"
log "expired by itself: ping passes again, nft set empty"

# --- remove, and a dataplane restart gets the list back -----------------------------------------
cgctl quarantine add 10.77.0.3 --for 2h --reason "second" >/dev/null || fail "add 10.77.0.3"
ping_ok 10.77.0.3 && fail "10.77.0.3 not blocked"
kill "$DP_PID"
for _ in $(seq 1 50); do kill -0 "$DP_PID" 2>/dev/null || break; sleep 0.1; done
rm -f "$WORK/dataplane.sock"
CG_BUILD_DIR="$DP_BUILD" dp_start
restored=0
for _ in $(seq 1 50); do
  if CG_BUILD_DIR="$DP_BUILD" dp_query quarantine.status | grep -q '10.77.0.3'; then restored=1; break; fi
  sleep 0.2
done
[ "$restored" = 1 ] || fail "controld did not push the quarantine to the restarted dataplane"
ping_ok 10.77.0.3 && fail "10.77.0.3 not blocked after the dataplane restart"
cgctl quarantine remove 10.77.0.3 >/dev/null || fail "quarantine remove"
ping_ok 10.77.0.3 || fail "10.77.0.3 still blocked after remove"
log "remove lifts at once; a restarted dataplane got the list back"

# --- audit --------------------------------------------------------------------------------------
login aud
cgctl audit verify > "$WORK/verify.txt" || fail "audit verify: $(cat "$WORK/verify.txt")"
cgctl -o json audit list --limit 1000 > "$WORK/audit.json"
python3 - "$WORK/audit.json" <<'PY' || fail "audit records"
import json, sys
acts = [(r["action"], r["object"], r["user"]) for r in json.load(open(sys.argv[1]))["records"]]
for want in [("quarantine.add", "10.77.0.1", "sec"), ("quarantine.expire", "10.77.0.1", "controld"),
             ("quarantine.add", "10.77.0.3", "sec"), ("quarantine.remove", "10.77.0.3", "sec")]:
    assert want in acts, (want, acts)
PY
log "audit: add / expire / remove recorded, chain verified"
log "PASS"
