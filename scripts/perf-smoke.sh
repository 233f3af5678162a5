#!/usr/bin/env bash
# Runs every benchmark in smoke mode (tiny sizes, one repetition) so CI proves they still run.
# Full runs: see perf/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
for s in perf/*/smoke.sh; do
  echo "perf smoke: $s"
  bash "$s"
done
