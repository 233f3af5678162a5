#!/usr/bin/env bash
# Many-device discovery + poll cycles against snmpsim on 127.0.0.1: DEVICES simulated devices
# (copies of real recordings from ../shared/snmp, one community each), discovered PARALLEL at a
# time, then POLL_CYCLES full poll cycles. Prints wall time and requests/s (snmp_discovery_bench).
# snmpsim itself (Python, one process) is the bottleneck on a small machine: the figures are a
# floor for campusguard, measured with the peer in the same run. SMOKE=1: 20 devices, 1 cycle.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CG_BUILD_DIR:-build}/bin
DEVICES=${DEVICES:-500}
PARALLEL=${PARALLEL:-32}
POLL_CYCLES=${POLL_CYCLES:-2}
[ "${SMOKE:-0}" = 1 ] && DEVICES=20 && POLL_CYCLES=1 && PARALLEL=8
# Small and mid-size recordings (switches and an AP from several vendors); every simulated device
# is one of them under its own community.
RECS=(tplink_sg2008 unifi_nanohd routeros_crs317 jetstream_vlans routeros zxr10_5928
      fs-switch_s3900 edgeswitch_usw-flex-xg)
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/data" "$work/cache"
communities=()
for ((i = 0; i < DEVICES; i++)); do
  rec=${RECS[$((i % ${#RECS[@]}))]}
  name=$(printf 'dev%04d' "$i")
  ln -s "$(realpath ../shared/snmp/$rec.snmprec)" "$work/data/$name.snmprec"
  communities+=("$name")
done
chmod -R a+rX "$work"
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user_args=()
if [ "$(id -u)" = 0 ]; then
  chown nobody:nogroup "$work/cache"
  user_args=(--process-user=nobody --process-group=nogroup)
fi
t0=$(date +%s.%N)
snmpsimd --data-dir="$work/data" --cache-dir="$work/cache" \
  --agent-udpv4-endpoint=127.0.0.1:$port "${user_args[@]}" >"$work/snmpsim.log" 2>&1 &
pid=$!
# snmpsim indexes every file before answering; wait for the last device.
for _ in $(seq 1 1200); do
  if snmpget -v2c -c "${communities[-1]}" -t 1 -r 0 127.0.0.1:$port 1.3.6.1.2.1.1.2.0 \
      >/dev/null 2>&1; then break; fi
  sleep 0.5
done
t1=$(date +%s.%N)
echo "snmpsim: $DEVICES devices ready in $(python3 -c "print(round($t1 - $t0, 1))") s (indexing, not measured)"
"$BIN/perf/snmp_discovery_bench" --port "$port" --parallel "$PARALLEL" \
  --poll-cycles "$POLL_CYCLES" "${communities[@]}"
