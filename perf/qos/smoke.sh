#!/usr/bin/env bash
# CI smoke run of the QoS benchmark: proves it builds, runs and prints its figures.
set -euo pipefail
SMOKE=1 exec bash "$(dirname "$0")/run.sh"
