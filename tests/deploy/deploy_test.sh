#!/usr/bin/env bash
# deploy_test.sh MODE RSSKEY RETA_SET NF.bc TRACE SRC: `rsskey deploy` checked
# by the tools that consume its folder, against the values in plan.json.
#   testpmd  dpdk-testpmd runs testpmd.txt on net_null ports; `show port N rss
#            reta` (and the key, where testpmd can show it) equal the plan's
#   stubs    rsskey_plan.h/.c build with -Wall -Wextra -Werror into
#            tests/deploy/stub_check.c, which programs net_null ports and
#            reads key and RETA back; a plan for a 512-entry RETA is refused
#   ethtool  each ethtool.sh line through ethtool's own parser on a veth pair
#            (driver errors, no usage errors), the rsskey-reta-set request bytes
#   folder   manifest.json against the plan and the bitcode, --json, --force,
#            atomic folder, rsskey report --manifest
# Exit 77 (skipped) when the tool a mode needs is missing.
set -uo pipefail
mode=$1 rsskey=$2 retaset=$3 bc=$4 trace=$5 src=$6
work=$(mktemp -d)
veth=""
cleanup() {
    [ -n "$veth" ] && ip link del "$veth" 2> /dev/null
    rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }
cd "$work" || exit 1
# A plan with a tuned RETA (not round-robin) for a profile whose key and RETA
# sizes match net_null's (40 bytes, 128 entries), and its deployment.
"$rsskey" synth "$bc" --nic 82599 --cores 4 --trace "$trace" --lan 10.0.0.0/8 \
    -o plan.json > /dev/null || { echo "synth failed"; exit 1; }
plan_reta() { jq -r ".ports[$1].reta | map(tostring) | join(\",\")" plan.json; }
plan_key() { jq -r ".ports[$1].rss_key" plan.json; }
nports=$(jq '.ports | length' plan.json)
[ "$(plan_reta 0)" != "$(jq -r '[range(128)] | map(. % 4 | tostring) | join(",")' -n)" ] ||
    fail "the test plan's RETA is round-robin; it should be tuned"

case $mode in
testpmd)
    command -v dpdk-testpmd > /dev/null || { echo "skip: dpdk-testpmd missing (Debian dpdk-dev)"; exit 77; }
    "$rsskey" deploy plan.json -o dep > /dev/null || { echo "deploy failed"; exit 1; }
    { cat dep/testpmd.txt
      for p in $(seq 0 $((nports - 1))); do
          echo "show port $p rss-hash key"
          echo "show port $p rss reta 128 (0xffffffffffffffff,0xffffffffffffffff)"
      done; } > run.txt
    timeout 120 dpdk-testpmd --no-huge -m 256 --no-pci --vdev net_null0 --vdev net_null1 \
        --file-prefix "rkdtp$$" --log-level=1 -- -i --total-num-mbufs=4096 \
        --cmdline-file=run.txt < /dev/null > testpmd.out 2>&1
    rc=$?
    [ $rc = 0 ] || fail "dpdk-testpmd exited $rc"
    # testpmd's prompt can land in the middle of a line of output: drop it.
    sed -i 's/testpmd> //g' testpmd.out
    grep -q "Read CLI commands from run.txt" testpmd.out || fail "testpmd did not read the whole file"
    if grep -Eiq "bad arguments|unknown parameter|invalid" testpmd.out; then
        fail "testpmd refused a line:"; grep -Ei "bad arguments|unknown parameter|invalid" testpmd.out | head -3
    fi
    # Queues: every RETA line names queues 0..3, so testpmd needs 4 RX queues.
    [ "$(grep -c '^port config [0-9] rss reta ' dep/testpmd.txt)" -ge 16 ] ||
        fail "expected the RETA in chunks of short lines"
    awk '/^port config [0-9] rss reta / { n = length($0) - length("port config 0 rss reta ");
         if (n > 127) bad = 1 } END { exit bad }' dep/testpmd.txt ||
        fail "a RETA line is longer than testpmd's 127-character token"
    got=$(grep -o 'hash index=[0-9]*, queue=[0-9]*' testpmd.out | sed 's/.*queue=//' | paste -sd,)
    want=$(for p in $(seq 0 $((nports - 1))); do plan_reta "$p"; done | paste -sd,)
    if [ "$got" = "$want" ]; then ok "testpmd reads back both ports' 128-entry RETA exactly"
    else fail "RETA read back by testpmd differs from the plan's"; fi
    # The key: DPDK 22.11's net_null reports no hash_key_size, and testpmd then
    # refuses to set or show a key on it ("dev_info did not provide a valid hash
    # key size"); where a device reports one, the shown key must be the plan's.
    keys=$(grep -A1 '^RSS key:' testpmd.out | grep -Eo '^[0-9A-Fa-f]{80,104}' | tr A-F a-f | paste -sd,)
    if [ -n "$keys" ]; then
        [ "$keys" = "$(plan_key 0),$(plan_key 1)" ] && ok "testpmd shows the plan's keys" ||
            fail "testpmd shows other keys: $keys"
    elif [ "$(grep -c 'dev_info did not provide a valid hash key size' testpmd.out)" = $((2 * nports)) ]; then
        ok "key lines parsed; net_null (DPDK 22.11) reports no key size, so testpmd sets and shows no key (the stubs test reads it back)"
    else
        fail "no key shown and not the known net_null limitation"
    fi
    grep -q "^port config 0 rss-hash-key ipv4 $(plan_key 0)\$" dep/testpmd.txt ||
        fail "testpmd.txt's port 0 key is not the plan's"
    ;;
