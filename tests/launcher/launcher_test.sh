#!/usr/bin/env bash
# launcher_test.sh MODE RSSKEY RUNNER NF.bc TRACE
# Deploys a synthesised plan with the NF's DPDK runner and checks it:
#   verify     every packet of TRACE gets the sequential NF's verdict and bytes
#              on 3 worker cores, and every core gets packets
#   wrong-key  a plan whose port-1 key is replaced is caught by --verify
#   live       packets from net_pcap ports (no --replay): sound, and a wrong port-1
#              key caught
#   hardware   hardware RSS: the key and RETA read back from net_null ports
#   errors     bad plans and arguments give clear errors and usage exit codes
#   measure    --measure: packets from memory land on the cores the plan's RSS
#              picks (checked against rsskey sim --rss-only), every core runs
#              passes and reports cycles; the ports' own queues on net_null;
#              --driver-from calibrates with the nop NF and refuses a stateful one
# With a real capture (TRACE from ../shared/traces):
#   zero-diff  fw: no difference of any class at 2, 4 and 8 cores (e810 and x550),
#              IPv4 fragments included
#   wrong-field  psd's plan with policer's port-1 RSS (sharded by ipv4.dst instead
#              of ipv4.src), every packet on port 1: caught as unsound
#   capacity   fw with 256 flows split over 4 cores: capacity differences, none unsound
#   estimate   cl with a 16-counter sketch: estimate differences, none unsound
#   layouts    lb (shared backends) under three lcore layouts: never unsound or racy,
#              and the deterministic classes identical in every run
#   layouts-port1  psd with every packet on port 1 under the same layouts: no
#              difference of any class
set -euo pipefail
mode=$1 rsskey=$2 runner=$3 bc=$4 trace=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="rsskey-test-$$"
# DPDK without hugepages or NICs; every lcore on CPU 0 so any machine has them.
eal=(--no-huge -m 512 --no-pci --file-prefix "$prefix" --log-level=1
     --vdev net_null0 --vdev net_null1)
fail() { echo "FAIL: $*" >&2; exit 1; }

# run_verify PLAN LCORES: --verify --json on TRACE (LAN: $lan, default the
# private ranges; --config from $config), JSON on stdout; exit status of the run.
run_verify() {
    local cfg=() c
    for c in ${config:-}; do cfg+=(--config "$c"); done
    "$runner" --plan "$1" "${cfg[@]}" --verify --json --replay "$trace" \
        --lan "${lan:-10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fd00::/8}" -- "${eal[@]}" \
        --lcores "$2" 2> "$work/run.err"
}

synth() {   # synth CORES NIC OUT [--config N=V ...]
    local rc=0 cores=$1 nic=$2 out=$3
    shift 3
    "$rsskey" synth "$bc" --cores "$cores" --nic "$nic" -o "$out" "$@" > "$work/synth.out" 2>&1 ||
        rc=$?
    [ $rc = 0 ] || { cat "$work/synth.out"; fail "rsskey synth exited $rc"; }
}

case $mode in
verify)
    synth 3 x710 "$work/plan.json"
    "$runner" --plan "$work/plan.json" --verify --json --replay "$trace" \
        --lan 10.0.0.0/8,fd00::/8 -- "${eal[@]}" --lcores 0@0,1@0,2@0,3@0 \
        > "$work/run.json" 2> "$work/run.err" || { cat "$work/run.err"; fail "runner failed"; }
    cat "$work/run.json"
    grep -q '"result": "sound"' "$work/run.json" || fail "verify found unsound differences"
    grep -q '"unsound": 0,' "$work/run.json" || fail "unsound differences"
    grep -q '"races": 0' "$work/run.json" || fail "the parallel run raced"
    grep -q '"packets": 2500,' "$work/run.json" || fail "not every packet was verified"
    grep -q '"too_long": 0' "$work/run.json" || fail "some frames were not replayed"
    grep -q '"plan_violations": 0' "$work/run.json" || fail "plan violations"
    # Load spreads: no core is idle (the demo trace has 200 flows).
    if grep -q '"packets": 0,' "$work/run.json"; then fail "a core received nothing"; fi
    ;;
