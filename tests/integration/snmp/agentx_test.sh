#!/usr/bin/env bash
# cg-agentx under a real snmpd master (private AgentX socket, loopback port, temp dir: no system
# snmpd configuration is read or touched) in front of a real cg-dataplane inline between two
# namespaces. agentx_check.py then walks CAMPUSGUARD-MIB and compares it with the dataplane's
# own socket replies, moves traffic, and stops the dataplane. RUN_SERIAL: namespaces.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgax
source tests/integration/lib/netns.sh
BIN="${CG_BUILD_DIR:-build}/bin"
for tool in snmpd snmpwalk snmpget; do
  command -v "$tool" >/dev/null || fail "$tool missing (apt packages in scripts/deps/snmp.txt)"
done
[ -x "$BIN/cg-agentx" ] || fail "$BIN/cg-agentx not built"
SNMPD_PID=""
AX_PID=""
cleanup() {  # the subagent first: it closes its AgentX session while the master is still there
  for p in $AX_PID $SNMPD_PID; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  topo_down
}
topo_up
trap cleanup EXIT
dp_start
dp_load tests/integration/snmp/agentx_policy.yaml > "$WORK/load.json" \
  || { cat "$WORK/load.json"; fail "policy load"; }
log "dataplane up, policy loaded"

PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$WORK/snmpd.conf" <<CONF
master agentx
agentXSocket unix:$WORK/agentx.sock
agentXPerms 0600 0700
rocommunity cgax-public 127.0.0.1
CONF
mkdir -p "$WORK/snmp-state"
# -C: only our config file; SNMP_PERSISTENT_DIR keeps its state in the temp dir; no MIB files.
snmpd_start() {
  SNMP_PERSISTENT_DIR="$WORK/snmp-state" MIBS="" MIBDIRS="" /usr/sbin/snmpd -f -C \
    -c "$WORK/snmpd.conf" -Lf "$WORK/snmpd.log" -p "$WORK/snmpd.pid" "udp:127.0.0.1:$PORT" &
  SNMPD_PID=$!
  for _ in $(seq 1 50); do [ -S "$WORK/agentx.sock" ] && return 0; sleep 0.1; done
  cat "$WORK/snmpd.log"
  fail "snmpd did not open its AgentX socket"
}
snmpd_start
"$BIN/cg-agentx" --master "$WORK/agentx.sock" --dataplane-socket "$WORK/dataplane.sock" \
  --interval 1 --agentx-ping 1 > "$WORK/agentx.log" 2>&1 &
AX_PID=$!
log "snmpd on 127.0.0.1:$PORT, cg-agentx started"

export WORK PORT BIN NS_CL NS_NET CL_IP NET_IP DP_PID AX_PID
python3 tests/integration/snmp/agentx_check.py || {
  echo "--- cg-agentx log"; cat "$WORK/agentx.log"; echo "--- snmpd log"; tail -20 "$WORK/snmpd.log"
  fail "agentx checks"
}
# The master restarts: cg-agentx registers again (it retries every --agentx-ping second).
kill "$SNMPD_PID"
wait "$SNMPD_PID" || true
rm -f "$WORK/agentx.sock"
snmpd_start
ok=0
for _ in $(seq 1 50); do
  if MIBS="" snmpget -v2c -c cgax-public -On -t 1 -r 0 "127.0.0.1:$PORT" \
      .1.3.6.1.4.1.32473.1.1.1.0 2>/dev/null | grep -q "INTEGER: 2"; then ok=1; break; fi
  sleep 0.2
done
[ "$ok" = 1 ] || { cat "$WORK/agentx.log"; fail "cg-agentx did not register again after snmpd restarted"; }
log "snmpd restarted: cg-agentx registered again (status unreachable(2): dataplane stopped)"

kill "$AX_PID"
rc=0
wait "$AX_PID" || rc=$?
AX_PID=""
[ "$rc" -eq 0 ] || { cat "$WORK/agentx.log"; fail "cg-agentx exited with $rc on SIGTERM"; }
! grep -q "assert" "$WORK/agentx.log" || { cat "$WORK/agentx.log"; fail "net-snmp assertion in cg-agentx"; }
log "cg-agentx stopped cleanly on SIGTERM"
log "PASS"
