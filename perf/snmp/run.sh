#!/usr/bin/env bash
# Many-device discovery + poll cycles against snmpsim on 127.0.0.1: DEVICES simulated devices
# (copies of real recordings from ../shared/snmp, one community each) spread over SIMS snmpsim
# processes, discovered PARALLEL at a time, then POLL_CYCLES full poll cycles. Prints wall time
# and requests/s (snmp_discovery_bench). snmpsim (Python, one core per process) is the
# bottleneck on a small machine: the figures are a floor for campusguard, measured with the peer
# in the same run. SMOKE=1: 8 devices, 1 cycle.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CG_BUILD_DIR:-build}/bin
DEVICES=${DEVICES:-500}
PARALLEL=${PARALLEL:-32}
POLL_CYCLES=${POLL_CYCLES:-2}
SIMS=${SIMS:-2}
[ "${SMOKE:-0}" = 1 ] && DEVICES=8 && POLL_CYCLES=1 && PARALLEL=8 && SIMS=1
# Small and mid-size recordings (switches and an AP from several vendors); every simulated device
# is one of them under its own community.
RECS=(tplink_sg2008 unifi_nanohd routeros_crs317 jetstream_vlans routeros zxr10_5928
      fs-switch_s3900 edgeswitch_usw-flex-xg)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
communities=()
for ((s = 0; s < SIMS; s++)); do mkdir -p "$work/data$s" "$work/cache$s"; done
# Device i lives in snmpsim process i mod SIMS (the bench's --port rule).
for ((i = 0; i < DEVICES; i++)); do
  rec=${RECS[$((i % ${#RECS[@]}))]}
  name=$(printf 'dev%04d' "$i")
  ln -s "$(realpath ../shared/snmp/$rec.snmprec)" "$work/data$((i % SIMS))/$name.snmprec"
  communities+=("$name")
done
chmod -R a+rX "$work"
user_args=()
[ "$(id -u)" = 0 ] && user_args=(--process-user=nobody --process-group=nogroup)
ports=()
t0=$(date +%s.%N)
for ((s = 0; s < SIMS; s++)); do
  port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  ports+=("$port")
  [ "$(id -u)" = 0 ] && chown nobody:nogroup "$work/cache$s"
  snmpsimd --data-dir="$work/data$s" --cache-dir="$work/cache$s" \
    --agent-udpv4-endpoint=127.0.0.1:$port "${user_args[@]}" >"$work/snmpsim$s.log" 2>&1 &
  pids+=($!)
done
# snmpsim indexes its files before answering; wait for the last device of each process.
for ((s = 0; s < SIMS; s++)); do
  last=${communities[$(( (DEVICES - 1) - ((DEVICES - 1 - s) % SIMS) ))]}
  for _ in $(seq 1 1200); do
    if snmpget -v2c -c "$last" -t 1 -r 0 "127.0.0.1:${ports[$s]}" 1.3.6.1.2.1.1.2.0 \
        >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
done
t1=$(date +%s.%N)
echo "snmpsim: $DEVICES devices in $SIMS processes ready in $(python3 -c "print(round($t1 - $t0, 1))") s (indexing, not measured)"
"$BIN/perf/snmp_discovery_bench" --port "$(IFS=,; echo "${ports[*]}")" --parallel "$PARALLEL" \
  --poll-cycles "$POLL_CYCLES" "${communities[@]}"
