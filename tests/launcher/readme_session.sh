#!/usr/bin/env bash
# readme_session.sh SOURCE_DIR BUILD_DIR NF
# Runs the README's typical session (the shell block between the session
# markers of README.md) exactly as printed, with only its first line's NF
# changed, in a scratch directory that has the build and the bundled traces
# where the README expects them. Fails when any line fails or the verify run
# is not sound.
set -euo pipefail
src=$1 build=$2 nf=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

awk '/^<!-- session/ { on = 1; next } /^<!-- \/session -->/ { on = 0 }
     on && !/^```/ { print }' "$src/README.md" > "$work/session.sh"
[ -s "$work/session.sh" ] || fail "no session block in README.md"
head -1 "$work/session.sh" | grep -qx 'NF=fw' || fail "the session no longer starts with NF=fw"
sed -i "1s/.*/NF=$nf/" "$work/session.sh"
echo "--- the README session for $nf:"
cat "$work/session.sh"

ln -s "$build" "$work/build"
ln -s "$src/traces" "$work/traces"
cd "$work"
bash -e "$work/session.sh" > "$work/out.txt" 2>&1 || { cat "$work/out.txt"; fail "a line failed"; }
cat "$work/out.txt"
for f in "$nf-plan.json" "$nf-sim.json" "$nf-review.md" "$nf-deploy/manifest.json"; do
    [ -s "$f" ] || fail "$f was not written"
done
grep -q "^## Deployment" "$nf-review.md" || fail "the review has no Deployment section"
grep -q "^verify: sound on this traffic" "$work/out.txt" || fail "verify did not say sound"
echo "ok: README session with NF=$nf"
