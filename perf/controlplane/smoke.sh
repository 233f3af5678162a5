#!/usr/bin/env bash
# CI smoke run of the controld store benchmark: 20 000 bulk-loaded + 5000 ingested events into
# SQLite and PostgreSQL (the 10 M run is documented in README.md; it takes many minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
"${CG_BUILD_DIR:-build}/bin/perf/controld_store_bench" --preload 20000 --events 5000 --batch 500 \
  --queries 20
