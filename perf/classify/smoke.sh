#!/usr/bin/env bash
# CI smoke run of the classification benchmark (one copy of the corpus, one run).
set -euo pipefail
SMOKE=1 exec bash "$(dirname "$0")/run.sh"
