#!/usr/bin/env bash
# sweep_test.sh - rsskey sweep end to end (registered by tests/sweep/CMakeLists.txt).
#   sweep_test.sh local    RSSKEY NFDIR SRCDIR WORK   2 NFs x 2 NICs x 3 core counts x 2
#                          traces with --jobs 2: one 24-row table (CSV and JSON), rows in
#                          spec order, 12 plans synthesised once each; bad specs refused
#                          with a clear message and nothing written.
#   sweep_test.sh parallel RSSKEY NFDIR SRCDIR WORK   the same sweep as --emit-jobs lines
#                          run by GNU parallel -j2, then --merge: the same table, byte for
#                          byte (needs the local run's WORK/local, a ctest fixture).
set -euo pipefail
mode=$1 rsskey=$2 nfdir=$3 src=$4 work=$5
fail() { echo "FAIL: $*" >&2; exit 1; }

# Paths as the user gives them label the table, so both runs use the same strings.
cd "$work"
args=(--nf nfs/fw.O2.bc,nfs/lb.O2.bc --nic e810,x550 --cores 1,2,4
      --trace demo-2port.pcap,gen-2port.pcap --lan 10.0.0.0/8)

if [ "$mode" = local ]; then
  rm -rf "$work"/local "$work"/bad-* "$work"/nfs "$work"/*.pcap
  mkdir -p nfs
  cp "$nfdir"/fw.O2.bc "$nfdir"/lb.O2.bc nfs/
  cp "$src"/traces/demo/demo-2port.pcap .
  "$rsskey" trace gen -o gen-2port.pcap --seed 12 --flows 150 --packets 1500 --pps 5000 \
      --two-port >/dev/null

  # --- bad specs: exit code, what and where, nothing written ---------------------
  set +e
  "$rsskey" sweep "${args[@]/e810,x550/e810,x9999}" --dir bad-nic >bad.out 2>bad.err
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "unknown NIC: exit $rc, expected 2"
  grep -q "unknown NIC 'x9999'" bad.err || fail "unknown NIC: message: $(cat bad.err)"
  grep -q "e810" bad.err || fail "unknown NIC: the known profiles are not listed"
  [ ! -s bad.out ] && [ ! -e bad-nic ] || fail "unknown NIC: something was written"
  for m in "" --emit-jobs; do
    set +e
    "$rsskey" sweep ${m} --nf nfs/fw.O2.bc --nic e810 --cores 1 \
        --trace demo-2port.pcap,missing.pcap --dir bad-trace >bad.out 2>bad.err
    rc=$?
    set -e
    [ $rc -eq 3 ] || fail "missing trace ($m): exit $rc, expected 3"
    grep -q "trace 'missing.pcap' cannot be read" bad.err ||
      fail "missing trace ($m): message: $(cat bad.err)"
    [ ! -s bad.out ] && [ ! -e bad-trace ] || fail "missing trace ($m): something was written"
  done
  printf 'nf = nfs/fw.O2.bc\nnic = e810\ncores = 0\ntrace = demo-2port.pcap\n' >bad.spec
  set +e
  "$rsskey" sweep --spec bad.spec --dir bad-spec >bad.out 2>bad.err
  rc=$?
  set -e
  [ $rc -eq 3 ] || fail "bad spec file: exit $rc, expected 3"
  grep -q "bad.spec:3: --cores: '0' is not a core count" bad.err ||
    fail "bad spec file: message: $(cat bad.err)"
  [ ! -e bad-spec ] || fail "bad spec file: something was written"

  # --- a spec file with rates: each rate reaches rsskey sim ---------------------------
  printf '# one NF, two rates\nnf = nfs/fw.O2.bc\nnic = e810\ncores = 2\ntrace = gen-2port.pcap\nrate = x2, 100kpps, 1234567pps\nlan = 10.0.0.0/8\nmlffr = no\n' >rates.spec
  "$rsskey" sweep --spec rates.spec --dir rates -q --json >rates.json
  [ "$(grep -c '"key":' rates.json)" -eq 3 ] || fail "rates: expected 3 rows: $(cat rates.json)"
  grep -q '"rate": "1.234567Mpps"' rates.json || fail "rates: 1234567pps not kept exactly"
  row=$(grep ',100kpps,' rates/table.csv) || fail "rates: no 100kpps row"
  [ "$(echo "$row" | cut -d, -f6)" = 0.100000 ] || fail "rates: 100kpps offered $row"
  [ -z "$(echo "$row" | cut -d, -f16)" ] || fail "rates: mlffr = no still searched: $row"
  [ "$(ls rates/plans)" = fw.O2_e810_c2.json ] || fail "rates: one plan for three rates"
  rm -rf rates

  # --- the sweep, 2 jobs at once ---------------------------------------------------
  "$rsskey" sweep "${args[@]}" --jobs 2 --dir local >local.csv 2>local.err ||
    { cat local.err >&2; fail "local sweep failed"; }
  rows=$(($(wc -l <local/table.csv) - 1))
  [ "$rows" -eq 24 ] || fail "local table has $rows rows, expected 24"
  cmp -s local.csv local/table.csv || fail "printed table differs from local/table.csv"
  [ "$(grep -c '"key":' local/table.json)" -eq 24 ] || fail "table.json does not have 24 rows"
  [ "$(ls local/plans | wc -l)" -eq 12 ] || fail "expected 12 plans (2 NFs x 2 NICs x 3)"
  grep -q "plan+job 12/12" local.err || fail "progress lines missing: $(cat local.err)"
  # Spec order: nf, nic, cores, trace, rate, the last varying fastest.
  expect=""
  for nf in nfs/fw.O2.bc nfs/lb.O2.bc; do for nic in e810 x550; do for c in 1 2 4; do
    for t in demo-2port.pcap gen-2port.pcap; do expect+="$nf,$nic,$c,$t,x1"$'\n'; done
  done; done; done
  got=$(tail -n +2 local/table.csv | cut -d, -f1-5)
  [ "$got"$'\n' = "$expect" ] || fail "rows not in spec order: $got"
  # Every row carries the simulator's numbers: packets offered, Mpps and MLFFR.
  while IFS=, read -r nf nic c t r offered mpps gbps offered_pkts drops rest; do
    [ -n "$mpps" ] && [ "$offered_pkts" -gt 0 ] || fail "row without numbers: $nf $nic $c $t"
    mlffr=$(echo "$rest" | cut -d, -f6)
    [ -n "$mlffr" ] || fail "row without MLFFR: $nf $nic $c $t"
  done < <(tail -n +2 local/table.csv)
  # The demo trace has 2,500 packets, the generated one 1,500.
  [ "$(grep -c ',demo-2port.pcap,x1,[0-9.]*,[0-9.]*,[0-9.]*,2500,' local/table.csv)" -eq 12 ] ||
    fail "demo rows do not replay 2500 packets"
  # A merge of the same folder prints the same bytes.
  "$rsskey" sweep --merge local -q >merged.csv
  cmp -s merged.csv local/table.csv || fail "--merge of the local run differs"
  # A missing result: the merge says which job and writes no table.
  cp -r local partial && rm partial/results/lb.O2_x550_c4_gen-2port_x1.json partial/table.*
  set +e
  "$rsskey" sweep --merge partial >bad.out 2>bad.err
  rc=$?
  set -e
  [ $rc -eq 1 ] && grep -q "no result for job lb.O2_x550_c4_gen-2port_x1" bad.err ||
    fail "partial merge: exit $rc, $(cat bad.err)"
  [ ! -e partial/table.csv ] && [ ! -s bad.out ] || fail "partial merge wrote a table"
  rm -rf partial
  echo "sweep local: 24 rows, 12 plans, bad specs refused"
  exit 0
fi

# --- parallel: the same jobs through GNU parallel, then --merge ---------------------
[ -s local/table.csv ] || fail "run the local test first (fixture sweep_local)"
rm -rf par
"$rsskey" sweep "${args[@]}" --dir par --emit-jobs >jobs.txt 2>emit.err
[ "$(wc -l <jobs.txt)" -eq 24 ] || fail "expected 24 job lines"
cmp -s jobs.txt par/jobs.txt || fail "printed job lines differ from par/jobs.txt"
grep -q '^#SBATCH --array=1-24$' par/sweep.sbatch || fail "sbatch script has no 1-24 array"
grep -q 'SLURM_ARRAY_TASK_ID' par/sweep.sbatch || fail "sbatch script ignores the task id"
parallel --will-cite -j2 --halt now,fail=1 <jobs.txt >parallel.out 2>parallel.err ||
  { tail -20 parallel.err >&2; fail "a job failed under GNU parallel"; }
"$rsskey" sweep --merge par >par.csv 2>merge.err || { cat merge.err >&2; fail "merge failed"; }
cmp local/table.csv par/table.csv || fail "CSV tables differ (local vs GNU parallel)"
cmp local/table.json par/table.json || fail "JSON tables differ (local vs GNU parallel)"
cmp -s par.csv par/table.csv || fail "merged table printed differs from par/table.csv"
echo "sweep parallel: the same 24-row table byte for byte"
