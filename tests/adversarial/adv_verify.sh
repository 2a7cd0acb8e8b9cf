#!/usr/bin/env bash
# adv_verify.sh BUILD_DIR - the adversarial NFs under --verify, as a test.
# For each NF and a capture made to break it (adv-capture, trace gen with
# fragments / VLANs / IPv6 extension headers), synthesise the e810 plan at 2
# and 4 cores from the -O0 and the -O2 bitcode and replay it with --verify
# under two lcore layouts (all workers on one CPU; workers spread and
# interleaved). Every run must find no unsound difference, no race and no
# plan violation, and exit 0. Then the cases that must fail:
#   - the analysis never shards what hashed or salted indexes key, nor the
#     NAT whose reply host depends on the allocated index (nat_wrong_host);
#   - a plan that does shard nat_wrong_host (nat_wrong_host_det's: same
#     objects) is caught by --verify as unsound, and the run exits 1;
#   - nat_wrong_host_det (wrong the same way on every core) is not blamed:
#     its differences are translations.
set -euo pipefail
build=$(cd "$1" && pwd)
rsskey=$build/rsskey
bc=$build/tests/adversarial/bc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="rsskey-adv-$$"
fail() { echo "FAIL: $*" >&2; exit 1; }

for kind in colliding-sources fragments canonical dns tcp-handshakes nat-replies; do
    "$build/tests/adversarial/adv-capture" "$kind" -o "$work/$kind.pcap" > /dev/null
done
gen() { local out=$1; shift; "$rsskey" trace gen -o "$work/$out.pcap" --seed 3 "$@" > /dev/null; }
gen gen-2port --flows 300 --packets 6000 --two-port
gen gen-vlan --flows 300 --packets 6000 --two-port --vlan-share 0.5
gen gen-mix --flows 300 --packets 6000 --two-port --ipv6-share 0.5 --frag-share 0.2 \
    --ipv6-ext-share 0.3
gen gen-frag --flows 300 --packets 6000 --two-port --frag-share 0.3
gen gen-v6 --flows 300 --packets 6000 --two-port --ipv6-share 1 --ipv6-ext-share 0.5 \
    --frag-share 0.3
gen gen-slow --flows 100 --packets 4000 --pps 2000 --two-port

runs=0
# verify_run RUNNER PLAN TRACE LCORES [--config X=Y ...]: JSON in $work/run.json, exit status in $rc.
verify_run() {
    local runner=$1 plan=$2 trace=$3 lcores=$4
    shift 4
    runs=$((runs + 1))
    rc=0
    "$build/$runner" --plan "$plan" --verify --json "$@" --replay "$work/$trace.pcap" \
        --lan 10.0.0.0/8,fd00::/8 -- --no-huge -m 512 --no-pci --file-prefix "$prefix-$runs" \
        --log-level=1 --vdev net_null0 --vdev net_null1 --lcores "$lcores" \
        > "$work/run.json" 2> "$work/run.err" || rc=$?
    jq -e .verify "$work/run.json" > /dev/null 2>&1 ||
        { cat "$work/run.err"; fail "$runner on $trace ($lcores): no verify result (exit $rc)"; }
}

field() { jq -r "$1" "$work/run.json"; }

layouts_for() {     # the two layouts for CORES workers
    local cores=$1
    echo "0@0,(1-$cores)@0"
    if [ "$cores" = 2 ]; then echo "0@0,1@1,2@0"; else echo "0@0,1@0,2@1,3@0,4@1"; fi
}

# sound NF RUNNER TRACE [--config N=V ...]: every plan (made for the same
# configuration), every layout, nothing unsound.
sound() {
    local nf=$1 runner=$2 trace=$3
    shift 3
    local file o cores lc
    for o in O0 O2; do
        file=$bc/$nf.$o.bc
        [ -f "$file" ] || file=$build/nfs/$nf.$o.bc
        for cores in 2 4; do
            "$rsskey" synth "$file" --nic e810 --cores "$cores" -o "$work/plan.json" "$@" \
                > "$work/synth.txt" 2>&1 || { cat "$work/synth.txt"; fail "synth $nf.$o"; }
            while read -r lc; do
                verify_run "$runner" "$work/plan.json" "$trace" "$lc" "$@"
                local u r v
                u=$(field .verify.differences.unsound)
                r=$(field .verify.races)
                v=$(field .plan_violations)
                if [ "$rc" != 0 ] || [ "$u" != 0 ] || [ "$r" != 0 ] || [ "$v" != 0 ]; then
                    jq -c '.verify.examples[:3]' "$work/run.json" >&2 || true
                    fail "$nf.$o on $trace, $cores cores, lcores $lc: exit $rc, $u unsound," \
                         "$r races, $v plan violations"
                fi
            done < <(layouts_for "$cores")
        done
    done
    echo "ok: $nf on $trace (-O0/-O2 plans, 2/4 cores, 2 layouts): 0 unsound"
}