wrong-key)
    synth 3 x710 "$work/plan.json"
    # Give port 1 an unrelated key: WAN replies no longer meet their LAN flows.
    awk 'BEGIN { n = 0 }
         /"rss_key":/ { n++; if (n == 2) sub(/"rss_key": "[0-9a-f]+"/,
           "\"rss_key\": \"6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa0102030405060708090a0b0c\"") }
         { print }' "$work/plan.json" > "$work/wrong.json"
    ! cmp -s "$work/plan.json" "$work/wrong.json" || fail "could not rewrite the port-1 key"
    if "$runner" --plan "$work/wrong.json" --verify --replay "$trace" --lan 10.0.0.0/8,fd00::/8 \
        -- "${eal[@]}" --lcores 0@0,1@0,2@0,3@0 > "$work/run.out" 2> "$work/run.err"; then
        cat "$work/run.out"; fail "a plan with a wrong key passed --verify"
    fi
    cat "$work/run.err"
    grep -q "unsound differences from the sequential NF" "$work/run.err" || fail "no unsound difference reported"
    grep -q "^verify: UNSOUND" "$work/run.out" || fail "the summary does not say unsound"
    ;;
live)
    # Packets from ports, not --replay: net_pcap devices receive the trace split by
    # side (LAN sources on port 0), so --verify builds its set from the workers' logs
    # in arrival order. The plan is sound; with port 1's key replaced it is caught.
    synth 3 x710 "$work/plan.json"
    lanf="ip.src==10.0.0.0/8 or ipv6.src==fd00::/8"
    tshark -r "$trace" -Y "$lanf" -w "$work/p0.pcap" 2> /dev/null
    tshark -r "$trace" -Y "!($lanf)" -w "$work/p1.pcap" 2> /dev/null
    awk 'BEGIN { n = 0 }
         /"rss_key":/ { n++; if (n == 2) sub(/"rss_key": "[0-9a-f]+"/,
           "\"rss_key\": \"6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa0102030405060708090a0b0c\"") }
         { print }' "$work/plan.json" > "$work/wrong.json"
    live=(--no-huge -m 512 --no-pci --file-prefix "$prefix" --log-level=1 --lcores 0@0,1@0,2@0,3@0
          --vdev "net_pcap0,rx_pcap=$work/p0.pcap,tx_pcap=$work/o0.pcap"
          --vdev "net_pcap1,rx_pcap=$work/p1.pcap,tx_pcap=$work/o1.pcap")
    total=$(( $(capinfos -c -M "$work/p0.pcap" | awk '/packets/ { print $NF }') +
              $(capinfos -c -M "$work/p1.pcap" | awk '/packets/ { print $NF }') ))
    "$runner" --plan "$work/plan.json" --verify --json --idle-exit-ms 500 -- "${live[@]}" \
        > "$work/run.json" 2> "$work/run.err" || { cat "$work/run.err"; fail "live run failed"; }
    grep -q '"result": "sound"' "$work/run.json" || { cat "$work/run.json"; fail "live: unsound"; }
    grep -q "\"packets\": $total," "$work/run.json" || { cat "$work/run.json"; fail "live: not all $total packets verified"; }
    grep -q '"races": 0' "$work/run.json" || fail "live: the parallel run raced"
    if "$runner" --plan "$work/wrong.json" --verify --json --idle-exit-ms 500 -- "${live[@]}" \
        > "$work/wrong.out" 2> "$work/wrong.err"; then
        cat "$work/wrong.out"; fail "live: a plan with a wrong key passed --verify"
    fi
    grep -q '"result": "unsound"' "$work/wrong.out" || { cat "$work/wrong.out"; fail "live: the wrong key was not reported unsound"; }
    ;;
