#!/usr/bin/env bash
# olevels_test.sh RSSKEY CLANG SOURCE_DIR: every reference NF (nfs/), every
# crafted analysis NF (tests/analysis/nfs/) and every adversarial NF
# (tests/adversarial/nfs/), compiled at -O0, -O1, -O2, -O3 and -Os, must get
# the same plan from `rsskey analyze`: the same decision and keys per object,
# the same RSS fields per port (or the same error). Reasons may cite other
# lines, so they are not compared.
set -uo pipefail
rsskey=$1 clang=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shape() {   # the plan's shape: summary, per-object decision and keys, RSS per port
    "$rsskey" analyze "$1" 2>&1 |
        grep -E '^[^ ].*objects \(|^  RSS on port|^[a-z_0-9]+ +[a-z]+ +(sharded|shared|replicated)|^    key on port|error' |
        sed 's/^[^ :]*\.bc: //; s/[^ ]*\.O[0-3s]\.bc//g'
}
failures=0 nfs=0
for f in "$src"/nfs/*.c "$src"/tests/analysis/nfs/*.c "$src"/tests/adversarial/nfs/*.c; do
    n=$(basename "$f" .c)
    d=$(dirname "$f")
    nfs=$((nfs + 1))
    ref=""
    for o in O0 O1 O2 O3 Os; do
        if ! "$clang" -std=gnu17 -c -emit-llvm -$o -g -I"$src/include" -I"$d" \
            -o "$work/$n.$o.bc" "$f" 2> "$work/cc.err"; then
            echo "FAIL $n: clang-19 -$o: $(head -1 "$work/cc.err")"
            failures=$((failures + 1))
            continue 2
        fi
        s=$(shape "$work/$n.$o.bc")
        if [ "$o" = O0 ]; then
            ref=$s
        elif [ "$s" != "$ref" ]; then
            echo "FAIL $n: -$o gives another plan than -O0:"
            diff <(echo "$ref") <(echo "$s") | sed 's/^/  /' | head -10
            failures=$((failures + 1))
        fi
    done
done
echo "olevels: $nfs NFs x 5 levels, $failures differing"
[ "$nfs" -gt 40 ] || { echo "FAIL: only $nfs NFs found under $src"; exit 1; }
[ "$failures" = 0 ]
