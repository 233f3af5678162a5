#!/usr/bin/env bash
# CI smoke run of the policy pipeline benchmark (one corpus copy, 100 and 1,000 rules, one run).
set -euo pipefail
SMOKE=1 exec bash "$(dirname "$0")/run.sh"