hardware)
    # net_null hashes with a 40-byte key and a 128-entry RETA, like virtio.
    synth 2 virtio "$work/plan.json"
    "$runner" --plan "$work/plan.json" --configure-only -- "${eal[@]}" --lcores 0@0,1@0,2@0 \
        > "$work/run.out" || { cat "$work/run.out"; fail "configure-only failed"; }
    cat "$work/run.out"
    grep -q "^rss: hardware" "$work/run.out" || fail "hardware RSS was not used"
    [ "$(grep -c 'key programmed, RETA (128 entries) programmed' "$work/run.out")" = 2 ] \
        || fail "key or RETA did not read back on both ports"
    ;;
measure)
    synth 3 e810 "$work/plan.json"
    noports=(--no-huge -m 512 --no-pci --file-prefix "$prefix" --log-level=1)
    "$runner" --plan "$work/plan.json" --measure --seconds 0.3 --json --replay "$trace" \
        --lan 10.0.0.0/8 -- "${noports[@]}" --lcores '0@0,(1-3)@0' > "$work/m.json" \
        2> "$work/m.err" || { cat "$work/m.err"; fail "--measure from memory failed"; }
    jq -e '.rss == "pre-steered" and .measure.source == "memory" and .measure.partial == false
           and .measure.rate_pps > 0 and .measure.cycles_per_packet > 0' "$work/m.json" \
        > /dev/null || { cat "$work/m.json"; fail "--measure: wrong summary"; }
    # Every core: at least 3 passes over its packets, with cycles.
    jq -e '[.measure.cores[] | select(.packets > 0) | (.passes >= 3 and .cycles_per_packet > 0)]
           | all' "$work/m.json" > /dev/null || { cat "$work/m.json"; fail "--measure: a core did not run its passes"; }
    # The packets per core are the plan's RSS split, as the simulator computes it.
    "$rsskey" sim --plan "$work/plan.json" --rss-only --json "$trace" --lan 10.0.0.0/8 \
        > "$work/rss.json"
    want=$(jq -c '[.cores[].packets]' "$work/rss.json")
    got=$(jq -c '[.measure.cores[].packets]' "$work/m.json")
    [ "$want" = "$got" ] || fail "--measure steered $got packets per core, the plan's RSS gives $want"
    [ "$(jq '[.cores[] | select(.packets > 0)] | length' "$work/rss.json")" -ge 2 ] ||
        fail "the test trace should spread over several cores"
    # Ports' own queues: net_null with a 128-entry RETA plan, one worker.
    synth 1 virtio "$work/one.json"
    "$runner" --plan "$work/one.json" --measure --seconds 0.3 --json -- "${eal[@]}" \
        --lcores 0@0,1@0 > "$work/p.json" 2> "$work/p.err" || { cat "$work/p.err"; fail "--measure on ports failed"; }
    jq -e '.rss == "hardware" and .measure.source == "ports" and .measure.packets > 0 and
           .measure.rate_pps > 0' "$work/p.json" > /dev/null || { cat "$work/p.json"; fail "--measure on ports: wrong summary"; }
    # Errors: devices given with --replay; --verify with --measure.
    set +e
    "$runner" --plan "$work/plan.json" --measure --replay "$trace" -- "${eal[@]}" \
        --lcores '0@0,(1-3)@0' 2> "$work/e1"; rc1=$?
    "$runner" --plan "$work/plan.json" --measure --verify --replay "$trace" -- "${noports[@]}" \
        2> "$work/e2"; rc2=$?
    "$runner" --plan "$work/plan.json" --measure --seconds 0 -- "${noports[@]}" 2> "$work/e3"; rc3=$?
    set -e
    [ $rc1 = 2 ] && grep -q "makes its own devices" "$work/e1" || { cat "$work/e1"; fail "vdevs with --measure --replay: $rc1"; }
    [ $rc2 = 2 ] && grep -q "do not go together" "$work/e2" || { cat "$work/e2"; fail "--measure --verify: $rc2"; }
    [ $rc3 = 2 ] && grep -q -- "--seconds wants" "$work/e3" || { cat "$work/e3"; fail "--seconds 0: $rc3"; }
    # Calibration from the nop NF's measurement; a stateful NF's is refused.
    nop_runner="$(dirname "$runner")/rsskey-run-nop"
    "$rsskey" synth "$(dirname "$bc")/nop.O2.bc" --cores 1 -o "$work/nop.json" > /dev/null
    "$nop_runner" --plan "$work/nop.json" --measure --seconds 0.3 --json --replay "$trace" \
        --lan 10.0.0.0/8 -- "${noports[@]}" --lcores 0@0,1@0 > "$work/nop.run.json" \
        2> "$work/nop.err" || { cat "$work/nop.err"; fail "nop --measure failed"; }
    cyc=$(jq -r '.measure.cycles_per_packet' "$work/nop.run.json")
    "$rsskey" sim --calibrate --driver-from "$work/nop.run.json" -o "$work/costs.conf" \
        2> "$work/cal.log" || { cat "$work/cal.log"; fail "--calibrate --driver-from failed"; }
    grep -q "$(printf '+ %.1f measured for the DPDK driver' "$cyc")" "$work/cal.log" ||
        { cat "$work/cal.log"; fail "calibration did not take the measured $cyc cycles"; }
    grep -q "Driver share of base_cycles: measured" "$work/costs.conf" || fail "costs file does not say where the driver share came from"
    set +e
    "$rsskey" sim --calibrate --driver-from "$work/m.json" -o "$work/c2.conf" 2> "$work/e4"; rc4=$?
    set -e
    [ $rc4 = 3 ] && grep -q "state objects" "$work/e4" && [ ! -e "$work/c2.conf" ] ||
        { cat "$work/e4"; fail "a stateful NF's measurement was taken as the driver's: $rc4"; }
    ;;