# shared NF: the analysis shares every object at -O0 and -O2; REASON must be in its text.
all_shared() {
    local nf=$1 reason=$2 o
    for o in O0 O2; do
        "$rsskey" analyze "$bc/$nf.$o.bc" > "$work/an.txt" 2>&1 || fail "analyze $nf.$o"
        head -1 "$work/an.txt" | grep -q "(0 sharded, 0 replicated, [0-9]* shared)" ||
            { cat "$work/an.txt"; fail "$nf.$o: something sharded"; }
        grep -q "$reason" <(tr -s ' \n' ' ' < "$work/an.txt") ||
            { cat "$work/an.txt"; fail "$nf.$o: the reason does not say '$reason'"; }
    done
    echo "ok: $nf: every object shared at -O0 and -O2 ($reason)"
}

# Hashed and salted bucket indexes: no field of the packet decides the bucket.
all_shared hashidx_mul "a multiplication"
all_shared hashidx_salt "an addition"
all_shared nat_wrong_host "carries the index nf_process allocated"
# Fragments: the keys hold no L4 port where a fragment could carry one.
for o in O0 O2; do
    "$rsskey" analyze "$bc/frag_fw.$o.bc" > "$work/an.txt"
    grep '^  RSS on port' "$work/an.txt" | grep -q 'l4\.' &&
        { cat "$work/an.txt"; fail "frag_fw.$o: ports in a key although fragments reach it"; }
done
echo "ok: frag_fw: keys on addresses only"

# Configured ports: nf_config's default is a constant for the analysis, so the
# configured firewall gets its constant-port twin's plan; --config changes it;
# the launcher refuses a plan made for another value.
plan_shape() {   # plan_shape FILE.bc [--config ...]: the summary and RSS lines
    "$rsskey" analyze "$@" | grep -E '^[^ ].*objects? \(|^  RSS on port' | sed 's/^[^:]*: //'
}

# The plan each pattern must get, at -O0 and -O2: decisions, then the RSS
# fields per port ("-" = any fields; none printed when nothing is sharded).
expect_plan() {     # expect_plan NF "1 sharded, 0 replicated, 0 shared" ["port 0" "port 1"]
    local nf=$1 want=$2 o got
    shift 2
    for o in "$@"; do want+="|$o"; done
    for o in O0 O2; do
        got=$("$rsskey" analyze "$bc/$nf.$o.bc" |
              sed -n -e 's/.*(\([0-9]* sharded, [0-9]* replicated, [0-9]* shared\)).*/\1/p' \
                     -e 's/^  RSS on port [0-9]*: //p' |
              sed 's/^any fields.*/-/' | paste -sd '|')
        [ "$got" = "$want" ] || fail "$nf.$o: plan '$got', expected '$want'"
    done
    echo "ok: $nf: $want at -O0 and -O2"
}
# payload field (DNS id) and VLAN id beside addresses: sharded by the hashable part
expect_plan dns_txid "1 sharded, 0 replicated, 0 shared" "ipv4.src" "ipv4.dst"
expect_plan vlan_acl "1 sharded, 0 replicated, 0 shared" "ipv4.src" "ipv4.dst"
# two counters with conflicting keys on one port: a mixed plan, never both sharded
expect_plan src_dst_counters "1 sharded, 0 replicated, 1 shared" "ipv4.src" "-"
# TCP state machine across two ports, fragments possible: the address pair
expect_plan tcp_tracker "4 sharded, 0 replicated, 0 shared" "ipv4.src, ipv4.dst" \
    "ipv4.dst, ipv4.src"
# IPv6 flows with extension headers and fragments: the IPv6 address pair
expect_plan v6_flows "3 sharded, 0 replicated, 0 shared" "ipv6.src, ipv6.dst" \
    "ipv6.dst, ipv6.src"
# one port sees both directions, pair in canonical order: a symmetric key
expect_plan tap_pairs "4 sharded, 0 replicated, 0 shared" \
    "ipv4.src, ipv4.dst (symmetric in ipv4.src and ipv4.dst)" \
    "ipv4.src, ipv4.dst (symmetric in ipv4.src and ipv4.dst)"
