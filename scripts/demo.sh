#!/usr/bin/env bash
# The main job on a bundled NF and trace: install what is needed, build, then
#   1. analyse the firewall NF's bitcode (state, keys per port, decisions),
#   2. synthesise RSS keys and a RETA tuned on the demo trace,
#   3. simulate the plan on 1..4 cores (per-core load, MLFFR, scaling),
#   4. deploy it with DPDK (no hugepages, no NIC) and check every packet
#      against the sequential NF.
# Outputs land in build/demo/. NF=nat bash scripts/demo.sh runs another NF.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
nf=${NF:-fw}
build=${RSSKEY_BUILD_DIR:-build}
trace=traces/demo/demo-2port.pcap
lan=10.0.0.0/8,fd00::/8
out=$build/demo
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build" -j"$(nproc)" --target rsskey "rsskey-run-$nf" nf_bitcode
mkdir -p "$out"

step() { printf '\n== %s\n' "$*"; }
step "rsskey analyze $build/nfs/$nf.O2.bc"
"$build/rsskey" analyze "$build/nfs/$nf.O2.bc"

step "rsskey synth (4 cores, Intel X710, RETA tuned on $trace)"
"$build/rsskey" synth "$build/nfs/$nf.O2.bc" --nic x710 --cores 4 \
    --trace "$trace" --lan "$lan" -o "$out/$nf-plan.json"

step "rsskey sim (1..4 cores)"
"$build/rsskey" sim --plan "$out/$nf-plan.json" "$trace" --lan "$lan" --scaling

step "rsskey-run-$nf: the plan on 4 DPDK worker lcores, verified against the sequential NF"
"$build/rsskey-run-$nf" --plan "$out/$nf-plan.json" --verify --replay "$trace" --lan "$lan" -- \
    --no-huge -m 512 --no-pci --file-prefix "rsskey-demo-$$" --log-level=1 \
    --lcores 0@0,1@0,2@0,3@0,4@0 --vdev "net_pcap0,tx_pcap=$out/port0-out.pcap" \
    --vdev "net_pcap1,tx_pcap=$out/port1-out.pcap"
printf '\nplan: %s; forwarded packets: %s/port{0,1}-out.pcap\n' "$out/$nf-plan.json" "$out"
