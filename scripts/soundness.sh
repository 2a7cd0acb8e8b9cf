#!/usr/bin/env bash
# soundness.sh - the soundness matrix: every reference NF x every capture
# (../shared/traces, the bundled demo, generated ones: replies, IPv6, churn,
# fragments, VLANs) x {1, 2, 4, 8} cores x two NIC profiles (52- and 40-byte
# keys), each cell verified (rsskey-run-NF --verify) under three lcore
# layouts and once more repeated. Prints one table: packets, differences per
# class (interleaving: the largest of the runs), whether the verdict and the
# deterministic classes were identical in every run, and a closing line.
# Exit 1 when any cell has an unsound difference or is not deterministic.
#
#   bash scripts/soundness.sh            the whole matrix (tens of minutes)
#   bash scripts/soundness.sh --quick    a reduced matrix (CI, about a minute)
#   bash scripts/soundness.sh --list     the cells, one per line
#   bash scripts/soundness.sh --cell "fw real-mix-104k 4 e810"   one cell's row
#
# Cells are independent: to spread a large sweep over machines, hand the list
# to GNU parallel, e.g.
#   bash scripts/soundness.sh --list | parallel --sshloginfile hosts \
#       --workdir /path/to/rsskey bash scripts/soundness.sh --cell {} > rows.tsv
# then `bash scripts/soundness.sh --table rows.tsv` prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${RSSKEY_BUILD_DIR:-build}
shared=${RSSKEY_SHARED_DIR:-$root/../shared}
work=${RSSKEY_SOUNDNESS_DIR:-$build/soundness}
mode=all quick=0 cell="" table=""

usage() {
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1 ;;
    --list) mode=list ;;
    --cell) mode=cell; cell=${2:?--cell needs \"NF TRACE CORES NIC\"}; shift ;;
    --cell=*) mode=cell; cell=${1#--cell=} ;;
    --table) mode=table; table=${2:?--table needs a file of rows}; shift ;;
    --table=*) mode=table; table=${1#--table=} ;;
    -h|--help) usage; exit 0 ;;
    *) echo "soundness.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

nfs=(nop sbridge dbridge policer fw nat cl psd lb hhh)
nics=(e810 x550)
cores_list=(1 2 4 8)
lan="10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fd00::/8"

# name  source  generator options (for gen-*)  LAN prefixes
trace_specs() {
    echo "demo $root/traces/demo/demo-2port.pcap - 10.0.0.0/8,fd00::/8"
    if [ $quick = 0 ]; then
        for t in web-tls-v4v6 web-v4 p2p-gnutella real-mix-104k; do
            [ -f "$shared/traces/$t.pcap" ] && echo "$t $shared/traces/$t.pcap - $lan"
        done
        # every packet on port 1 (a LAN that matches none of the hosts)
        [ -f "$shared/traces/web-tls-v4v6.pcap" ] &&
            echo "web-tls-port1 $shared/traces/web-tls-v4v6.pcap - 203.0.113.0/24"
        echo "gen-replies gen --two-port:--flows:800:--packets:20000 10.0.0.0/8,fd00::/8"
        echo "gen-ipv6 gen --two-port:--ipv6-share:0.5:--flows:800:--packets:20000 10.0.0.0/8,fd00::/8"
        echo "gen-churn gen --two-port:--churn:2:--duration:5:--pps:4000 10.0.0.0/8,fd00::/8"
    else
        [ -f "$shared/traces/real-mix-104k.pcap" ] &&
            echo "real-mix-104k $shared/traces/real-mix-104k.pcap - $lan"
    fi
    if "$build/rsskey" trace gen --help 2>/dev/null | grep -q -- --frag-share; then
        echo "gen-frag gen --two-port:--frag-share:0.3:--flows:600:--packets:12000 10.0.0.0/8,fd00::/8"
    fi
    if [ $quick = 0 ] && "$build/rsskey" trace gen --help 2>/dev/null | grep -q -- --vlan-share; then
        echo "gen-vlan gen --two-port:--vlan-share:0.5:--flows:600:--packets:12000 10.0.0.0/8,fd00::/8"
    fi
}

list_cells() {
    local cl=("${cores_list[@]}") ns=("${nics[@]}")
    [ $quick = 1 ] && cl=(2 4) && ns=(e810)
    while read -r name _; do
        for nf in "${nfs[@]}"; do
            for c in "${cl[@]}"; do
                for nic in "${ns[@]}"; do
                    echo "$nf $name $c $nic"
                done
            done
        done
    done < <(trace_specs)
}

# The capture of a trace name (generated ones are made once, seeded).
trace_file() {
    local want=$1 name src gen lanp
    while read -r name src gen lanp; do
        [ "$name" = "$want" ] || continue
        if [ "$src" = gen ]; then
            local out="$work/traces/$name.pcap"
            if [ ! -s "$out" ]; then
                mkdir -p "$work/traces"
                # shellcheck disable=SC2086
                "$build/rsskey" trace gen -o "$out" --seed 7 ${gen//:/ } > /dev/null
            fi
            echo "$out $lanp"
        else
            echo "$src $lanp"
        fi
        return 0
    done < <(trace_specs)
    echo "soundness.sh: unknown trace '$want'" >&2
    return 1
}

# Three lcore layouts for c workers plus the main lcore, over this machine's
# CPUs: all on the first CPU; workers on the last CPU; workers alternating.
layouts() {
    local c=$1 last=$(( $(nproc) - 1 )) alt="0@0" i
    for ((i = 1; i <= c; i++)); do alt+=",$i@$((i % (last + 1)))"; done
    echo "0@0,(1-$c)@0"
    echo "0@0,(1-$c)@$last"
    echo "$alt"
}

json_num() {    # json_num FILE KEY: the first "KEY": N in FILE's verify object
    local v
    v=$(jq -r ".verify.differences.$2 // .verify.$2 // 0" "$1" 2> /dev/null | head -1)
    case $v in
    '' | *[!0-9]*) echo "soundness.sh: $1: verify's $2 is '$v', not a count" >&2; return 1 ;;
    esac
    echo "$v"
}

