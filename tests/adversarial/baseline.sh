#!/usr/bin/env bash
# baseline.sh BUILD_DIR [RUNS] - the baseline of BASELINE.md: for each
# adversarial NF, what `rsskey analyze` decides at -O0 and -O2, the plan
# `rsskey synth NF.O2.bc --nic e810 --cores 4` writes, and what the runner's
# --verify reports on a capture that exercises the NF, RUNS times (default 2).
# Prints one Markdown table row per run configuration. Needs the build's
# rsskey, adv-capture, rsskey-run-adv-* and adv-replay-* (and rsskey-run-fw /
# -nat for the reference rows). DPDK runs without hugepages or NICs (net_null
# ports). The last column replays the same plan in capture order in one thread
# (order_replay.c), which has none of --verify's reordering.
set -euo pipefail
build=$(cd "$1" && pwd)
runs=${2:-2}
rsskey=$build/rsskey
bc=$build/tests/adversarial/bc
capture=$build/tests/adversarial/adv-capture
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Captures: crafted, and generated with the new encapsulation options.
for kind in colliding-sources fragments canonical dns tcp-handshakes nat-replies; do
    "$capture" "$kind" -o "$work/$kind.pcap" > /dev/null
done
gen() { local out=$1; shift; "$rsskey" trace gen -o "$work/$out.pcap" --seed 3 "$@" > /dev/null; }
gen gen-2port --flows 300 --packets 6000 --two-port
gen gen-vlan --flows 300 --packets 6000 --two-port --vlan-share 0.5
gen gen-mix --flows 300 --packets 6000 --two-port --ipv6-share 0.5 --frag-share 0.2 \
    --ipv6-ext-share 0.3
gen gen-frag --flows 300 --packets 6000 --two-port --frag-share 0.3
gen gen-v6 --flows 300 --packets 6000 --two-port --ipv6-share 1 --ipv6-ext-share 0.5 \
    --frag-share 0.3
gen gen-v4v6 --flows 300 --packets 6000 --two-port --ipv6-share 0.5
gen gen-slow --flows 100 --packets 4000 --pps 2000 --two-port

decision() {    # decision FILE.bc: "S sharded / R repl. / X shared; RSS p0 ...; p1 ..."
    "$rsskey" analyze "$1" > "$work/an.txt" 2>&1 || true
    local head rss
    head=$(sed -n '1s/.*(\(.*\))/\1/p' "$work/an.txt" | sed 's/replicated/repl./')
    rss=$(grep '^  RSS on port' "$work/an.txt" | sed 's/^  RSS on port \([0-9]*\): /p\1 /' \
          | sed 's/any fields (no sharded state is keyed on this port)/any/' | paste -sd ';' \
          | sed 's/;/; /g')
    echo "$head${rss:+; $rss}"
}

