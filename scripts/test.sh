#!/usr/bin/env bash
# The test command (README.md, .ci/run): installs what is needed, then builds
# and runs every test twice: a normal build and one with AddressSanitizer and
# UBSan; then every libFuzzer target for 30 s (scripts/fuzz.sh; a crash fails
# the run). Build trees: build/, build-asan/ and build-fuzz/ (override with
# RSSKEY_BUILD_DIR). RSSKEY_FUZZ_SECONDS=0 skips the fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

jobs=$(nproc)
run_suite() {
    local dir=$1 skip=$2; shift 2
    echo "== configure $dir ($*)"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRSSKEY_BENCH=ON "$@" > "$dir.configure.log" \
        || { cat "$dir.configure.log"; return 1; }
    echo "== build $dir"
    cmake --build "$dir" -j"$jobs"
    echo "== test $dir"
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 600 ${skip:+-LE "$skip"}
}

base=${RSSKEY_BUILD_DIR:-build}
mkdir -p "$base" "$base-asan"
run_suite "$base" ""
# Sanitizers: leaks are checked too; DPDK's EAL keeps its memory until exit,
# so LeakSanitizer is told which of its allocations are expected.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Tests labelled no_sanitizer (time spent in Chromium, compilers, or a second
# path through code another test already runs sanitised) run in the first suite only.
run_suite "$base-asan" no_sanitizer -DRSSKEY_SANITIZE=ON -DRSSKEY_BENCH=OFF
# Fuzzing: each target of tests/fuzz for 30 s in a clang-19 build of the
# fuzz targets and what they link (logs in build-fuzz/fuzz-*.log).
fuzz_seconds=${RSSKEY_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" != 0 ]; then
    echo "== fuzz $base-fuzz (${fuzz_seconds} s per target)"
    start=$SECONDS
    rc=0
    RSSKEY_FUZZ_BUILD_DIR=$base-fuzz bash scripts/fuzz.sh "$fuzz_seconds" || rc=$?
    echo "== fuzz done in $((SECONDS - start)) s (exit $rc)"
    exit "$rc"
fi