run_cell() {
    local nf=$1 name=$2 c=$3 nic=$4
    local tl file lanp
    tl=$(trace_file "$name") || return 1
    file=${tl% *} lanp=${tl##* }
    local plan="$work/plans/$nf-$c-$nic.json"
    mkdir -p "$work/plans" "$work/runs"
    if [ ! -s "$plan" ]; then
        "$build/rsskey" synth "$build/nfs/$nf.O2.bc" --nic "$nic" --cores "$c" -o "$plan" \
            > "$work/plans/$nf-$c-$nic.log" 2>&1 ||
            { echo -e "$nf\t$name\t$c\t$nic\tsynth-failed"; return 0; }
    fi
    local sig="" first="" det=yes inter=0 packets=0 unsound=0 translation=0 capacity=0
    local estimate=0 races=0 start=$SECONDS runs=()
    mapfile -t runs < <(layouts "$c")
    runs+=("${runs[0]}")            # the first layout once more: repeated runs
    local k=0
    for lay in "${runs[@]}"; do
        k=$((k + 1))
        local out="$work/runs/$nf-$name-$c-$nic-$k.json" rc=0
        "$build/rsskey-run-$nf" --plan "$plan" --verify --json --replay "$file" --lan "$lanp" \
            -- --no-huge -m 1024 --no-pci --file-prefix "snd-$$-$k" --log-level=1 \
            --vdev net_null0 --vdev net_null1 --lcores "$lay" \
            > "$out" 2> "${out%.json}.err" || rc=$?
        if ! jq -e .verify "$out" > /dev/null 2>&1; then
            echo -e "$nf\t$name\t$c\t$nic\trun-failed($rc)\t$lay"
            return 0
        fi
        local u w r i
        if ! { packets=$(json_num "$out" packets) && u=$(json_num "$out" unsound) &&
               w=$(json_num "$out" replicated_writes) && r=$(json_num "$out" races) &&
               translation=$(json_num "$out" translation) &&
               capacity=$(json_num "$out" capacity) && estimate=$(json_num "$out" estimate) &&
               i=$(json_num "$out" interleaving); }; then
            echo -e "$nf\t$name\t$c\t$nic\trun-failed(bad JSON)\t$lay"
            return 0
        fi
        unsound=$((u + w))
        races=$((races + r))
        [ "$i" -gt "$inter" ] && inter=$i
        sig="$rc/$packets/$unsound/$translation/$capacity/$estimate"
        [ -z "$first" ] && first=$sig
        [ "$sig" = "$first" ] || det=no
    done
    echo -e "$nf\t$name\t$c\t$nic\t$packets\t$unsound\t$inter\t$translation\t$capacity\t$estimate\t$races\t$det\t$((SECONDS - start))"
}

print_table() {     # rows on stdin
    awk -F'\t' -v runs_per_cell=4 '
    BEGIN {
        printf "%-8s %-14s %5s %-5s %8s %7s %8s %8s %8s %8s %5s\n", "nf", "trace", "cores",
               "nic", "packets", "unsound", "interlv", "transl", "capacity", "estimate", "det"
    }
    NF < 12 { printf "%-8s %-14s %5s %-5s %s\n", $1, $2, $3, $4, $5; bad++; cells++; next }
    {
        printf "%-8s %-14s %5s %-5s %8d %7d %8d %8d %8d %8d %5s\n", $1, $2, $3, $4, $5, $6,
               $7, $8, $9, $10, $12
        cells++; packets += $5 * runs_per_cell; unsound += $6; inter += $7; transl += $8
        cap += $9; est += $10; races += $11; if ($12 == "yes") det++; else bad++
        if ($6 > 0) bad++
        secs += $13
    }
    END {
        printf "soundness: %d cells, %d runs, %d packets verified: %d unsound, %d interleaving, " \
               "%d translation, %d capacity, %d estimate, %d races; %d/%d deterministic; " \
               "%d s; %s\n", cells, cells * runs_per_cell, packets, unsound, inter, transl,
               cap, est, races, det, cells, secs, bad ? "FAIL" : "ok"
        exit bad ? 1 : 0
    }'
}

case $mode in
list) list_cells; exit 0 ;;
table) print_table < "$table"; exit $? ;;
cell)
    # shellcheck disable=SC2086
    run_cell $cell
    exit 0 ;;
esac

for tool in jq; do
    command -v $tool > /dev/null || { echo "soundness.sh: needs $tool (bash scripts/install-deps.sh)" >&2; exit 2; }
done
[ -x "$build/rsskey" ] || { echo "soundness.sh: no $build/rsskey; build first (cmake -S . -B $build && cmake --build $build)" >&2; exit 2; }
rm -rf "$work/plans" "$work/runs"
mkdir -p "$work"
rows="$work/rows.tsv"
: > "$rows"
total=$(list_cells | wc -l)
n=0
while read -r spec; do
    n=$((n + 1))
    printf '\r[%d/%d] %-40s' "$n" "$total" "$spec" >&2
    # shellcheck disable=SC2086
    run_cell $spec >> "$rows"
done < <(list_cells)
printf '\r%60s\r' '' >&2
print_table < "$rows"
