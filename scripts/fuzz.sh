#!/usr/bin/env bash
# fuzz.sh [SECONDS] [TARGET...] - runs the libFuzzer targets of tests/fuzz/
# (pcap, plan, nic, costs, json, bitcode, launcher; default: all) for SECONDS
# each (default 60) in a clang-19 build with ASan and UBSan (build-fuzz/, or
# RSSKEY_FUZZ_BUILD_DIR). Seeds: tests/fuzz/seeds and regressions, the
# project's own files, and ../shared (tcpdump's corpus, the traces) when it
# exists. Prints one row per target: executions, executions per second, the
# coverage reached (libFuzzer's final cov: edges and ft: features) and the
# result; each libFuzzer log is build-fuzz/fuzz-TARGET.log. A crash leaves its
# input in build-fuzz/crashes/TARGET/: check it in as
# tests/fuzz/regressions/TARGET/NAME (ctest fuzz_replay_TARGET then runs it in
# every build), fix the reader, run again. The bitcode target's inputs that
# only make LLVM's own reader fail in the analysis child are moved to
# build-fuzz/contained/bitcode/ (see contained below). Exit 1 when any target
# crashed, 2 when the build failed. scripts/test.sh runs it for 30 s (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pcap plan nic costs json bitcode launcher)
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
# The bitcode target: LLVM's bitcode reader reads out of bounds on some
# corrupt files (tests/fuzz/README.md), inside the analysis child, which
# exists for that: the parent reports the file as corrupt. libFuzzer's
# handlers, inherited by the child, still save such an input as a crash.
# contained LOG PID prints the inputs of sanitizer reports from another
# process than libFuzzer's (PID) whose first frame with a location is in
# libLLVM; anything else (a project frame first, the parent, a timeout, a
# leak, UBSan) stays a crash.
contained() {
    awk -v main="$2" '
        /^==[0-9]+==ERROR: AddressSanitizer/ {
            split($0, a, "=="); pid = a[2]; top = ""; report = 1; next
        }
        report && top == "" && /^ *#[0-9]+ / {
            if ($0 ~ /libLLVM[^ ]*\.so/) top = "llvm"
            else if ($0 ~ / \/[^ ]*:[0-9]+(:[0-9]+)?$/) top = "project"
        }
        /Test unit written to / {
            if (report && top == "llvm" && pid != main) print $NF
            report = 0
        }' "$1"
}
row() { printf '%-8s %7s %10s %8s %6s %7s  %s\n' "$@"; }
row target seconds execs exec/s cov ft result
for t in "${targets[@]}"; do
    corpus="$build/corpus/$t" crashes="$build/crashes/$t"
    mkdir -p "$corpus" "$crashes"
    seeds=(tests/fuzz/seeds/$t tests/fuzz/regressions/$t)
    timeout=20
    case $t in
    pcap) seeds+=(traces/demo ../shared/corpus/tcpdump-tests) ;;
    costs) seeds+=(sim/costs) ;;
    bitcode)
        # The analysis child has a 30 s deadline (LLVM loops on some corrupt
        # bitcode): an input reaching it is handled, so libFuzzer waits
        # longer. regressions/bitcode (that loop) is left to ctest's replay:
        # here it would take 30 s of every run.
        seeds=(tests/fuzz/seeds/$t tests/analysis/nfs "$build/nfs")
        timeout=40 ;;
    launcher) seeds+=(tests/fuzz/seeds/plan) ;;
    esac
    existing=()
    for s in "${seeds[@]}"; do [ -e "$s" ] && existing+=("$s"); done
    log="$build/fuzz-$t.log" rc=0
    touch "$build/fuzz-$t.start"        # crash inputs newer than this are this run's
    "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -artifact_prefix="$crashes/" \
        -timeout=$timeout -rss_limit_mb=4096 -print_final_stats=1 "$corpus" "${existing[@]}" \
        > "$log" 2>&1 &
    pid=$!
    wait "$pid" || rc=$?
    kept=0
    if [ "$t" = bitcode ]; then
        while read -r input; do
            [ -f "$input" ] || continue
            mkdir -p "$build/contained/$t"
            mv "$input" "$build/contained/$t/"
            kept=$((kept + 1))
        done < <(contained "$log" "$pid")
    fi
    # -print_final_stats: "stat::number_of_executed_units: N" and
    # "stat::average_exec_per_sec: N"; coverage from the last status line
    # ("#N DONE cov: C ft: F corp: ...", or the last before a crash).
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    status=$(grep -E '^#[0-9]+.* cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$status")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$status")
    new=$(find "$crashes" -type f -newer "$build/fuzz-$t.start" | wc -l)
    if [ "$rc" = 0 ] && [ "$new" = 0 ]; then
        result=ok
        [ "$kept" = 0 ] ||
            result="ok ($kept inputs: LLVM's reader in the analysis child, in $build/contained/$t)"
    else
        crashed=1
        result="CRASH (exit $rc, $new new inputs): $(ls -t "$crashes" | head -1); see $log"
    fi
    row "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
if [ "$crashed" = 0 ]; then
    echo "fuzz: ${#targets[@]} targets, ${seconds} s each: no crash (logs: $build/fuzz-*.log)"
else
    echo "fuzz: ${#targets[@]} targets, ${seconds} s each: CRASHED (inputs under $build/crashes/)"
fi
exit $crashed