errors)
    synth 3 x710 "$work/plan.json"
    set +e
    "$runner" --verify -- "${eal[@]}" 2> "$work/e1"; rc1=$?
    "$runner" --plan "$work/missing.json" -- "${eal[@]}" 2> "$work/e2"; rc2=$?
    echo '{"schema": "rsskey-plan/1"' > "$work/broken.json"
    "$runner" --plan "$work/broken.json" -- "${eal[@]}" 2> "$work/e3"; rc3=$?
    # Three plan cores need four lcores; give two.
    "$runner" --plan "$work/plan.json" -- "${eal[@]}" --lcores 0@0,1@0 2> "$work/e4"; rc4=$?
    # A plan made for another NF (the nop NF has no state at all).
    "$rsskey" synth "$(dirname "$bc")/nop.O2.bc" --cores 3 -o "$work/other.json" > /dev/null
    "$runner" --plan "$work/other.json" --replay "$trace" --lan 10.0.0.0/8 -- "${eal[@]}" \
        --lcores 0@0,1@0,2@0,3@0 2> "$work/e5"; rc5=$?
    set -e
    cat "$work"/e1 "$work"/e2 "$work"/e3 "$work"/e4 "$work"/e5
    [ $rc1 = 2 ] && grep -q -- "--plan FILE is required" "$work/e1" || fail "missing --plan: $rc1"
    [ $rc2 != 0 ] && grep -q "missing.json" "$work/e2" || fail "missing file: $rc2"
    [ $rc3 != 0 ] && grep -q "broken.json" "$work/e3" || fail "broken plan: $rc3"
    [ $rc4 = 2 ] && grep -q "needs 4 lcores" "$work/e4" || fail "too few lcores: $rc4"
    [ $rc5 = 3 ] && grep -q "is not a plan for this NF: it was made from .*nop.O2.bc" "$work/e5" ||
        fail "foreign plan: $rc5"
    ;;
