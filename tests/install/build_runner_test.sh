#!/usr/bin/env bash
# build_runner_test.sh RSSKEY NF.bc TRACE [OTHER.bc]
# `rsskey build` of a reference NF from its bitcode: the plan synthesised for
# 3 cores is built in, and the runner's --verify run on TRACE, with no --plan
# given, must be sound on every packet with every core used, exactly what
# tests/launcher's verify mode asks of rsskey-run-<nf>. With OTHER.bc (another
# NF): the runner's --plan overrides the built-in plan, and a plan made from
# OTHER.bc is refused at run time (exit 3).
set -euo pipefail
rsskey=$1 bc=$2 trace=$3 other=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nf=$(basename "$bc" .O2.bc)
fail() { echo "FAIL: $*" >&2; exit 1; }
eal=(--no-huge -m 512 --no-pci --file-prefix "rsskey-build-$nf-$$" --log-level=1
     --vdev net_null0 --vdev net_null1)

"$rsskey" synth "$bc" --cores 3 --nic x710 -o "$work/plan.json" > "$work/synth.out" 2>&1 ||
    { cat "$work/synth.out"; fail "rsskey synth failed"; }
"$rsskey" build "$bc" --plan "$work/plan.json" -o "$work/$nf-run" > "$work/build.out" 2>&1 ||
    { cat "$work/build.out"; fail "rsskey build failed"; }
cat "$work/build.out"
rm "$work/plan.json"        # the runner must not need it
[ -x "$work/$nf-run" ] || fail "no executable runner"
"$work/$nf-run" --verify --json --replay "$trace" --lan 10.0.0.0/8,fd00::/8 -- "${eal[@]}" \
    --lcores '0@0,(1-3)@0' > "$work/run.json" 2> "$work/run.err" ||
    { cat "$work/run.err"; fail "the built runner failed"; }
grep -q '"plan": "the built-in plan (plan.json)"' "$work/run.json" || fail "it did not run the built-in plan"
grep -q '"result": "sound"' "$work/run.json" || fail "verify found unsound differences"
grep -q '"unsound": 0,' "$work/run.json" || fail "unsound differences"
grep -q '"races": 0' "$work/run.json" || fail "the parallel run raced"
grep -q '"packets": 2500,' "$work/run.json" || fail "not every packet was verified"
grep -q '"plan_violations": 0' "$work/run.json" || fail "plan violations"
[ "$(jq '.cores | length' "$work/run.json")" = 3 ] || fail "not 3 cores"
if grep -q '"packets": 0,' "$work/run.json"; then fail "a core received nothing"; fi
echo "ok: $nf's built runner verified sound on its built-in plan"

[ -n "$other" ] || exit 0
# --plan FILE overrides the built-in plan: a 2-core plan for the same NF runs
# on 2 workers; a plan for another NF is refused as from a file.
"$rsskey" synth "$bc" --cores 2 -o "$work/two.json" > /dev/null
"$work/$nf-run" --plan "$work/two.json" --verify --json --replay "$trace" --lan 10.0.0.0/8 \
    -- "${eal[@]}" --lcores '0@0,(1-2)@0' > "$work/two.out" 2> "$work/two.err" ||
    { cat "$work/two.err"; fail "--plan did not override the built-in plan"; }
[ "$(jq '.cores | length' "$work/two.out")" = 2 ] || fail "--plan two.json did not run on 2 cores"
grep -q '"result": "sound"' "$work/two.out" || fail "the overriding plan was not sound"
"$rsskey" synth "$other" --cores 3 -o "$work/other.json" > /dev/null
rc=0
"$work/$nf-run" --plan "$work/other.json" --replay "$trace" --lan 10.0.0.0/8 -- "${eal[@]}" \
    --lcores '0@0,(1-3)@0' > /dev/null 2> "$work/other.err" || rc=$?
cat "$work/other.err"
[ $rc = 3 ] && grep -q "other.json is not a plan for this NF" "$work/other.err" ||
    fail "another NF's plan given to the built runner: exit $rc"
"$work/$nf-run" --help > "$work/help.txt"
grep -q "carries the plan made from plan.json" "$work/help.txt" || fail "--help does not name the built-in plan"
echo "ok: --plan overrides the built-in plan; another NF's plan is refused"
