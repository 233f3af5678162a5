#!/usr/bin/env bash
# CI smoke run of the SNMP discovery + poll benchmark (20 simulated devices, one poll cycle).
set -euo pipefail
SMOKE=1 exec bash "$(dirname "$0")/run.sh"