# the same with (address, port) endpoints and no expiry: described, but its
# map values cannot be tied to one key each, so shared
expect_plan canon_monitor "0 sharded, 0 replicated, 3 shared"
# time-stamped sketch next to a flow table
expect_plan cl_ts "4 sharded, 0 replicated, 0 shared" "ipv4.src, ipv4.dst" "ipv4.dst, ipv4.src"
# configured WAN port: as its constant twin
expect_plan cfg_ports_fw "3 sharded, 0 replicated, 0 shared" "ipv4.src, ipv4.dst" \
    "ipv4.dst, ipv4.src"
# hashed indexes, dport over both IP versions and fragments, index-dependent NAT: locks
expect_plan hashidx_mul "0 sharded, 0 replicated, 1 shared"
expect_plan ports_counter "0 sharded, 0 replicated, 1 shared"
expect_plan nat_wrong_host "0 sharded, 0 replicated, 4 shared"
for o in O0 O2; do
    configured=$(plan_shape "$bc/cfg_ports_fw.$o.bc")
    constant=$(plan_shape "$bc/cfg_ports_fw_const.$o.bc")
    [ "$configured" = "$constant" ] ||
        fail "cfg_ports_fw.$o: '$configured' is not the constant twin's '$constant'"
    echo "$configured" | grep -q "(3 sharded" || fail "cfg_ports_fw.$o: not sharded: $configured"
    swapped=$(plan_shape "$bc/cfg_ports_fw.$o.bc" --config wan_port=0)
    [ "$(echo "$swapped" | sed -n 2p)" = "ipv4.dst, ipv4.src" ] ||
        fail "cfg_ports_fw.$o --config wan_port=0: port 0 should be the outside: $swapped"
done
echo "ok: cfg_ports_fw: the constant twin's plan at -O0 and -O2; wan_port=0 swaps the ports"
"$rsskey" synth "$bc/cfg_ports_fw.O2.bc" --nic e810 --cores 2 -o "$work/cfg1.json" > /dev/null
jq -e '.config[] | select(.name == "wan_port" and .value == 1 and .affects_plan)' \
    "$work/cfg1.json" > /dev/null || fail "plan.json does not record wan_port=1"
verify_run_expect_refusal() {   # PLAN [--config ...]: exit 3 naming wan_port
    local plan=$1 rc=0
    shift
    "$build/rsskey-run-adv-cfg_ports_fw" --plan "$plan" "$@" --verify \
        --replay "$work/gen-2port.pcap" -- --no-huge -m 512 --no-pci \
        --file-prefix "$prefix-refuse" --vdev net_null0 --vdev net_null1 \
        > /dev/null 2> "$work/refuse.err" || rc=$?
    [ "$rc" = 3 ] || fail "a plan run with another wan_port: exit $rc, not 3"
    grep -q "wan_port" "$work/refuse.err" || fail "the refusal does not name wan_port"
}
verify_run_expect_refusal "$work/cfg1.json" --config wan_port=0
"$rsskey" synth "$bc/cfg_ports_fw.O2.bc" --nic e810 --cores 2 --config wan_port=0 \
    -o "$work/cfg0.json" > /dev/null
verify_run_expect_refusal "$work/cfg0.json"
echo "ok: the launcher refuses a plan made for another wan_port (exit 3)"

sound hashidx_mul rsskey-run-adv-hashidx_mul colliding-sources
sound hashidx_salt rsskey-run-adv-hashidx_salt colliding-sources
sound frag_fw rsskey-run-adv-frag_fw fragments
sound frag_fw rsskey-run-adv-frag_fw gen-frag
sound vlan_acl rsskey-run-adv-vlan_acl gen-vlan
sound v6_flows rsskey-run-adv-v6_flows fragments
sound v6_flows rsskey-run-adv-v6_flows gen-v6
sound ports_counter rsskey-run-adv-ports_counter gen-mix
sound canon_monitor rsskey-run-adv-canon_monitor canonical
sound tap_pairs rsskey-run-adv-tap_pairs canonical
sound dns_txid rsskey-run-adv-dns_txid dns
sound cfg_ports_fw rsskey-run-adv-cfg_ports_fw gen-2port
sound cfg_ports_fw rsskey-run-adv-cfg_ports_fw gen-2port --config wan_port=0
sound src_dst_counters rsskey-run-adv-src_dst_counters gen-2port
sound tcp_tracker rsskey-run-adv-tcp_tracker tcp-handshakes
sound nat_wrong_host rsskey-run-adv-nat_wrong_host nat-replies
sound nat_wrong_host_det rsskey-run-adv-nat_wrong_host_det nat-replies
sound cl_ts rsskey-run-adv-cl_ts gen-slow
sound cl_ts rsskey-run-adv-cl_ts gen-2port
sound expiry_heavy rsskey-run-adv-expiry_heavy gen-slow
sound expiry_heavy rsskey-run-adv-expiry_heavy gen-frag
sound fw rsskey-run-fw fragments
sound fw rsskey-run-fw gen-frag
sound nat rsskey-run-nat nat-replies --config external_ip=0xC6336401 --config base_port=20000

