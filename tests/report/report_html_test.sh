#!/usr/bin/env bash
# report_html_test.sh RSSKEY BITCODE_DIR DEMO_TRACE ARTEFACT_DIR [REAL_TRACE]
#
# rsskey report --html as a reader meets it: for all ten reference NFs on the
# demo trace (and fw, nat, lb on REAL_TRACE when that file exists) it
# synthesises a plan, simulates it with --scaling, renders the page, checks
# that it is one self-contained file under 2 MB with the verdict and
# non-empty SVGs, then renders it in headless Chromium to a PNG (A4 width,
# 6000 px tall: the whole review, graph, load bars and scaling curve included)
# and checks it is non-empty and that Chromium logged no console errors; for
# fw, nat, lb and hhh also a PDF and the DOM (verdict text in it). The PNGs
# and PDFs stay in ARTEFACT_DIR (a build folder, not git) for people to look
# at: one PNG per reference NF on the demo trace, NF-demo.png.
# Also: a sim made from another plan is refused with exit 3, Markdown keeps
# the same verdict and provenance. With RUNNER_DIR (where rsskey-run-fw and
# -lb are): a verify run of fw on the demo trace goes into the report (Verify
# section, verdict), lb's verify result under fw's plan is refused (exit 3).
set -uo pipefail
rsskey=$1 bcdir=$2 demo=$3 art=$4 real=${5:-}
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
mkdir -p "$art"
rm -f "$art"/*.html "$art"/*.png "$art"/*.pdf   # only this run's renders stay
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0 checks=0
check() {   # check NAME COMMAND...
    local name=$1; shift
    checks=$((checks + 1))
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}
run() {     # run EXPECTED_EXIT OUTFILE ARGS...
    local want=$1 out=$2; shift 2
    "$rsskey" "$@" > "$out" 2>&1
    local got=$?
    [ "$got" = "$want" ] || { echo "  'rsskey $*' exited $got, expected $want";
                              sed 's/^/  | /' "$out" | head -5; return 1; }
}
contains() { grep -q -- "$2" "$1" || { echo "  '$2' not in $1"; return 1; }; }
lacks() { ! grep -q -- "$2" "$1" || { echo "  '$2' found in $1"; return 1; }; }
smaller() { [ "$(stat -c %s "$1")" -lt "$2" ] || { echo "  $1: $(stat -c %s "$1") bytes"; return 1; }; }
nonempty_svgs() {   # every <svg> has drawing elements, and there are at least $2
    python3 - "$1" "$2" <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
bad = [i for i, s in enumerate(svgs) if not re.search(r"<(rect|path|line|polyline|circle)\b", s)]
if len(svgs) < int(sys.argv[2]) or bad:
    print(f"  {len(svgs)} svg elements, empty: {bad}")
    sys.exit(1)
PY
}
self_contained() {  # no scripts, nothing fetched from elsewhere
    ! grep -qiE '<script|<link |src="http|url\(http|@import' "$1" ||
        { echo "  $1 refers to outside resources or has scripts"; return 1; }
}
png_ok() { python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
ok = len(b) > 10000 and b[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", b[16:24]) if ok else (0, 0)
print(f"  {sys.argv[1]}: {len(b)} bytes, {w}x{h}")
sys.exit(0 if ok and w >= 1000 and h >= 1000 else 1)
PY
}
pdf_ok() { [ "$(head -c 5 "$1")" = "%PDF-" ] && [ "$(stat -c %s "$1")" -gt 10000 ]; }

render_png() {  # render_png HTML STEM: the PNG only, console errors on stderr
    local html=$1 stem=$2 flags=(--headless --no-sandbox --disable-gpu --no-first-run
        --disable-extensions --user-data-dir="$work/chromium-profile" --hide-scrollbars)
    timeout 120 "$chromium" "${flags[@]}" --window-size=1240,6000 --enable-logging=stderr \
        --v=0 --screenshot="$art/$stem.png" "file://$html" > "$work/$stem.png.log" \
        2> "$work/$stem.console"
}
render() {  # render HTML STEM: PNG, PDF and the DOM (console errors on stderr)
    local html=$1 stem=$2 flags=(--headless --no-sandbox --disable-gpu --no-first-run
        --disable-extensions --user-data-dir="$work/chromium-profile" --hide-scrollbars)
    timeout 120 "$chromium" "${flags[@]}" --window-size=1240,6000 \
        --screenshot="$art/$stem.png" "file://$html" > "$work/$stem.png.log" 2>&1
    timeout 120 "$chromium" "${flags[@]}" --no-pdf-header-footer \
        --print-to-pdf="$art/$stem.pdf" "file://$html" > "$work/$stem.pdf.log" 2>&1
    timeout 120 "$chromium" "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom \
        "file://$html" > "$work/$stem.dom" 2> "$work/$stem.console"
}
no_console_errors() {
    ! grep -E 'CONSOLE[:(]|Uncaught|ERR_FILE_NOT_FOUND|Failed to load' "$1" ||
        { echo "  console errors in $1"; return 1; }
}

one_nf() {  # one_nf NF TRACE TAG LAN [png]: png renders the PNG only (no PDF, DOM)
    local nf=$1 trace=$2 tag=$3 lan=$4 mode=${5:-full} d="$work/$1-$3"
    mkdir -p "$d"
    check "$nf/$tag: synth" run 0 "$d/synth.log" synth "$bcdir/$nf.O2.bc" --cores 4 \
        --trace "$trace" --lan "$lan" -o "$d/plan.json"
    check "$nf/$tag: sim --scaling --json" run 0 "$d/sim.log" sim --plan "$d/plan.json" \
        "$trace" --lan "$lan" --scaling --json
    cp "$d/sim.log" "$d/sim.json"
    check "  sim records the plan's hash" contains "$d/sim.json" \
        "\"plan_sha256\": \"$(sha256sum "$d/plan.json" | cut -d' ' -f1)\""
    local html="$art/$nf-$tag.html"
    check "$nf/$tag: report --html" run 0 "$d/report.log" report "$d/plan.json" \
        --sim "$d/sim.json" --html -o "$html"
    check "  verdict box first" contains "$html" '<div class="verdict ok" id="verdict">'
    check "  verdict text" contains "$html" "Verdict: sound"
    check "  capacity answer" contains "$html" "MLFFR on 4 cores"
    check "  provenance: plan hash" contains "$html" "$(sha256sum "$d/plan.json" | cut -d' ' -f1)"
    check "  provenance: trace hash" contains "$html" "$(sha256sum "$trace" | cut -d' ' -f1)"
    check "  four non-empty SVGs (graph, load, cycles, scaling)" nonempty_svgs "$html" 4
    check "  self-contained" self_contained "$html"
    check "  under 2 MB" smaller "$html" 2000000
    check "$nf/$tag: report (Markdown) keeps the verdict" run 0 "$d/md.log" report \
        "$d/plan.json" --sim "$d/sim.json" -o "$d/report.md"
    check "  Markdown verdict" contains "$d/report.md" "^## Verdict"
    check "  Markdown provenance" contains "$d/report.md" "^## Provenance"
    check "  Markdown has no SVG" lacks "$d/report.md" "<svg"
    if [ -n "$chromium" ] && [ "$mode" = png ]; then
        render_png "$html" "$nf-$tag"
        check "  chromium PNG" png_ok "$art/$nf-$tag.png"
        check "  no console errors" no_console_errors "$work/$nf-$tag.console"
    elif [ -n "$chromium" ]; then
        render "$html" "$nf-$tag"
        check "  chromium PNG" png_ok "$art/$nf-$tag.png"
        check "  chromium PDF" pdf_ok "$art/$nf-$tag.pdf"
        check "  verdict in the DOM" contains "$work/$nf-$tag.dom" "Verdict: sound"
        check "  no console errors" no_console_errors "$work/$nf-$tag.console"
    fi
}

lan="10.0.0.0/8,fd00::/8"
for nf in fw nat lb hhh; do
    one_nf "$nf" "$demo" demo "$lan"
done
# The other reference NFs: one PNG each (no PDF or DOM dump, to keep the time).
for nf in nop sbridge dbridge policer cl psd; do
    one_nf "$nf" "$demo" demo "$lan" png
done
if [ -n "$real" ] && [ -f "$real" ]; then
    for nf in fw nat lb; do
        one_nf "$nf" "$real" real "$lan"
    done
else
    echo "skip real-trace renders: ${real:-no trace given} not found"
fi

# Consistency: lb's simulation under fw's plan is refused, nothing written.
check "fw plan with lb's sim: refused (exit 3)" run 3 "$work/mismatch.log" report \
    "$work/fw-demo/plan.json" --sim "$work/lb-demo/sim.json" --html -o "$work/mismatch.html"
check "  says it was simulated from another plan" contains "$work/mismatch.log" \
    "simulated from another plan"
check "  names what to re-run" contains "$work/mismatch.log" "rsskey sim --plan"
check "  writes nothing" test ! -e "$work/mismatch.html"
# A sim JSON without plan_sha256 (older rsskey) is matched by NF and flagged.
python3 - "$work/lb-demo/sim.json" "$work/old-sim.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); j.pop("plan_sha256"); json.dump(j, open(sys.argv[2], "w"))
PY
check "old sim of another NF: refused (exit 3)" run 3 "$work/old.log" report \
    "$work/fw-demo/plan.json" --sim "$work/old-sim.json"
check "  names both NFs" contains "$work/old.log" "simulated for NF .*lb.*fw"
check "old sim of this NF: accepted with a warning" run 0 "$work/old-ok.log" report \
    "$work/lb-demo/plan.json" --sim "$work/old-sim.json" -o "$work/old-ok.md"
check "  warning in the report" contains "$work/old-ok.md" "does not record its plan's SHA-256"

# The deployment section shows ethtool.sh and testpmd.txt, long RETA lines cut.
check "fw deploy" run 0 "$work/deploy.log" deploy "$work/fw-demo/plan.json" -o "$work/fw-dep"
dhtml="$art/fw-demo-deploy.html"
check "fw report --manifest DIR --html" run 0 "$work/dr.log" report "$work/fw-demo/plan.json" \
    --sim "$work/fw-demo/sim.json" --manifest "$work/fw-dep" --html -o "$dhtml"
check "  ethtool.sh lines" contains "$dhtml" '<pre class="file">#!/bin/sh'
check "  ethtool channels line" contains "$dhtml" "^ethtool -L ETH0 combined 4"
check "  ethtool key line whole" contains "$dhtml" "^ethtool -X ETH0 hfunc toeplitz hkey [0-9a-f:]*$"
check "  testpmd RETA lines" contains "$dhtml" "^port config 0 rss reta (0,"
check "  testpmd RETA run shortened" contains "$dhtml" "more line(s) like the one above"
check "  long RETA line cut" contains "$dhtml" "more characters)</i>"
check "  under 2 MB" smaller "$dhtml" 2000000

# A runner's --verify result in the report (needs the runners and DPDK's
# null PMD; the same EAL arguments as tests/launcher).
runners=${RUNNER_DIR:-}
verify_run() {  # verify_run NF OUT.json
    local nf=$1 out=$2
    "$runners/rsskey-run-$nf" --plan "$work/$nf-demo/plan.json" --verify --json \
        --replay "$demo" --lan "$lan" -- --no-huge -m 512 --no-pci \
        --file-prefix "rh-$nf-$$" --log-level=1 --vdev net_null0 --vdev net_null1 \
        --lcores '0@0,(1-4)@0' > "$out" 2> "$out.err" ||
        { echo "  rsskey-run-$nf exited $?"; tail -3 "$out.err"; return 1; }
}
if [ -n "$runners" ] && [ -x "$runners/rsskey-run-fw" ] && [ -x "$runners/rsskey-run-lb" ]; then
    check "verify run of fw on the demo trace" verify_run fw "$work/fw-run.json"
    check "  the run records the plan's hash" contains "$work/fw-run.json" \
        "\"plan_sha256\": \"$(sha256sum "$work/fw-demo/plan.json" | cut -d' ' -f1)\""
    check "verify run of lb on the demo trace" verify_run lb "$work/lb-run.json"
    vhtml="$art/fw-demo-verify.html"
    check "fw report --sim --verify --html" run 0 "$work/v.log" report \
        "$work/fw-demo/plan.json" --sim "$work/fw-demo/sim.json" --verify "$work/fw-run.json" \
        --html -o "$vhtml"
    check "  verify section" contains "$vhtml" '<h2 id="verify">Verify</h2>'
    check "  verify result sound" contains "$vhtml" '<b class="good">sound</b>'
    check "  verify in the verdict box" contains "$vhtml" '<b>Verify:</b> The runner'
    check "  per-object table names fw_flow_table" contains "$vhtml" "fw_flow_table"
    check "fw report --verify (Markdown)" run 0 "$work/vmd.log" report \
        "$work/fw-demo/plan.json" --verify "$work/fw-run.json" -o "$work/v.md"
    check "  Markdown verify section" contains "$work/v.md" "^## Verify"
    check "  Markdown counts per class" contains "$work/v.md" "^| unsound | 0 |"
    check "lb's verify result with fw's plan: refused (exit 3)" run 3 "$work/vbad.log" \
        report "$work/fw-demo/plan.json" --verify "$work/lb-run.json" --html \
        -o "$work/vbad.html"
    check "  says it was verified with another plan" contains "$work/vbad.log" \
        "verified with another plan"
    check "  writes nothing" test ! -e "$work/vbad.html"
    python3 - "$work/fw-run.json" "$work/fw-unsound.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["verify"]["result"] = "unsound"; j["verify"]["differences"]["unsound"] = 2
json.dump(j, open(sys.argv[2], "w"))
PY
    check "unsound verify result: report written, exit 1" run 1 "$work/vuns.log" report \
        "$work/fw-demo/plan.json" --verify "$work/fw-unsound.json" --html \
        -o "$work/vuns.html"
    check "  verdict not sound" contains "$work/vuns.html" '<div class="verdict bad"'
    check "  says verify found it unsound" contains "$work/vuns.html" "found the plan UNSOUND"
else
    echo "skip verify checks: no runners in '${runners:-RUNNER_DIR unset}'"
fi

echo "$((checks - failures))/$checks checks passed; renders in $art"
[ "$failures" = 0 ]
