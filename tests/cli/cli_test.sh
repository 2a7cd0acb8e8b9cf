#!/usr/bin/env bash
# cli_test.sh RSSKEY BITCODE_DIR TRACE: the command line's promises.
set -uo pipefail
rsskey=$1 bcdir=$2 trace=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0 checks=0
check() {   # check NAME CONDITION...
    local name=$1; shift
    checks=$((checks + 1))
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}
run() {     # run EXPECTED_EXIT OUTFILE ARGS...: runs rsskey, true when the exit matches
    local want=$1 out=$2; shift 2
    "$rsskey" "$@" > "$out" 2>&1
    local got=$?
    [ "$got" = "$want" ] || { echo "  'rsskey $*' exited $got, expected $want"; sed 's/^/  | /' "$out" | head -5; return 1; }
}
contains() { grep -q -- "$2" "$1" || { echo "  '$2' not in:"; sed 's/^/  | /' "$1" | head -5; return 1; }; }

# Help and usage.
check "rsskey --help lists commands" run 0 "$work/h" --help
commands=$(sed -n '/^Commands:/,/^$/p' "$work/h" | awk 'NF > 1 {print $1}' | grep -v Commands)
check "at least analyze, synth, nics, trace, sim listed" \
    test "$(echo "$commands" | grep -c -E '^(analyze|synth|nics|trace|sim)$')" = 5
for c in $commands; do
    check "rsskey $c --help" run 0 "$work/h.$c" "$c" --help
    check "rsskey $c --help shows usage" contains "$work/h.$c" "usage: rsskey $c"
    check "rsskey help $c" run 0 "$work/hh.$c" help "$c"
    check "help lines fit 100 columns" test "$(awk 'length > 100' "$work/h.$c" | wc -l)" = 0
done
check "rsskey --version" run 0 "$work/v" --version
check "version printed" contains "$work/v" "^rsskey [0-9]"
check "no command: usage error" run 2 "$work/e" 
check "unknown command: usage error" run 2 "$work/e" frobnicate
check "unknown command named" contains "$work/e" "'frobnicate' is not a command"
check "unknown option: usage error" run 2 "$work/e" analyze --frobnicate "$bcdir/fw.O2.bc"

# Bad input: what, where, what to do; exit 3.
echo "not bitcode at all" > "$work/text.bc"
check "text file as bitcode" run 3 "$work/e" analyze "$work/text.bc"
check "  says it is not bitcode and where" contains "$work/e" "not LLVM bitcode.*offset 0"
check "  says what to do" contains "$work/e" "clang-19"
head -c 200 "$bcdir/fw.O2.bc" > "$work/truncated.bc"
check "truncated bitcode" run 3 "$work/e" analyze "$work/truncated.bc"
check "  names the file" contains "$work/e" "truncated.bc"
check "missing bitcode" run 4 "$work/e" analyze "$work/missing.bc"
check "  names the file" contains "$work/e" "missing.bc"
check "text file as a trace" run 3 "$work/e" trace stats "$work/text.bc"
check "  says it is not a capture" contains "$work/e" "not a readable pcap"
echo '{"schema": "rsskey-plan/1", "nic": ' > "$work/broken.json"
check "broken plan" run 3 "$work/e" sim --plan "$work/broken.json" "$trace"
check "  gives file:line:column" contains "$work/e" "broken.json:[0-9]*:[0-9]*"

# Outputs are atomic and inputs untouched.
cp "$bcdir/fw.O2.bc" "$work/fw.bc"
before=$(sha256sum "$work/fw.bc" "$trace" | awk '{print $1}')
check "synth writes a plan" run 0 "$work/s" synth "$work/fw.bc" --cores 2 --trace "$trace" \
    --lan 10.0.0.0/8 -o "$work/plan.json"
