# Shared helpers for integration tests: a "classroom" host and an "internet" host in their own
# network namespaces, joined only through cg-dataplane running in a third namespace.
#
#   classroom ns: cl0 10.77.0.1/24 ─ veth ─ cgin  ┐
#                                                ├─ cg ns: cg-dataplane bridges cgin <-> cgout
#   internet ns:  in0 10.77.0.2/24 ─ veth ─ cgout ┘
#
# Source it, set PREFIX (unique per test so tests can run in parallel), call topo_up; the EXIT
# trap tears everything down. Only addresses inside these namespaces are ever used.

: "${PREFIX:=cgt}"
NS_CL="${PREFIX}-classroom"
NS_NET="${PREFIX}-internet"
NS_CG="${PREFIX}-cg"
CL_IP=10.77.0.1
NET_IP=10.77.0.2
CL_IP6=fd77::1
NET_IP6=fd77::2
DP_PID=""
WORK=$(mktemp -d "/tmp/${PREFIX}.XXXXXX")

log() { echo "[$(date +%T)] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

topo_down() {
  if [ -n "$DP_PID" ] && kill -0 "$DP_PID" 2>/dev/null; then
    kill "$DP_PID" 2>/dev/null; sleep 1; kill -9 "$DP_PID" 2>/dev/null || true
  fi
  for ns in "$NS_CL" "$NS_NET" "$NS_CG"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  if [ "${KEEP_WORK:-0}" != 1 ]; then rm -rf "$WORK"; fi
}

topo_up() {
  [ "$(id -u)" -eq 0 ] || fail "integration tests need root (network namespaces, DPDK)"
  trap topo_down EXIT
  topo_down_quiet() { for ns in "$NS_CL" "$NS_NET" "$NS_CG"; do ip netns del "$ns" 2>/dev/null || true; done; }
  topo_down_quiet
  ip netns add "$NS_CL"; ip netns add "$NS_NET"; ip netns add "$NS_CG"
  ip link add cl0 netns "$NS_CL" type veth peer name cgin netns "$NS_CG"
  ip link add in0 netns "$NS_NET" type veth peer name cgout netns "$NS_CG"
  ip -n "$NS_CL" addr add "$CL_IP/24" dev cl0
  ip -n "$NS_NET" addr add "$NET_IP/24" dev in0
  ip -n "$NS_CL" addr add "$CL_IP6/64" dev cl0 nodad
  ip -n "$NS_NET" addr add "$NET_IP6/64" dev in0 nodad
  for pair in "$NS_CL cl0" "$NS_NET in0" "$NS_CG cgin" "$NS_CG cgout"; do
    set -- $pair
    ip -n "$1" link set "$2" up
    # Partial checksums would leave the veth unfinished through AF_PACKET: TCP breaks.
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null 2>&1 || true
  done
  ip -n "$NS_CL" link set lo up; ip -n "$NS_NET" link set lo up; ip -n "$NS_CG" link set lo up
}

# dp_start [extra yaml lines]: writes the config and starts cg-dataplane in the cg namespace.
# DP_WORKERS, DP_INSIDE, DP_OUTSIDE, DP_LCORES (a YAML list) override the defaults;
# DP_CONTROL_EXTRA adds keys to the control: map, DP_ARGS adds command-line arguments.
dp_start() {
  local bin="${CG_BUILD_DIR:-build}/bin/cg-dataplane"
  cat > "$WORK/dataplane.yaml" <<YAML
ports:
  inside: ${DP_INSIDE:-net_af_packet0,iface=cgin}
  outside: ${DP_OUTSIDE:-net_af_packet1,iface=cgout}
workers: ${DP_WORKERS:-1}
flow_table: { capacity: 65536 }
eal: { memory_mb: 512, file_prefix: ${PREFIX}${DP_LCORES:+, lcores: $DP_LCORES} }
control: { socket: $WORK/dataplane.sock${DP_CONTROL_EXTRA:+, $DP_CONTROL_EXTRA} }
${1:-}
YAML
  # shellcheck disable=SC2086
  ip netns exec "$NS_CG" "$bin" --config "$WORK/dataplane.yaml" ${DP_ARGS:-} > "$WORK/dataplane.out" \
    2> "$WORK/dataplane.err" &
  DP_PID=$!
  for _ in $(seq 1 100); do
    [ -S "$WORK/dataplane.sock" ] && "$bin" --query health --socket "$WORK/dataplane.sock" \
      >/dev/null 2>&1 && return 0
    kill -0 "$DP_PID" 2>/dev/null || { cat "$WORK/dataplane.err" >&2; fail "cg-dataplane exited"; }
    sleep 0.2
  done
  cat "$WORK/dataplane.err" >&2
  fail "cg-dataplane did not come up"
}

dp_load() { "${CG_BUILD_DIR:-build}/bin/cg-dataplane" --load "$1" --socket "$WORK/dataplane.sock"; }
dp_query() { "${CG_BUILD_DIR:-build}/bin/cg-dataplane" --query "$@" --socket "$WORK/dataplane.sock"; }
# dp_set_clock SECONDS: the timetable clock offset (needs control.allow_clock_offset: true)
dp_set_clock() { dp_query clock.offset --arg "seconds=$1" >/dev/null || fail "clock.offset $1"; }
in_cl() { ip netns exec "$NS_CL" "$@"; }
in_net() { ip netns exec "$NS_NET" "$@"; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }

# Rates in the policer's unit, bytes on the wire (whole Ethernet frames): iperf3 and curl report
# payload, and on these veths (MTU 1500, TCP timestamps) a full segment carries 1448 payload
# bytes in a 1514-byte frame, so wire = payload x 1514/1448 (+4.6%).
wire() { python3 -c "import sys; print(round(float(sys.argv[1]) * 1514 / 1448, 2))" "$1"; }
# iperf_wire_mbit FILE: an iperf3 --json result (client side, -R or not) as wire Mbit/s received,
# the first second (slow start: not what a rate limit decides) left out.
iperf_wire_mbit() {
  python3 - "$1" <<'PY'
import json, sys
iv = [i["sum"]["bits_per_second"] for i in json.load(open(sys.argv[1]))["intervals"]][1:]
print(round(sum(iv) / len(iv) * 1514 / 1448 / 1e6, 2))
PY
}
within() {  # within VALUE TARGET PERCENT: exit 0 when |VALUE - TARGET| <= PERCENT of TARGET
  python3 -c "import sys; v, t, p = map(float, sys.argv[1:]); sys.exit(0 if abs(v - t) <= t * p / 100 else 1)" "$@"
}
