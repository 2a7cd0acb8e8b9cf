#!/usr/bin/env bash
# bad_input_test.sh RSSKEY RUNNER BUILD_DIR SOURCE_DIR: bad input on the
# command line, one table of cases. Each case runs one command and asserts its
# exit code, that stderr says what was wrong and where (a regex), and that the
# output file it names is neither created (new:F) nor changed (keep:F).
set -uo pipefail
rsskey=$1 runner=$2 build=$3 src=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trace=$src/traces/demo/demo-2port.pcap
bc=$build/nfs/fw.O2.bc
n=0 failures=0
# bad NAME EXIT REGEX OUT -- COMMAND...   (OUT: -, new:FILE or keep:FILE)
bad() {
    local name=$1 want=$2 regex=$3 out=$4
    shift 5
    n=$((n + 1))
    local before="" rc=0
    [ "${out%%:*}" = keep ] && before=$(sha256sum "${out#keep:}" | cut -d' ' -f1)
    "$@" > "$work/stdout" 2> "$work/stderr" || rc=$?
    local why=""
    [ "$rc" = "$want" ] || why="exit $rc, expected $want"
    if [ -n "$regex" ] && ! grep -Eq -- "$regex" "$work/stderr"; then
        why="${why:+$why; }stderr lacks /$regex/"
    fi
    case $out in
    new:*) [ ! -e "${out#new:}" ] || why="${why:+$why; }${out#new:} was created" ;;
    keep:*) [ "$(sha256sum "${out#keep:}" | cut -d' ' -f1)" = "$before" ] ||
                why="${why:+$why; }${out#keep:} was changed" ;;
    esac
    if ls "$work" | grep -q '\.tmp\.'; then why="${why:+$why; }a temporary file was left"; fi
    if [ -n "$why" ]; then
        echo "FAIL $n $name: $why"; sed 's/^/  | /' "$work/stderr" | head -4
        failures=$((failures + 1))
    else
        echo "ok   $n $name"
    fi
}

# Inputs
: > "$work/empty.bc"
mkdir "$work/dir"
echo "int main(void) { return 0; }" > "$work/text.bc"
head -c 300 "$bc" > "$work/truncated.bc"
printf 'int main(void){return 0;}' > "$work/m.c"
clang-19 -c -emit-llvm -o "$work/noproc.bc" "$work/m.c"
"$rsskey" synth "$bc" --cores 2 --nic e810 -o "$work/plan.json" > /dev/null
"$rsskey" synth "$build/nfs/lb.O2.bc" --cores 2 -o "$work/lb-plan.json" > /dev/null
cp "$work/plan.json" "$work/keep.json"
plan_with() {   # plan_with NAME JQ: plan.json changed by a jq filter
    jq "$2" "$work/plan.json" > "$work/$1.json"
}
plan_with nofields 'del(.ports)'
plan_with wrongtype '.cores = "four"'
plan_with huge '.cores = 1e300'
plan_with zerocores '.cores = 0'
plan_with negcores '.cores = -3'
plan_with reta '.ports[0].reta[0] = 99'
plan_with keylen '.ports[0].rss_key = "c0ffee"'
plan_with objtype '.objects = 7'
plan_with portnum '.ports[0].port = 5'
plan_with porttwice '.ports[1].port = 0'

bad "empty file as bitcode" 3 "empty.bc: not LLVM bitcode: the file is 0 bytes" - -- \
    "$rsskey" analyze "$work/empty.bc"
bad "directory as bitcode" 4 "dir: cannot read: Is a directory" - -- "$rsskey" analyze "$work/dir"
bad "missing bitcode" 4 "missing.bc" - -- "$rsskey" analyze "$work/missing.bc"
bad "text as bitcode" 3 "not LLVM bitcode.*offset 0.*clang-19" - -- "$rsskey" analyze "$work/text.bc"
bad "truncated bitcode" 3 "truncated.bc" - -- "$rsskey" analyze "$work/truncated.bc"
bad "bitcode without nf_process" 3 "no definition of nf_process" - -- \
    "$rsskey" analyze "$work/noproc.bc"
bad "nf_process of the wrong type" 3 "nf_process has type" - -- \
    "$rsskey" analyze "$build/tests/analysis/nfs/bad_signature.O2.bc"
bad "unknown external function: shared, named, line" 0 "" - -- \
    "$rsskey" analyze "$build/tests/analysis/nfs/unknown_call.O2.bc"
tr -s ' \n' ' ' < "$work/stdout" | grep -q "unknown_call.c:16 (call to the external function .mystery" ||
    { echo "FAIL: the unknown call's warning lacks the name and line"; failures=$((failures + 1)); }
bad "inline asm: named, line" 0 "" - -- "$rsskey" analyze "$build/tests/analysis/nfs/inline_asm.O2.bc"
tr -s ' \n' ' ' < "$work/stdout" | grep -q "inline assembly at inline_asm.c:12" ||
    { echo "FAIL: the inline asm warning lacks the line"; failures=$((failures + 1)); }
bad "synth of a text file keeps the old plan" 3 "not LLVM bitcode" keep:"$work/keep.json" -- \
    "$rsskey" synth "$work/text.bc" -o "$work/keep.json"
for p in nofields wrongtype huge zerocores negcores reta keylen objtype portnum porttwice; do
    bad "plan.json: $p" 3 "$p.json" - -- "$rsskey" sim --plan "$work/$p.json" "$trace"
done
bad "plan.json: not JSON, with line:column" 3 "broken.json:[0-9]+:[0-9]+" - -- \
    bash -c "echo '{\"cores\": ' > '$work/broken.json'; '$rsskey' sim --plan '$work/broken.json' '$trace'"
bad "another NF's plan to the runner" 3 "is not a plan for this NF: it was made from .*lb.O2.bc" - -- \
    "$runner" --plan "$work/lb-plan.json" --replay "$trace" --lan 10.0.0.0/8 -- --no-huge -m 512 \
    --no-pci --file-prefix "bad$$" --log-level=1 --vdev net_null0 --vdev net_null1 \
    --lcores '0@0,(1-2)@0'
bad "--verify with TMPDIR missing" 1 "cannot create a temporary file in $work/no-such-dir.*set TMPDIR" - -- \
    env TMPDIR="$work/no-such-dir" "$runner" --plan "$work/plan.json" --verify --replay "$trace" \
    -- --no-huge -m 512 --no-pci --file-prefix "bad$$" --log-level=1 --vdev net_null0 \
    --vdev net_null1 --lcores 0@0,1@0,2@0
bad "a plan with port numbers other than 0..n-1 to the runner" 3 \
    "portnum.json: ports\[0\].port is 5; a plan of 2 ports numbers them 0 to 1" - -- \
    "$runner" --plan "$work/portnum.json" -- --no-huge -m 512 --no-pci --file-prefix "bad$$" \
    --log-level=1 --vdev net_null0 --vdev net_null1 --lcores '0@0,(1-2)@0'
bad "too few lcores for the plan" 2 "needs 3 lcores" - -- \
    "$runner" --plan "$work/plan.json" -- --no-huge -m 512 --no-pci --file-prefix "bad$$" \
    --log-level=1 --vdev net_null0 --vdev net_null1 --lcores 0@0,1@0
# rsskey build (nfbuild/): the plan must be this NF's, from this rsskey; the
# bitcode must compile and link; nothing written on any failure.
plan_with version '.rsskey_version = "0.0.1"'
plan_with schema2 '.schema = "rsskey-plan/2"'
plan_with otherkey '.objects[0].ports["1"] = ["ipv4.src", "ipv4.dst", "l4.sport", "l4.dport"]'
echo "an old runner" > "$work/old-run"
cp "$bc" "$work/fw-build.bc"
bad "build: another NF's plan" 3 "lb-plan.json is not a plan for .*fw.O2.bc: .*made from .*lb.O2.bc" \
    new:"$work/run1" -- "$rsskey" build "$bc" --plan "$work/lb-plan.json" -o "$work/run1"
bad "build: another NF's plan keeps the old runner" 3 "is not a plan for" keep:"$work/old-run" -- \
    "$rsskey" build "$bc" --plan "$work/lb-plan.json" -o "$work/old-run"
bad "build: a plan keyed on other fields" 3 \
    "keyed on port 1 by \(ipv4.src, ipv4.dst, l4.sport, l4.dport\) in the plan but by \(ipv4.dst, ipv4.src" \
    new:"$work/run2" -- "$rsskey" build "$bc" --plan "$work/otherkey.json" -o "$work/run2"
bad "build: a plan from another rsskey version" 3 "made by rsskey 0.0.1; this is rsskey [0-9]" \
    new:"$work/run3" -- "$rsskey" build "$bc" --plan "$work/version.json" -o "$work/run3"
bad "build: a plan of another schema" 3 'schema is "rsskey-plan/2", expected "rsskey-plan/1"' \
    new:"$work/run4" -- "$rsskey" build "$bc" --plan "$work/schema2.json" -o "$work/run4"
bad "build: clang-19 missing" 1 "--clang .*no-clang: no such executable" new:"$work/run5" -- \
    "$rsskey" build "$bc" --plan "$work/plan.json" --clang "$work/no-clang" -o "$work/run5"
bad "build: text as bitcode, with a plan" 3 "text.bc: not LLVM bitcode" new:"$work/run6" -- \
    "$rsskey" build "$work/text.bc" --plan "$work/plan.json" -o "$work/run6"
bad "build: text as bitcode, no plan" 3 "text.bc does not compile \(.*clang-19 exit 1\)" \
    new:"$work/run7" -- "$rsskey" build "$work/text.bc" -o "$work/run7"
bad "build: bitcode that does not link" 3 "undefined reference to .mystery" new:"$work/run8" -- \
    "$rsskey" build "$build/tests/analysis/nfs/unknown_call.O2.bc" -o "$work/run8"
bad "build: a missing plan" 4 "missing.json" new:"$work/run9" -- \
    "$rsskey" build "$bc" --plan "$work/missing.json" -o "$work/run9"
bad "build -o equal to its bitcode" 2 "is the input" keep:"$work/fw-build.bc" -- \
    "$rsskey" build "$work/fw-build.bc" -o "$work/fw-build.bc"
bad "build -o equal to its plan" 2 "is the input" keep:"$work/keep.json" -- \
    "$rsskey" build "$bc" --plan "$work/keep.json" -o "$work/keep.json"
bad "build -o into a missing folder" 4 "no/such/dir" - -- \
    "$rsskey" build "$bc" -o "$work/no/such/dir/run"
bad "build without -o" 2 "-o RUNNER is required" - -- "$rsskey" build "$bc"
# Cost files: NaN, infinity and out-of-range numbers in every numeric field.
fields=$(grep -E '^[a-z_0-9]+ *=' "$src/sim/costs/default.conf" | cut -d= -f1 | tr -d ' ')
nf=0
for field in $fields; do
    for v in nan inf 1e300 -1; do
        printf '%s = %s\n' "$field" "$v" > "$work/costs-$field-$v.conf"
        bad "cost file: $field = $v" 3 "costs-$field-.*\.conf:1: '$field'" - -- \
            "$rsskey" sim --plan "$work/plan.json" --costs "$work/costs-$field-$v.conf" "$trace"
        nf=$((nf + 1))
    done
done
# NIC files
for line in "key_len = nan" "key_len = 41" "reta_size = 1e300" "reta_size = -4" "reta_size = 100"; do
    printf 'name = t\n%s\n' "$line" > "$work/bad.nic"
    bad "NIC file: $line" 3 "bad.nic:2" - -- "$rsskey" synth "$bc" --nic-file "$work/bad.nic" \
        -o "$work/nic-plan.json"
done
for c in 0 -1 100000 four; do
    bad "--cores $c" 2 "--cores" new:"$work/c.json" -- "$rsskey" synth "$bc" --cores "$c" \
        -o "$work/c.json"
done
bad "unknown --nic" 2 "unknown NIC 'nope'.*rsskey nics" new:"$work/n.json" -- \
    "$rsskey" synth "$bc" --nic nope -o "$work/n.json"
bad "-o into a missing folder" 4 "no/such/dir" - -- "$rsskey" synth "$bc" -o "$work/no/such/dir/p.json"
bad "-o into a folder that cannot be written (/proc)" 4 "/proc/" - -- \
    "$rsskey" synth "$bc" -o /proc/rsskey-plan.json
cp "$bc" "$work/fw.bc"
bad "synth -o equal to its bitcode" 2 "is the input" keep:"$work/fw.bc" -- \
    "$rsskey" synth "$work/fw.bc" -o "$work/fw.bc"
bad "analyze -o equal to its bitcode" 2 "is the input" keep:"$work/fw.bc" -- \
    "$rsskey" analyze "$work/fw.bc" -o "$work/fw.bc"
bad "sim -o equal to its plan" 2 "is the input" keep:"$work/keep.json" -- \
    "$rsskey" sim --plan "$work/keep.json" "$trace" -o "$work/keep.json"
bad "report -o equal to its plan" 2 "is the input" keep:"$work/keep.json" -- \
    "$rsskey" report "$work/keep.json" -o "$work/keep.json"
bad "trace directory" 3 "is a directory" - -- "$rsskey" trace stats "$work/dir"
bad "--config without a value" 2 "name=value" - -- "$rsskey" analyze --config expiry_ms "$bc"

# rsskey deploy: bad plans, plans that do not fit their NIC, --dev, -o. Nothing
# may be written: the folder is new:..., and no DIR.tmp-* folder is left.
"$rsskey" synth "$bc" --cores 2 --nic 82599 -o "$work/p82599.json" > /dev/null
dplan_with() {  # dplan_with NAME JQ: the 82599 plan changed by a jq filter
    jq "$2" "$work/p82599.json" > "$work/d-$1.json"
}
dplan_with schema '.schema = "rsskey-plan/2"'
dplan_with noports 'del(.ports)'
dplan_with hftype '.ports[0].rss_hf_value = "tcp"'
dplan_with retatype '.ports[1].reta = "round-robin"'
dplan_with sha '.nf_sha256 = "abc"'
dplan_with nicunknown '.nic = "nic9000"'
dplan_with retasize '.nic = "x550"'            # 128-entry RETA, x550 has 512
dplan_with hfnic '.ports[0].rss_hf = ["RTE_ETH_RSS_IPV4", "RTE_ETH_RSS_L3_SRC_ONLY"]'
dplan_with version '.rsskey_version = "0.0.1"'
bad "deploy: plan of another schema" 3 'schema is "rsskey-plan/2", expected "rsskey-plan/1"' \
    new:"$work/dd" -- "$rsskey" deploy "$work/d-schema.json" -o "$work/dd"
bad "deploy: plan of another rsskey version" 3 "made by rsskey 0.0.1; this is rsskey [0-9].*deploy with" \
    new:"$work/dd" -- "$rsskey" deploy "$work/d-version.json" -o "$work/dd"
bad "deploy: plan without ports" 3 'd-noports.json: plan: member "ports" is missing' new:"$work/dd" -- \
    "$rsskey" deploy "$work/d-noports.json" -o "$work/dd"
bad "deploy: rss_hf_value of the wrong type" 3 'ports\[0\]: member "rss_hf_value"' new:"$work/dd" -- \
    "$rsskey" deploy "$work/d-hftype.json" -o "$work/dd"
bad "deploy: reta of the wrong type" 3 'ports\[1\]: member "reta"' new:"$work/dd" -- \
    "$rsskey" deploy "$work/d-retatype.json" -o "$work/dd"
bad "deploy: nf_sha256 not a hash" 3 'nf_sha256" must be 64 hex digits' new:"$work/dd" -- \
    "$rsskey" deploy "$work/d-sha.json" -o "$work/dd"
bad "deploy: unknown NIC profile" 3 "NIC profile 'nic9000'.*--nic-file" new:"$work/dd" -- \
    "$rsskey" deploy "$work/d-nicunknown.json" -o "$work/dd"
bad "deploy: key length does not fit the NIC (e810 plan named 82599)" 3 \
    "rss_key has 52 bytes but the NIC profile '82599'.*40-byte keys.*--nic 82599" new:"$work/dd" -- \
    bash -c "jq '.nic = \"82599\"' '$work/plan.json' > '$work/d-keylen.json'; '$rsskey' deploy '$work/d-keylen.json' -o '$work/dd'"
bad "deploy: RETA size does not fit the NIC" 3 "reta has 128 entries but the NIC profile 'x550'.*512-entry" \
    new:"$work/dd" -- "$rsskey" deploy "$work/d-retasize.json" -o "$work/dd"
bad "deploy: rss_hf the NIC cannot hash" 3 "RTE_ETH_RSS_L3_SRC_ONLY.*cannot hash" new:"$work/dd" -- \
    "$rsskey" deploy "$work/d-hfnic.json" -o "$work/dd"
bad "deploy: --dev count differs from the ports" 2 "--dev names 1 interface but .* has 2 ports" \
    new:"$work/dd" -- "$rsskey" deploy "$work/p82599.json" -o "$work/dd" --dev eth0
bad "deploy: --dev with a quote" 2 "is not an interface name" new:"$work/dd" -- \
    "$rsskey" deploy "$work/p82599.json" -o "$work/dd" --dev "eth0,e'1"
bad "deploy: no -o" 2 "no folder given" - -- "$rsskey" deploy "$work/p82599.json"
bad "deploy: -o onto its plan" 2 "is the input" keep:"$work/p82599.json" -- \
    "$rsskey" deploy "$work/p82599.json" -o "$work/p82599.json"
bad "deploy: -o a folder holding the plan, --force" 2 "holds the input" keep:"$work/p82599.json" -- \
    "$rsskey" deploy "$work/p82599.json" -o "$work" --force
mkdir -p "$work/full" && echo mine > "$work/full/notes.txt"
bad "deploy: -o an existing non-empty folder" 2 "exists and is not empty.*--force" \
    keep:"$work/full/notes.txt" -- "$rsskey" deploy "$work/p82599.json" -o "$work/full"
bad "deploy: -o into a missing folder" 4 "no/such" new:"$work/no/such/dd" -- \
    "$rsskey" deploy "$work/p82599.json" -o "$work/no/such/dd"
n=$((n + 1))
if ls -a "$work" | grep -q '\.tmp-'; then
    echo "FAIL $n deploy: a DIR.tmp-* folder was left"; failures=$((failures + 1))
else
    echo "ok   $n deploy: no temporary folder left"
fi
# Captures cut short: at a record boundary the read stops cleanly with the
# whole packets; inside a record header or a packet's data it is an error
# naming the file, the packet, its byte offset and what to do (editcap).
"$rsskey" trace gen -o "$work/g.pcap" --packets 1000 --flows 50 --two-port > /dev/null
editcap -F pcap -r "$work/g.pcap" "$work/first10.pcap" 1-10
b10=$(stat -c %s "$work/first10.pcap")       # where packet 11's record starts
head -c "$b10" "$work/g.pcap" > "$work/cut-boundary.pcap"
head -c $((b10 + 7)) "$work/g.pcap" > "$work/cut-header.pcap"
head -c $((b10 + 16 + 20)) "$work/g.pcap" > "$work/cut-data.pcap"
head -c 30 "$work/g.pcap" > "$work/cut-first.pcap"
editcap -F pcapng "$work/g.pcap" "$work/g.pcapng"
head -c 20000 "$work/g.pcapng" > "$work/cut.pcapng"
bad "capture cut at a record boundary: the whole packets, exit 0" 0 "" - -- \
    "$rsskey" trace stats --json "$work/cut-boundary.pcap"
[ "$(jq .packets "$work/stdout")" = 10 ] ||
    { echo "FAIL: the capture cut after 10 packets read as $(jq .packets "$work/stdout")"; failures=$((failures + 1)); }
bad "capture cut inside a record header" 3 \
    "cut-header.pcap': cannot read packet 11 \(its record starts at byte offset $b10\).*header bytes.*editcap -F pcap -r .* 1-10" \
    - -- "$rsskey" trace stats "$work/cut-header.pcap"
bad "capture cut inside a packet's data" 3 \
    "cut-data.pcap': cannot read packet 11 \(its record starts at byte offset $b10\).*captured bytes.*1-10" \
    - -- "$rsskey" trace stats "$work/cut-data.pcap"
bad "capture cut inside its first packet" 3 "cut-first.pcap': cannot read packet 1 .*byte offset 24.*copy it again" \
    - -- "$rsskey" trace stats "$work/cut-first.pcap"
bad "pcapng cut inside a block" 3 "cut.pcapng': cannot read packet [0-9]+ \(reading stopped at byte offset 20000\)" \
    - -- "$rsskey" trace stats "$work/cut.pcapng"
bad "sim -o of a capture cut short writes nothing" 3 "cut-data.pcap'.*byte offset $b10" new:"$work/cut.json" -- \
    "$rsskey" sim --plan "$work/plan.json" "$work/cut-data.pcap" -o "$work/cut.json"
bad "sim -o of a capture cut short keeps the old output" 3 "cut-header.pcap'.*byte offset $b10" \
    keep:"$work/keep.json" -- "$rsskey" sim --plan "$work/plan.json" "$work/cut-header.pcap" \
    -o "$work/keep.json"

# A capture truncated while being read: the reader (fread, no mmap: no
# SIGBUS) must not count what is left as the whole capture. The reader is
# stopped once it has read past the cut, the file is truncated, then it goes
# on: exit 3 naming the file, the sizes and how far it read; nothing written.
truncated_while_read() {   # NAME REGEX OUT -- COMMAND... (reads $work/live.pcap)
    local name=$1 regex=$2 out=$3
    shift 4
    n=$((n + 1))
    cp "$work/big.pcap" "$work/live.pcap"
    local cut=$((8 << 20)) rc=0 pos=0 why="" f k v p i
    local ino
    ino=$(stat -c %i "$work/live.pcap")
    "$@" > "$work/stdout" 2> "$work/stderr" &
    local pid=$!
    # How far it has read: the offset of its descriptor on the file (shell
    # builtins only, so the loop keeps up with the reader).
    while [ "$pos" -le $((2 * cut)) ] && kill -0 "$pid" 2> /dev/null; do
        for f in /proc/"$pid"/fdinfo/*; do
            p=0 i=0
            { while read -r k v; do
                  case $k in pos:) p=$v ;; ino:) i=$v ;; esac
              done < "$f"; } 2> /dev/null
            [ "$i" = "$ino" ] && [ "$p" -gt "$pos" ] && pos=$p
        done
    done
    kill -STOP "$pid" 2> /dev/null && truncate -s "$cut" "$work/live.pcap" && kill -CONT "$pid"
    wait "$pid" || rc=$?
    [ "$pos" -gt $((2 * cut)) ] || why="the reader finished before the cut (read to byte $pos)"
    [ "$rc" = 3 ] || why="${why:+$why; }exit $rc, expected 3"
    grep -q "Sanitizer\|SIGBUS\|Bus error" "$work/stderr" && why="${why:+$why; }crashed"
    grep -Eq -- "$regex" "$work/stderr" || why="${why:+$why; }stderr lacks /$regex/"
    [ -z "$out" ] || [ ! -e "$out" ] || why="${why:+$why; }$out was written"
    if ls "$work" | grep -q '\.tmp\.'; then why="${why:+$why; }a temporary file was left"; fi
    if [ -n "$why" ]; then
        echo "FAIL $n $name: $why"; sed 's/^/  | /' "$work/stderr" | head -4
        failures=$((failures + 1))
    else
        echo "ok   $n $name"
    fi
}

# Signals in the middle of a long run: sim -o writes nothing (its output is
# atomic), the launcher stops cleanly and prints its counters.
"$rsskey" trace gen -o "$work/big.pcap" --packets 400000 --flows 5000 --two-port > /dev/null
truncation="live.pcap' was truncated while being read: [0-9]+ bytes when opened, 8388608 now; [0-9]+ whole packets were read, to byte offset [0-9]+. Run again|live.pcap': cannot read packet [0-9]+ .*truncated while being read"
truncated_while_read "trace stats on a capture truncated while being read" "$truncation" "" -- \
    "$rsskey" trace stats "$work/live.pcap"
truncated_while_read "sim -o on a capture truncated while being read writes nothing" "$truncation" \
    "$work/live.json" -- "$rsskey" sim --plan "$work/plan.json" "$work/live.pcap" --lan 10.0.0.0/8 \
    -o "$work/live.json"
n=$((n + 1))
"$rsskey" sim --plan "$work/plan.json" "$work/big.pcap" --lan 10.0.0.0/8 --scaling \
    -o "$work/sig.json" > /dev/null 2>&1 &
pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" = 0 ] || [ -e "$work/sig.json" ] || ls "$work" | grep -q '\.tmp\.'; then
    echo "FAIL $n SIGTERM during sim -o: exit $rc, output or temporary file left"
    failures=$((failures + 1))
else
    echo "ok   $n SIGTERM during sim -o: nothing written (exit $rc)"
fi
# rsskey build: a stop signal waits until the scratch files are gone (TMPDIR
# is $work here, so a scratch folder left over would show), then ends it.
n=$((n + 1))
TMPDIR=$work "$rsskey" build "$bc" --plan "$work/plan.json" -o "$work/sig-run" > /dev/null 2>&1 &
pid=$!
sleep 0.8
kill -TERM "$pid" 2> /dev/null
wait "$pid"
rc=$?
if ls "$work" | grep -q -e '\.tmp\.' -e '^rsskey-build\.' ||
    { [ "$rc" != 0 ] && [ -e "$work/sig-run" ]; }; then
    echo "FAIL $n SIGTERM during rsskey build: exit $rc, output or scratch files left"
    failures=$((failures + 1))
else
    echo "ok   $n SIGTERM during rsskey build: nothing half-written (exit $rc)"
fi
rm -f "$work/sig-run"
n=$((n + 1))
"$runner" --plan "$work/plan.json" -- --no-huge -m 512 --no-pci --file-prefix "sig$$" \
    --log-level=1 --vdev net_null0 --vdev net_null1 --lcores '0@0,(1-2)@0' \
    > "$work/run.out" 2> "$work/run.err" &
pid=$!
sleep 1.5
kill -INT "$pid"
wait "$pid"
rc=$?
if [ "$rc" != 0 ] || ! grep -q "^core *packets *forwarded *dropped" "$work/run.out"; then
    echo "FAIL $n SIGINT to the launcher: exit $rc, no counters"; head -3 "$work/run.err"
    failures=$((failures + 1))
else
    echo "ok   $n SIGINT to the launcher: stopped cleanly with its counters"
fi

echo "bad input: $n cases ($nf cost-file fields), $failures failures"
[ "$n" -ge 40 ] || { echo "FAIL: fewer than 40 cases"; exit 1; }
[ "$failures" = 0 ]