check "  plan has the schema" contains "$work/plan.json" '"schema": "rsskey-plan/1"'
check "  inputs unchanged" test "$before" = "$(sha256sum "$work/fw.bc" "$trace" | awk '{print $1}')"
cp "$work/plan.json" "$work/plan.before"
check "failing synth" run 3 "$work/e" synth "$work/text.bc" -o "$work/plan.json"
check "  leaves the old plan intact" cmp -s "$work/plan.json" "$work/plan.before"
check "  leaves no temporary file" test "$(ls "$work" | grep -c tmp)" = 0
check "unwritable output directory" run 4 "$work/e" synth "$work/fw.bc" -o "$work/no/such/dir/p.json"
check "  says where" contains "$work/e" "no/such/dir"
check "analyze --config NAME=VALUE" run 0 "$work/c.json" analyze --json --config expiry_ms=500 \
    "$work/fw.bc"
check "  recorded as given" test "$(jq -c '.config[] | select(.name == "expiry_ms") | [.value, .from]' \
    "$work/c.json")" = '[500,"--config"]'
check "analyze --config=NAME=VALUE" run 0 "$work/c2" analyze --config=expiry_ms=2k "$work/fw.bc"
check "analyze --config with a name the NF never reads" run 2 "$work/e" analyze \
    --config wan_port=0 "$work/fw.bc"
check "  lists the names it reads" contains "$work/e" "reads no configuration value of that name (it reads: .*expiry_ms"
check "analyze --config without a value" run 2 "$work/e" analyze --config expiry_ms "$work/fw.bc"
check "  says the form" contains "$work/e" "name=value"
check "synth --config not a number" run 2 "$work/e" synth --config expiry_ms=soon "$work/fw.bc"
check "  says so" contains "$work/e" "not an unsigned integer"
check "synth --strict with shared state" run 1 "$work/e" synth --strict "$bcdir/lb.O2.bc" \
    -o "$work/strict.json"
check "  names the shared objects" contains "$work/e" "objects would run shared"
check "  writes no plan" test ! -e "$work/strict.json"
check "synth --strict, all sharded" run 0 "$work/e" synth --strict "$work/fw.bc" \
    -o "$work/strict.json"
check "synth summary explains shared state" run 0 "$work/e" synth "$bcdir/lb.O2.bc" \
    -o "$work/lb-plan.json"
check "  with the reason" contains "$work/e" "objects shared under locks"
# --opt=value everywhere (getopt_long)
check "analyze --ports=2" run 0 "$work/e" analyze --ports=2 "$work/fw.bc"
check "synth --cores=2 --nic=e810" run 0 "$work/e" synth --cores=2 --nic=e810 "$work/fw.bc" \
    -o "$work/eq-plan.json"
check "sim --plan=P --lan=C --cores=2" run 0 "$work/e" sim --plan="$work/eq-plan.json" \
    --lan=10.0.0.0/8 --cores=2 "$trace"
check "trace stats --top=3" run 0 "$work/e" trace stats --top=3 "$trace"
check "trace gen --flows=10 --packets=100 --output=F" run 0 "$work/e" trace gen --flows=10 \
    --packets=100 --output="$work/eq.pcap"
check "  wrote it" test -s "$work/eq.pcap"
check "sim --cores without a value" run 2 "$work/e" sim --plan "$work/eq-plan.json" --cores
check "  says so" contains "$work/e" "--cores needs a value"
check "analyze --json" run 0 "$work/a.json" analyze --json "$work/fw.bc"
check "  versioned schema" contains "$work/a.json" '"schema": "rsskey-analysis/'
check "sim --json" run 0 "$work/sim.json" sim --plan "$work/plan.json" "$trace" --lan 10.0.0.0/8 --json
check "  per-core array" contains "$work/sim.json" '"cores": \['
check "trace stats --json" run 0 "$work/t.json" trace stats --json "$trace"
check "  packet count" contains "$work/t.json" '"packets": 2500'
check "nics --json" run 0 "$work/n.json" nics --json
check "  x710 listed" contains "$work/n.json" "x710"

