#!/usr/bin/env bash
# corpus_test.sh RSSKEY CORPUS_DIR: tcpdump's own test captures (many malformed
# on purpose) through `rsskey trace stats --json`. Every file must either be
# read to its end, with packet and byte counts equal to capinfos' (computed
# here, when capinfos itself reads the file without complaint), or be stopped
# with a clear error that names the file (exit 3: not a capture, a link type
# rsskey cannot parse, a record cut short, ...). Never a crash, a hang (10 s
# per file), another exit code or a sanitizer report (ASan/UBSan builds run
# this with their own rsskey; a report makes rsskey exit non-zero and
# print "Sanitizer" on stderr).
set -uo pipefail
rsskey=$1 corpus=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v capinfos > /dev/null || { echo "FAIL: capinfos not installed (bash scripts/install-deps.sh)"; exit 1; }
files=0 read_ok=0 compared=0 refused=0 failures=0
for f in "$corpus"/*; do
    [ -f "$f" ] || continue
    files=$((files + 1))
    rc=0
    timeout 10 "$rsskey" trace stats --json "$f" > "$work/out.json" 2> "$work/err.txt" || rc=$?
    if grep -q "Sanitizer" "$work/err.txt"; then
        echo "FAIL $f: sanitizer report"; head -5 "$work/err.txt"; failures=$((failures + 1)); continue
    fi
    case $rc in
    0)
        read_ok=$((read_ok + 1))
        # capinfos' reference, only where it reads the whole file quietly
        if ref=$(capinfos -c -d -M -T -r "$f" 2> "$work/cap.err") && [ ! -s "$work/cap.err" ]; then
            want=$(echo "$ref" | awk -F'\t' '{print $2 " " $3}')
            got=$(jq -r '"\(.packets) \(.bytes)"' "$work/out.json")
            if [ "$want" != "$got" ]; then
                echo "FAIL $f: rsskey counts '$got' (packets bytes), capinfos '$want'"
                failures=$((failures + 1))
            fi
            compared=$((compared + 1))
        fi
        ;;
    3)
        refused=$((refused + 1))
        if ! grep -q "rsskey trace: error: .*$(basename "$f")" "$work/err.txt"; then
            echo "FAIL $f: exit 3 without an error naming the file:"; head -3 "$work/err.txt"
            failures=$((failures + 1))
        fi
        ;;
    124)
        echo "FAIL $f: still running after 10 s"; failures=$((failures + 1)) ;;
    *)
        echo "FAIL $f: exit $rc"; head -3 "$work/err.txt"; failures=$((failures + 1)) ;;
    esac
done
echo "corpus: $files files, $read_ok read to the end ($compared compared with capinfos), $refused refused with an error naming the file, $failures failures"
[ "$files" -gt 100 ] || { echo "FAIL: only $files files in $corpus"; exit 1; }
[ "$failures" = 0 ]