stubs)
    pkg-config --exists libdpdk || { echo "skip: libdpdk missing"; exit 77; }
    "$rsskey" deploy plan.json -o dep > /dev/null || { echo "deploy failed"; exit 1; }
    build_stub() {  # build_stub DIR OUT
        cc -std=gnu17 -Wall -Wextra -Werror $(pkg-config --cflags libdpdk) -I "$1" \
            -o "$2" "$src/tests/deploy/stub_check.c" "$1/rsskey_plan.c" $(pkg-config --libs libdpdk)
    }
    if build_stub dep stub_check 2> cc.err; then ok "stubs build with -Wall -Wextra -Werror"
    else fail "stubs do not build:"; head -20 cc.err; exit 1; fi
    eal=(--no-huge -m 256 --no-pci --vdev net_null0 --vdev net_null1 --log-level=1)
    timeout 120 ./stub_check "${eal[@]}" --file-prefix "rkdst$$" > run.out 2> run.err ||
        fail "stub_check exited non-zero: $(head -3 run.err)"
    for p in $(seq 0 $((nports - 1))); do
        [ "$(sed -n "s/^port $p key //p" run.out)" = "$(plan_key "$p")" ] &&
            ok "port $p: key read back = plan.json's" || fail "port $p: key differs"
        [ "$(sed -n "s/^port $p reta //p" run.out)" = "$(plan_reta "$p")" ] &&
            ok "port $p: RETA read back = plan.json's" || fail "port $p: RETA differs"
        want_hf=$(printf '0x%x' "$(jq ".ports[$p].rss_hf_value" plan.json)")
        [ "$(sed -n "s/^port $p rss_hf //p" run.out)" = "$want_hf" ] ||
            fail "port $p: rss_hf read back differs from $want_hf"
    done
    grep -q "configure 4 queues" run.err || fail "3 queues for a 4-core RETA were not refused clearly"
    obj=$(jq -r '.objects[0] | "\(.name) \(.kind) \(.size.capacity)"' plan.json)
    grep -q "^objects $(jq '.objects | length' plan.json) locked 0 first $obj $(( ($(jq '.objects[0].size.capacity' plan.json) + 3) / 4 ))\$" run.out &&
        ok "object table: mode and per-core capacity (ceil(capacity / 4))" ||
        fail "object table differs: $(grep ^objects run.out)"
    # A plan for a 512-entry RETA (x550) on net_null's 128 entries: refused, naming both.
    "$rsskey" synth "$bc" --nic x550 --cores 4 -o x550.json > /dev/null &&
        "$rsskey" deploy x550.json -o dep512 > /dev/null && build_stub dep512 stub512 ||
        fail "could not build the x550 stubs"
    timeout 120 ./stub512 "${eal[@]}" --file-prefix "rkdsx$$" -- --expect-size-error > /dev/null 2> x.err ||
        fail "the 512-entry plan was not refused"
    grep -q "has a 128-entry RETA, the plan 512" x.err && ok "RETA size mismatch names 128 and 512" ||
        fail "no clear RETA size error: $(head -2 x.err)"
    ;;
ethtool)
    # Interface names unique to this run (other runs may share the machine).
    devA=rk$$a devB=rk$$b
    # The RETA helper's request, compared byte by byte with the plan.
    "$rsskey" deploy plan.json -o dep --dev $devA,$devB > /dev/null || { echo "deploy failed"; exit 1; }
    line=$(grep "^\"\$RETA_SET\" $devA " dep/ethtool.sh)
    [ -n "$line" ] || fail "ethtool.sh does not call the RETA helper for a tuned RETA"
    grep -q "ethtool -X' *can only set 'equal N'\|can only set 'equal N'" dep/ethtool.sh ||
        fail "ethtool.sh does not say why the helper is needed"
    list=${line##* }
    [ "$list" = "$(plan_reta 0)" ] || fail "the helper's list is not port 0's RETA"
    "$retaset" --print-request $devA "$list" > req.out || fail "helper --print-request failed"
    want=$(printf '47000000''00000000''%02x%02x0000''00000000''00000000''00000000' 128 0)
    for q in $(plan_reta 0 | tr , ' '); do want+=$(printf '%02x%02x0000' $((q & 255)) $((q >> 8))); done
    [ "$(sed -n 's/^bytes //p' req.out)" = "$want" ] &&
        ok "helper request = ETHTOOL_SRSSH, indir_size 128, key and hfunc unchanged, the plan's 128 queues" ||
        fail "helper request bytes differ"
    # Key with colons, no 'equal' for a tuned table; 'equal 4' for round-robin.
    grep -q "^ethtool -X $devA hfunc toeplitz hkey $(plan_key 0 | sed 's/../&:/g; s/:$//')\$" dep/ethtool.sh ||
        fail "ethtool -X line lacks the plan's key"
    "$rsskey" synth "$bc" --nic 82599 --cores 4 -o rr.json > /dev/null &&
        "$rsskey" deploy rr.json -o deprr --dev $devA,$devB > /dev/null
    grep -q "^ethtool -X $devA hfunc toeplitz hkey [0-9a-f:]* equal 4\$" deprr/ethtool.sh &&
        ! grep -q RETA_SET\" deprr/ethtool.sh && ok "round-robin RETA: ethtool -X ... equal 4, no helper" ||
        fail "round-robin plan not expressed as equal 4"
    grep -q "^ethtool -N $devA rx-flow-hash tcp4 sdfn\$" dep/ethtool.sh &&
        grep -q "^ethtool -N $devA rx-flow-hash udp4 sdfn\$" dep/ethtool.sh ||
        fail "rx-flow-hash lines for tcp4/udp4 sdfn missing"
    # A plan hashing only the destination address on port 1 (policer on cx5, whose
    # profile takes the *_ONLY selectors): 'd', with a comment on what drivers take.
    pol=$(dirname "$bc")/policer.O2.bc
    "$rsskey" synth "$pol" --nic cx5 --cores 4 -o pol.json > /dev/null &&
        "$rsskey" deploy pol.json -o deppol --dev $devA,$devB > /dev/null || fail "policer deploy"
    [ "$(jq -c '.ports[1].rss_hf | index("RTE_ETH_RSS_L3_DST_ONLY") != null' pol.json)" = true ] ||
        fail "the policer plan no longer hashes port 1 on the destination only"
    grep -q "^ethtool -N $devB rx-flow-hash tcp4 d\$" deppol/ethtool.sh &&
        grep -q "^# tcp4 hashes 'd' only: most kernel drivers accept just sd or sdfn" deppol/ethtool.sh &&
        grep -q "but the plan hashes only 'd': ethtool cannot say that" deppol/ethtool.sh &&
        ok "destination-only plan: tcp4 d, and comments on what drivers and ethtool cannot do" ||
        fail "destination-only plan not expressed or not commented"
    # Without --dev: placeholders, and the script refuses to run.
    "$rsskey" deploy plan.json -o deph > /dev/null
    sh deph/ethtool.sh > /dev/null 2> ph.err; rc=$?
    [ $rc = 2 ] && grep -q placeholders ph.err && ok "placeholder script refuses to run" ||
        fail "placeholder script ran (exit $rc)"
    # Each line through ethtool's parser on a veth pair: driver errors only.
    if ! command -v ethtool > /dev/null; then
        echo "skip (part): ethtool missing; install it (scripts/install-deps.sh)"
    elif ! ip link add $devA type veth peer name $devB 2> veth.err; then
        echo "skip (part): cannot create a veth pair ($(head -1 veth.err)): needs CAP_NET_ADMIN"
    else
        veth=$devA
        n=0
        while IFS= read -r l; do
            n=$((n + 1))
            sh -c "$l" > l.out 2> l.err; rc=$?
            if grep -Eq "bad command line|ethtool -h|Cannot parse" l.err; then
                fail "ethtool rejects '$l' as a usage error: $(head -1 l.err)"
            elif [ $rc != 0 ] || [ -s l.err ]; then
                grep -Eq "Operation not supported|netlink error|Cannot (get|change|set)" l.err ||
                    fail "'$l': unexpected error: $(head -1 l.err)"
            fi
        done < <(grep -h '^ethtool ' dep/ethtool.sh deppol/ethtool.sh)
        [ $n -ge 16 ] && ok "$n ethtool lines parsed by ethtool, veth answered as a driver" ||
            fail "only $n ethtool lines"
        RSSKEY_RETA_SET=$retaset sh -c "RETA_SET=\$RSSKEY_RETA_SET; $line" > h.out 2> h.err
        grep -q "cannot read the RSS table size: Operation not supported" h.err &&
            ok "helper asks veth for its table size and reports the driver's answer" ||
            fail "helper on veth: $(cat h.err)"
    fi
    ;;
folder)
    "$rsskey" deploy plan.json -o dep --dev eth0,eth1 > summary.txt || fail "deploy failed"
    m=dep/manifest.json
    [ "$(jq -r .schema $m)" = rsskey-manifest/1 ] || fail "manifest schema"
    [ "$(jq -r .plan.sha256 $m)" = "$(sha256sum plan.json | cut -d' ' -f1)" ] &&
        ok "manifest plan.sha256 = sha256sum of plan.json" || fail "plan sha256"
    [ "$(jq -r .nf.bitcode_sha256 $m)" = "$(sha256sum "$bc" | cut -d' ' -f1)" ] &&
        [ "$(jq -r .nf_sha256 plan.json)" = "$(sha256sum "$bc" | cut -d' ' -f1)" ] &&
        ok "plan and manifest carry sha256sum of the bitcode" || fail "bitcode sha256"
    for p in 0 1; do
        [ "$(jq -r ".ports[$p].rss_key" $m)" = "$(plan_key $p)" ] &&
            [ "$(jq -c ".ports[$p].reta" $m)" = "$(jq -c ".ports[$p].reta" plan.json)" ] &&
            [ "$(jq -c ".ports[$p].rss_hf" $m)" = "$(jq -c ".ports[$p].rss_hf" plan.json)" ] &&
            [ "$(jq -r ".ports[$p].dev" $m)" = "eth$p" ] && [ "$(jq ".ports[$p].queues" $m)" = 4 ] ||
            fail "manifest port $p differs from the plan"
    done
    [ "$(jq -c '[.objects[] | .decision]' $m)" = "$(jq -c '[.objects[] | .decision]' plan.json)" ] &&
        [ "$(jq .checks.independent_recheck.passed $m)" = true ] &&
        [ "$(jq -r .nic.profile $m)" = 82599 ] && [ "$(jq .nic.key_len $m)" = 40 ] ||
        fail "manifest objects, checks or NIC"
    if [ "$(wc -l < summary.txt)" -le 24 ] &&
        awk 'length($0) > 100 { bad = 1 } END { exit bad }' summary.txt; then
        ok "summary fits a terminal ($(wc -l < summary.txt) lines, <= 100 columns)"
    else
        fail "summary longer than 24 lines or wider than 100 columns"
    fi
    "$rsskey" deploy plan.json -o dj --json > dj.json && [ "$(jq -r .dev_placeholders dj.json)" = true ] &&
        [ "$(jq -r '.files | length' dj.json)" = 5 ] && ok "--json" || fail "--json output"
    # Atomic folder: an existing deployment is kept without --force, swapped with it.
    before=$(sha256sum dep/manifest.json)
    "$rsskey" deploy plan.json -o dep > /dev/null 2> e.txt; rc=$?
    [ $rc = 2 ] && grep -q "pass --force" e.txt && [ "$(sha256sum dep/manifest.json)" = "$before" ] ||
        fail "existing folder not protected (exit $rc)"
    "$rsskey" deploy plan.json -o dep --dev x0,x1 --force > /dev/null && [ "$(jq -r .ports[0].dev dep/manifest.json)" = x0 ] ||
        fail "--force did not replace the deployment"
    mkdir other && echo mine > other/notes.txt
    "$rsskey" deploy plan.json -o other --force > /dev/null 2> e.txt; rc=$?
    [ $rc = 2 ] && [ "$(cat other/notes.txt)" = mine ] && ok "--force refuses a folder deploy did not write" ||
        fail "--force touched a foreign folder (exit $rc)"
    ls -a | grep -q '\.tmp-' && fail "a temporary folder was left"
    # rsskey report --manifest: a Deployment section; another plan's manifest refused.
    "$rsskey" report plan.json --manifest dep/manifest.json -o r.md || fail "report --manifest failed"
    grep -q "^## Deployment" r.md && grep -q "x0" r.md && ok "report has a Deployment section" ||
        fail "no Deployment section"
    "$rsskey" synth "$bc" --nic 82599 --cores 2 -o other.json > /dev/null
    "$rsskey" report other.json --manifest dep -o r2.md 2> e.txt; rc=$?
    [ $rc = 3 ] && grep -q "made from another plan" e.txt && [ ! -e r2.md ] &&
        ok "report refuses another plan's manifest (exit 3)" || fail "report accepted another plan's manifest (exit $rc)"
    # A plan without the bitcode hash (--plan-in, older rsskey) still deploys.
    jq 'del(.nf_sha256)' plan.json > nohash.json
    "$rsskey" deploy nohash.json -o dn > /dev/null && [ "$(jq .nf.bitcode_sha256 dn/manifest.json)" = null ] ||
        fail "plan without nf_sha256"
    ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
[ $failures = 0 ] && echo "deploy $mode: all checks passed" || echo "deploy $mode: $failures failure(s)"
[ $failures = 0 ]
