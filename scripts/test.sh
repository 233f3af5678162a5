#!/usr/bin/env bash
# Sets up, builds and runs the whole campusguard test suite (run as root: the integration tests
# create network namespaces and run DPDK). This is what CI runs (.ci/run).
#
#   1. release build: every test label (unit, pcap, integration, fuzz seeds) + perf smoke
#   2. ASan+UBSan build: every test except integration (real DPDK between namespaces)
#   3. clang libFuzzer build: every fuzz target runs briefly on its seed corpus
#
# Environment: CG_FUZZ_SECONDS (default 20 per target), CG_SKIP_ASAN=1, CG_SKIP_FUZZ=1.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
stage() { echo; echo "=== $* ($(( $(date +%s) - start ))s)"; }

stage setup
scripts/setup.sh

stage "release build"
scripts/build.sh release

stage "release tests"
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 900)

stage "perf smoke"
scripts/perf-smoke.sh

if [ "${CG_SKIP_ASAN:-0}" != 1 ]; then
  stage "sanitizer build"
  scripts/build.sh asan
  stage "sanitizer tests"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$(nproc)" -LE integration --timeout 1800)
fi

if [ "${CG_SKIP_FUZZ:-0}" != 1 ]; then
  stage "fuzz build"
  scripts/build.sh fuzz
  stage "fuzz run"
  secs=${CG_FUZZ_SECONDS:-20}
  for f in build-fuzz/fuzz/fuzz_*; do
    name=$(basename "$f")
    corpus=tests/fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
    echo "fuzz: $name for ${secs}s"
    "$f" -max_total_time="$secs" -print_final_stats=1 "$work" 2>&1 | tail -n 3
    rm -rf "$work"
  done
fi
stage "all stages passed"