# Reports: a design-review Markdown file, re-checked independently.
check "report" run 0 "$work/r" report "$work/plan.json" --sim "$work/sim.json" -o "$work/report.md"
check "  title" contains "$work/report.md" "^# rsskey plan review"
check "  objects with decisions" contains "$work/report.md" "| fw_flow_table | map | .* | \*\*sharded\*\* |"
check "  re-check passed" contains "$work/report.md" "keeps packets that share state on one core"
check "  simulation table" contains "$work/report.md" "^| core | packets"
check "  state footprint from the plan's sizes" contains "$work/report.md" \
    "^State as simulated: [0-9.]* KiB per core plus [0-9.]* KiB shared\.$"
# Swap the two ports' keys: the firewall's WAN replies no longer meet their flows.
awk '/"rss_key":/ { n++; if (n == 2) sub(/"rss_key": "[0-9a-f]+"/,
     "\"rss_key\": \"6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa0102030405060708090a0b0c\"") }
     { print }' "$work/plan.json" > "$work/tampered.json"
check "report on a tampered plan fails" run 1 "$work/r" report "$work/tampered.json" -o "$work/bad.md"
check "  and says so in the report" contains "$work/bad.md" "FAILED"
check "  verdict first" contains "$work/bad.md" "^\*\*NOT sound"
# A simulation of another plan is refused (sim.json records plan.json's SHA-256).
check "sim records its plan's hash" contains "$work/sim.json" \
    "\"plan_sha256\": \"$(sha256sum "$work/plan.json" | cut -d' ' -f1)\""
check "report with another plan's sim: refused" run 3 "$work/e" report "$work/tampered.json" \
    --sim "$work/sim.json" -o "$work/mismatch.md"
check "  says so and what to re-run" contains "$work/e" "simulated from another plan.*rsskey sim --plan"
check "  writes nothing" test ! -e "$work/mismatch.md"
check "report --html" run 0 "$work/r" report "$work/plan.json" --sim "$work/sim.json" --html \
    -o "$work/report.html"
check "  verdict box" contains "$work/report.html" '<div class="verdict ok" id="verdict">'
check "  inline SVG pictures" test "$(grep -c '<svg ' "$work/report.html")" -ge 3
check "  no scripts" test "$(grep -ci '<script' "$work/report.html")" = 0

# A tuned RETA that balances the held-back packets worse than round-robin is not kept:
# flows churning fast (the held-back half's flows are new) overfit it; few steady flows do not.
check "trace gen: churning flows" run 0 "$work/e" trace gen -o "$work/churn.pcap" --seed 4 \
    --flows 64 --packets 20000 --churn 20 --duration 1 --zipf 1.5
check "synth --trace on churn" run 0 "$work/ov.txt" synth --plan-in "$work/a.json" \
    --trace "$work/churn.pcap" --cores 8 -o "$work/ov.json"
check "  keeps round-robin, says so" contains "$work/ov.txt" "RETA round-robin kept"
check "  warns" contains "$work/ov.txt" "warning: balance: the RETA tuned on"
check "  plan records it" contains "$work/ov.json" '"kept": "round-robin"'
check "  plan warning" contains "$work/ov.json" "so the plan keeps the round-robin RETA"
check "  plan's RETA is round-robin" contains "$work/ov.json" '"reta": \[0, 1, 2, 3, 4, 5, 6, 7, 0, 1,'
check "trace gen: steady flows" run 0 "$work/e" trace gen -o "$work/steady.pcap" --flows 4 \
    --packets 400
check "synth --trace on steady flows" run 0 "$work/tu.txt" synth --plan-in "$work/a.json" \
    --trace "$work/steady.pcap" --cores 4 -o "$work/tu.json"
check "  keeps the tuned RETA" contains "$work/tu.txt" "RETA tuned on 200 packets"
check "  plan records it" contains "$work/tu.json" '"kept": "tuned"'
check "  no fallback warning" test "$(grep -c "keeps the round-robin RETA" "$work/tu.txt")" = 0

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" = 0 ]
