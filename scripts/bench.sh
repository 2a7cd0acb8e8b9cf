#!/usr/bin/env bash
# Builds the benchmarks with optimisation and runs every bench_* program,
# each printing its table (baselines measured in the same run, with ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dir=${RSSKEY_BENCH_DIR:-build-bench}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DRSSKEY_BENCH=ON > /dev/null
cmake --build "$dir" -j"$(nproc)" > "$dir.build.log" || { tail -50 "$dir.build.log"; exit 1; }
status=0
for b in $(find "$dir/bench" -type f -name 'bench_*' -perm -u+x | sort); do
    echo
    echo "### $(basename "$b")"
    "$b" || { echo "($(basename "$b") failed with status $?)"; status=1; }
done
exit $status