# The time-stamped sketch with 8 buckets over 4 cores: per-core buckets run
# out (capacity) and estimate differently (estimate), nothing unsound.
small=(--config sketch_width=8 --config sketch_depth=1 --config limit=2)
"$rsskey" synth "$bc/cl_ts.O2.bc" --nic e810 --cores 4 "${small[@]}" -o "$work/cl.json" > /dev/null
verify_run rsskey-run-adv-cl_ts "$work/cl.json" gen-slow '0@0,(1-4)@1' "${small[@]}"
[ "$rc" = 0 ] && [ "$(field .verify.differences.unsound)" = 0 ] &&
    [ "$(field .verify.differences.estimate)" -gt 0 ] &&
    [ "$(field .verify.differences.capacity)" -gt 0 ] ||
    fail "cl_ts with a small sketch: $(jq -c .verify.differences "$work/run.json") (exit $rc)"
echo "ok: cl_ts with an 8-bucket sketch: $(jq -c .verify.differences "$work/run.json")"

# A tap monitor whose key is an address pair in canonical order: sharded with a
# hash symmetric in src and dst (the sound runs are above); the same analysis
# without the symmetric pair gives an ordinary key, and --verify must catch
# that plan splitting the two directions.
for o in O0 O2; do
    plan_shape "$bc/tap_pairs.$o.bc" | grep -q "ipv4.src, ipv4.dst (symmetric in ipv4.src and ipv4.dst)" ||
        fail "tap_pairs.$o: not sharded by a symmetric address pair"
done
"$rsskey" analyze --json "$bc/tap_pairs.O2.bc" | jq 'del(.objects[].symmetric)' > "$work/asym.json"
"$rsskey" synth --plan-in "$work/asym.json" --nic e810 --cores 4 -o "$work/asym-plan.json" \
    > /dev/null
verify_run rsskey-run-adv-tap_pairs "$work/asym-plan.json" canonical '0@0,(1-4)@0'
u=$(field .verify.differences.unsound)
[ "$rc" = 1 ] && [ "$u" -gt 0 ] || fail "tap_pairs with an asymmetric key: exit $rc, $u unsound"
echo "ok: tap_pairs: symmetric at -O0/-O2; an asymmetric key is caught ($u unsound, exit 1)"

# The NAT that answers host stored + (index & 1), run with a plan that shards
# it (nat_wrong_host_det's: the same objects and keys): unsound, exit 1,
# and the examples show the reply's host.
"$rsskey" synth "$bc/nat_wrong_host_det.O2.bc" --nic e810 --cores 4 -o "$work/det.json" \
    > /dev/null
for lc in '0@0,(1-4)@0' '0@0,1@0,2@1,3@0,4@1'; do
    verify_run rsskey-run-adv-nat_wrong_host "$work/det.json" nat-replies "$lc"
    u=$(field .verify.differences.unsound)
    [ "$rc" = 1 ] || fail "nat_wrong_host under a sharded plan: exit $rc, not 1"
    [ "$u" -gt 0 ] || fail "nat_wrong_host under a sharded plan: nothing unsound"
    field '.verify.examples[] | select(.class == "unsound") | .detail' |
        grep -q "destination address" ||
        fail "nat_wrong_host: no unsound example names the reply's destination address"
    echo "ok: nat_wrong_host with a sharded plan, lcores $lc: $u unsound, exit 1"
    # The deterministic bug under the same plan: only translations.
    verify_run rsskey-run-adv-nat_wrong_host_det "$work/det.json" nat-replies "$lc"
    t=$(field .verify.differences.translation)
    [ "$rc" = 0 ] && [ "$(field .verify.differences.unsound)" = 0 ] && [ "$t" -gt 0 ] ||
        fail "nat_wrong_host_det: exit $rc, translation $t"
    echo "ok: nat_wrong_host_det, lcores $lc: $t translations, 0 unsound"
done
echo "adv_verify: $runs verify runs passed"
