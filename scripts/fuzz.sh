#!/usr/bin/env bash
# fuzz.sh [SECONDS] [TARGET...] - runs the libFuzzer targets of tests/fuzz/
# (pcap, plan, nic, costs, json, bitcode; default: all) for SECONDS each
# (default 60) in a clang-19 build with ASan and UBSan (build-fuzz/, or
# RSSKEY_FUZZ_BUILD_DIR). Seeds: tests/fuzz/seeds and regressions, the
# project's own files, and ../shared (tcpdump's corpus, the traces) when it
# exists. A crash leaves its input in build-fuzz/crashes/TARGET/: check it in
# as tests/fuzz/regressions/TARGET/NAME (ctest fuzz_replay_TARGET then runs
# it in every build), fix the reader, run again. Exit 1 when any target
# crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pcap plan nic costs json bitcode)
build=${RSSKEY_FUZZ_BUILD_DIR:-build-fuzz}
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang-19 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRSSKEY_FUZZ=ON -DRSSKEY_BENCH=OFF > "$build.configure.log" ||
    { cat "$build.configure.log"; exit 2; }
names=()
for t in "${targets[@]}"; do names+=("fuzz-$t"); done
cmake --build "$build" -j"$(nproc)" --target "${names[@]}" nf_bitcode > "$build.build.log" ||
    { tail -30 "$build.build.log"; exit 2; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
crashed=0
printf '%-8s %8s %10s %s\n' target seconds execs result
for t in "${targets[@]}"; do
    corpus="$build/corpus/$t" crashes="$build/crashes/$t"
    mkdir -p "$corpus" "$crashes"
    seeds=(tests/fuzz/seeds/$t tests/fuzz/regressions/$t)
    case $t in
    pcap) seeds+=(traces/demo ../shared/corpus/tcpdump-tests) ;;
    costs) seeds+=(sim/costs) ;;
    bitcode) seeds+=(tests/analysis/nfs "$build/nfs") ;;
    esac
    existing=()
    for s in "${seeds[@]}"; do [ -e "$s" ] && existing+=("$s"); done
    log="$build/fuzz-$t.log" rc=0
    "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -artifact_prefix="$crashes/" \
        -timeout=20 -rss_limit_mb=4096 "$corpus" "${existing[@]}" > "$log" 2>&1 || rc=$?
    execs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' || true)
    if [ "$rc" = 0 ]; then
        printf '%-8s %8s %10s %s\n' "$t" "$seconds" "${execs:-?}" ok
    else
        crashed=1
        printf '%-8s %8s %10s %s\n' "$t" "$seconds" "${execs:-?}" \
            "CRASH (exit $rc): $(ls "$crashes" | head -1); see $log"
    fi
done
exit $crashed
