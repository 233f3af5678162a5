#!/usr/bin/env bash
# CI smoke run of the controld store benchmark: 5000 events into SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/../.."
"${CG_BUILD_DIR:-build}/bin/perf/controld_store_bench" --events 5000 --batch 500 --queries 20
