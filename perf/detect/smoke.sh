#!/usr/bin/env bash
# CI smoke run of the detection / export benchmarks: they build, run and print their figures.
set -euo pipefail
SMOKE=1 exec bash "$(dirname "$0")/run.sh"
