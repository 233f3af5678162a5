#!/usr/bin/env bash
# controld_test.py against the REAL cg-dataplane: the dataplane bridges a classroom and an
# internet namespace (tests/integration/lib/netns.sh) and controld drives it over its control
# socket. A ping (every 20 ms) crosses the dataplane during every apply, the kill -9 of controld
# and the automatic revert, and must lose nothing; then the dataplane is restarted and controld
# must push the current revision back.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=cgctlrt
source tests/integration/lib/netns.sh
BUILD="${CG_BUILD_DIR:-build}"
# cg-dataplane may come from another build dir (DP_BUILD_DIR) than controld and cgctl.
DP_BUILD="${DP_BUILD_DIR:-$BUILD}"
[ -x "$DP_BUILD/bin/cg-dataplane" ] || fail "$DP_BUILD/bin/cg-dataplane not built"
topo_up
CG_BUILD_DIR="$DP_BUILD" dp_start
log "dataplane up; policy.status: $(CG_BUILD_DIR="$DP_BUILD" dp_query policy.status)"
# How controld_test.py restarts the dataplane (same config, same socket) and pings across it.
cat > "$WORK/dp_restart.sh" <<SH
#!/usr/bin/env bash
ip netns pids "$NS_CG" | xargs -r kill
for _ in \$(seq 1 50); do [ -z "\$(ip netns pids "$NS_CG")" ] && break; sleep 0.1; done
rm -f "$WORK/dataplane.sock"
ip netns exec "$NS_CG" "$DP_BUILD/bin/cg-dataplane" --config "$WORK/dataplane.yaml" \
  >> "$WORK/dataplane.out" 2>> "$WORK/dataplane.err" &
for _ in \$(seq 1 100); do
  "$DP_BUILD/bin/cg-dataplane" --query health --socket "$WORK/dataplane.sock" >/dev/null 2>&1 && exit 0
  sleep 0.2
done
exit 1
SH
chmod +x "$WORK/dp_restart.sh"
in_cl ping -c 3 -W 2 "$NET_IP" >/dev/null || fail "no ping through the dataplane before the test"
DP_SOCKET="$WORK/dataplane.sock" DP_RESTART="$WORK/dp_restart.sh" \
  PING_CMD="ip netns exec $NS_CL ping -i 0.02 -W 2 $NET_IP" \
  python3 tests/integration/controlplane/controld_test.py "$BUILD" "$PWD"
log "PASS"