row=0
verify_row() {  # verify_row NF RUNNER CAPTURE [--config X=Y ...]
    local nf=$1 runner=$2 trace=$3; shift 3
    local file=$bc/$nf.O2.bc
    [ -f "$file" ] || file=$build/nfs/$nf.O2.bc
    local o0=${file%.O2.bc}.O0.bc
    "$rsskey" synth "$file" --nic e810 --cores 4 -o "$work/plan.json" "$@" > "$work/synth.txt" 2>&1 \
        || { echo "| $nf | $trace | synth failed: $(tail -1 "$work/synth.txt") |"; return; }
    local results=()
    for ((r = 1; r <= runs; r++)); do
        row=$((row + 1))
        local rc=0
        "$build/$runner" --plan "$work/plan.json" --verify --json "$@" \
            --replay "$work/$trace.pcap" --lan 10.0.0.0/8,fd00::/8 -- \
            --no-huge -m 512 --no-pci --file-prefix "adv$$-$row" --log-level=1 \
            --vdev net_null0 --vdev net_null1 --lcores 0@0,1@0,2@1,3@0,4@1 \
            > "$work/run.json" 2> "$work/run.err" || rc=$?
        local v
        v=$(jq -r 'if .verify then "\(.verify.differences.unsound) unsound, \(.verify.races) races, "
                  + "\(.verify.differences.interleaving) interl., \(.verify.differences.translation) transl., "
                  + "\(.verify.differences.capacity) cap., \(.verify.differences.estimate) est. "
                  + "/ \(.verify.packets)" + (if .plan_violations > 0 then " (viol. \(.plan_violations))" else "" end)
                  else empty end' "$work/run.json" 2> /dev/null || true)
        if [ -z "$v" ]; then
            results+=("error (exit $rc): $(grep -m1 error "$work/run.err" || tail -1 "$work/run.err")")
        else
            results+=("$v (exit $rc)")
        fi
    done
    local config="${*:-}"
    local joined=${results[0]}
    for ((r = 1; r < ${#results[@]}; r++)); do joined+=" ; ${results[r]}"; done
    # The same plan replayed in capture order in one thread (order_replay.c).
    local replay
    replay=$("$build/tests/adversarial/adv-replay-$nf" --plan "$work/plan.json" \
             --replay "$work/$trace.pcap" --lan 10.0.0.0/8,fd00::/8 "$@" 2>&1 || true)
    replay=$(echo "$replay" | sed -n 's/^packets \([0-9]*\) differences \([0-9]*\) .*cores \(.*\)/\2\/\1 (cores \3)/p')
    echo "| $nf${config:+ ($config)} | $trace | $(decision "$o0") | $(decision "$file") |" \
         "$joined | ${replay:-error} |"
}

echo "| NF | capture | -O0 analysis | -O2 analysis (plan) | verify: differences by class / packets, run 1 ; run 2 | capture-order replay: differences/packets |"
echo "| --- | --- | --- | --- | --- | --- |"
verify_row hashidx_mul rsskey-run-adv-hashidx_mul colliding-sources
verify_row hashidx_salt rsskey-run-adv-hashidx_salt colliding-sources
verify_row frag_fw rsskey-run-adv-frag_fw fragments
verify_row frag_fw rsskey-run-adv-frag_fw gen-frag
verify_row vlan_acl rsskey-run-adv-vlan_acl gen-vlan
verify_row v6_flows rsskey-run-adv-v6_flows fragments
verify_row v6_flows rsskey-run-adv-v6_flows gen-v6
verify_row ports_counter rsskey-run-adv-ports_counter gen-mix
verify_row ports_counter rsskey-run-adv-ports_counter gen-v4v6
verify_row ports_counter rsskey-run-adv-ports_counter gen-frag
verify_row ports_counter rsskey-run-adv-ports_counter gen-2port
verify_row canon_monitor rsskey-run-adv-canon_monitor canonical
verify_row tap_pairs rsskey-run-adv-tap_pairs canonical
verify_row cl_ts rsskey-run-adv-cl_ts gen-slow
verify_row dns_txid rsskey-run-adv-dns_txid dns
verify_row cfg_ports_fw rsskey-run-adv-cfg_ports_fw gen-2port
verify_row cfg_ports_fw rsskey-run-adv-cfg_ports_fw gen-2port --config wan_port=0
verify_row src_dst_counters rsskey-run-adv-src_dst_counters gen-2port
verify_row tcp_tracker rsskey-run-adv-tcp_tracker tcp-handshakes
verify_row nat_wrong_host rsskey-run-adv-nat_wrong_host nat-replies
verify_row nat_wrong_host_det rsskey-run-adv-nat_wrong_host_det nat-replies
verify_row expiry_heavy rsskey-run-adv-expiry_heavy gen-slow
verify_row expiry_heavy rsskey-run-adv-expiry_heavy gen-2port
verify_row expiry_heavy rsskey-run-adv-expiry_heavy gen-frag
# Reference NFs on the same captures, for comparison.
verify_row fw rsskey-run-fw fragments
verify_row fw rsskey-run-fw gen-frag
verify_row nat rsskey-run-nat nat-replies --config external_ip=0xC6336401 \
    --config base_port=20000 --config capacity=4096