zero-diff)
    for nic in e810 x550; do
        for cores in 2 4 8; do
            synth $cores $nic "$work/plan.json"
            run_verify "$work/plan.json" "0@0,(1-$cores)@1" > "$work/run.json"
            for class in unsound interleaving translation capacity estimate; do
                [ "$(jq ".verify.differences.$class" "$work/run.json")" = 0 ] ||
                    fail "$cores cores, $nic: $class differences"
            done
            echo "$nic $cores cores: $(jq .verify.packets "$work/run.json") packets, 0 differences"
        done
    done
    ;;
wrong-field)
    synth 4 e810 "$work/plan.json"
    # The same NIC and cores, but port 1 hashed as the policer's plan does it.
    "$rsskey" synth "$(dirname "$bc")/policer.O2.bc" --cores 4 --nic e810 \
        -o "$work/policer.json" > /dev/null
    jq --slurpfile pol "$work/policer.json" '.ports[1] = $pol[0].ports[1]' "$work/plan.json" \
        > "$work/wrong.json"
    lan=203.0.113.0/24 run_verify "$work/wrong.json" "0@0,(1-4)@1" > "$work/run.json" &&
        fail "a plan sharded by the wrong field passed --verify"
    [ "$(jq .verify.differences.unsound "$work/run.json")" -gt 0 ] || fail "nothing unsound"
    jq -c '.verify.examples[0]' "$work/run.json"
    ;;
capacity)
    synth 4 e810 "$work/plan.json"
    config=capacity=256 run_verify "$work/plan.json" "0@0,(1-4)@1" > "$work/run.json"
    [ "$(jq .verify.differences.unsound "$work/run.json")" = 0 ] || fail "unsound differences"
    [ "$(jq .verify.differences.capacity "$work/run.json")" -gt 0 ] || fail "no capacity class"
    jq -c .verify.differences "$work/run.json"
    ;;
estimate)
    # The plan is made for the configuration it runs with (limit decides verdicts).
    synth 4 e810 "$work/plan.json" --config sketch_width=16 --config sketch_depth=1 \
        --config limit=3
    config="sketch_width=16 sketch_depth=1 limit=3" run_verify "$work/plan.json" \
        "0@0,(1-4)@1" > "$work/run.json"
    [ "$(jq .verify.differences.unsound "$work/run.json")" = 0 ] || fail "unsound differences"
    [ "$(jq .verify.differences.estimate "$work/run.json")" -gt 0 ] || fail "no estimate class"
    jq -c .verify.differences "$work/run.json"
    ;;
layouts|layouts-port1)
    synth 4 e810 "$work/plan.json"
    # layouts-port1: every packet on port 1 (a LAN matching none of the hosts),
    # so many sources spread over the cores: no difference of any class.
    [ "$mode" = layouts-port1 ] && lan=203.0.113.0/24
    first=""
    for lay in "0@0,(1-4)@0" "0@0,(1-4)@1" "0@0,1@1,2@0,3@1,4@0" "0@0,(1-4)@0"; do
        run_verify "$work/plan.json" "$lay" > "$work/run.json"
        [ "$(jq .verify.races "$work/run.json")" = 0 ] || fail "$lay: races"
        sig=$(jq -c '[.verify.packets, .verify.differences.unsound,
                      .verify.differences.translation, .verify.differences.capacity,
                      .verify.differences.estimate, .verify.result]' "$work/run.json")
        echo "$lay: $sig, interleaving $(jq .verify.differences.interleaving "$work/run.json")"
        [ -z "$first" ] && first=$sig
        [ "$sig" = "$first" ] || fail "$lay gives $sig, the first layout $first"
        if [ "$mode" = layouts-port1 ]; then
            for class in unsound interleaving translation capacity estimate; do
                [ "$(jq ".verify.differences.$class" "$work/run.json")" = 0 ] ||
                    fail "$lay: $class differences"
            done
        fi
    done
    ;;
*) fail "unknown mode $mode" ;;
esac
echo "ok: $mode"
