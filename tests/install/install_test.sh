#!/usr/bin/env bash
# install_test.sh SOURCE_DIR BUILD_DIR
# From a fresh install prefix to a verified run, as a user with only the
# installed files would go: `cmake --install` into a new prefix inside the
# build tree, then, in a scratch folder holding nothing but srccount.c (an NF
# written for this test) renamed mynf.c, the commands docs/nf-api.md prints
# ("Building a runner for your NF"), run as printed with only PREFIX and
# --file-prefix changed: clang-19 to bitcode, the installed rsskey synth and
# rsskey build, and the runner's --verify run. Then the documented CMake
# project (find_package(rsskey) + rsskey_add_nf) and the documented
# pkg-config line, each to a --verify run, and rsskey build again after the
# prefix is moved (rsskey.pc locates it from its own folder). PATH holds the
# prefix and the system folders only, and every path rsskey build compiles or
# links with must lie in the prefix or the system: the source and build trees
# are never used.
set -euo pipefail
src=$1 build=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$build/tests/install"
scratch=$(mktemp -d "$build/tests/install/run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
prefix=$scratch/prefix
work=$scratch/work
mkdir -p "$work"
tag="rsskey-install-$$"

# The documented blocks of docs/nf-api.md.
block() {   # block MARKER: the lines between <!-- MARKER ... --> and <!-- /MARKER -->
    awk -v m="$1" '$0 ~ "^<!-- " m { on = 1; next } $0 ~ "^<!-- /" m " -->" { on = 0 }
                   on && !/^```/ { print }' "$src/docs/nf-api.md"
}
block install-session > "$scratch/session.sh"
block install-cmake > "$scratch/CMakeLists.txt"
block install-pkgconfig > "$scratch/pkgconfig.sh"
for f in session.sh CMakeLists.txt pkgconfig.sh; do
    [ -s "$scratch/$f" ] || fail "docs/nf-api.md has no block for $f"
done
head -1 "$scratch/session.sh" | grep -qx 'PREFIX=/usr/local' ||
    fail "the session no longer starts with PREFIX=/usr/local"
grep -q -- "--file-prefix mynf " "$scratch/session.sh" || fail "the session has no --file-prefix mynf"
sed -i -e "1s|.*|PREFIX=$prefix|" -e "s|--file-prefix mynf |--file-prefix $tag |" \
    "$scratch/session.sh"

echo "--- cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" > "$scratch/install.log" ||
    { cat "$scratch/install.log"; fail "cmake --install failed"; }
for f in bin/rsskey include/rsskey/nf.h include/rsskey/launcher.h lib/pkgconfig/rsskey.pc \
         lib/cmake/rsskey/rsskeyConfig.cmake lib/rsskey/librsskey_launcher.a \
         lib/rsskey/librsskey_runtime.a; do
    [ -e "$prefix/$f" ] || fail "the install lacks $f"
done
[ ! -e "$prefix/bin/rsskey-uninstalled.pc" ] || fail "the build tree's pkg-config file was installed"

# Only the prefix and the system: no build tree on PATH, no pkg-config path.
export PATH="$prefix/bin:/usr/local/bin:/usr/bin:/bin"
unset PKG_CONFIG_PATH CMAKE_PREFIX_PATH
cp "$src/tests/install/srccount.c" "$work/mynf.c"
cd "$work"
echo "--- the session of docs/nf-api.md:"
cat "$scratch/session.sh"
bash -e "$scratch/session.sh" > "$scratch/session.out" 2>&1 ||
    { cat "$scratch/session.out"; fail "a line of the documented session failed"; }
cat "$scratch/session.out"
grep -q "^verify: sound on this traffic" "$scratch/session.out" || fail "the session's verify was not sound"
grep -q "libraries from the install prefix, $prefix/lib/pkgconfig/rsskey.pc" "$scratch/session.out" ||
    fail "rsskey build did not take its libraries from the prefix"
grep -Eq "object src_index +sharded" "$scratch/session.out" ||
    fail "the plan does not shard src_index: verify would prove little"

# Every path rsskey build uses lies in the prefix, the system or its scratch folder.
"$prefix/bin/rsskey" build mynf.bc --plan mynf-plan.json -o mynf-run2 -v > /dev/null \
    2> "$scratch/verbose.txt" || { cat "$scratch/verbose.txt"; fail "rsskey build -v failed"; }
cat "$scratch/verbose.txt"
grep '^+ ' "$scratch/verbose.txt" | tr ' ' '\n' | sed -e 's/^-[IL]//' | grep '^/' |
    xargs -r realpath -m > "$scratch/paths.txt"
grep -v -e "^$prefix/" -e '^/usr/' -e "^${TMPDIR:-/tmp}/rsskey-build\." -e "^$work/" \
    "$scratch/paths.txt" > "$scratch/foreign.txt" || true
[ ! -s "$scratch/foreign.txt" ] || { cat "$scratch/foreign.txt"; fail "rsskey build used paths outside the prefix"; }
grep -qx -- "$prefix/lib/rsskey" "$scratch/paths.txt" ||
    fail "the link line does not name the prefix's libraries"
grep -qx -- "$prefix/include" "$scratch/paths.txt" || fail "the compile line does not name the prefix's headers"
cmp -s mynf-run mynf-run2 || echo "note: two builds of the same runner differ byte-wise"

run_verify() {   # run_verify RUNNER [ARGS...]: --verify on the session's trace, 2 cores
    local runner=$1
    shift
    "$runner" "$@" --verify --replay trace.pcap --lan 10.0.0.0/8 -- --no-huge -m 512 --no-pci \
        --lcores '0@0,(1-2)@0' --file-prefix "$tag" --log-level=1 --vdev net_null0 \
        --vdev net_null1 > "$scratch/run.out" 2>&1 || { cat "$scratch/run.out"; return 1; }
    cat "$scratch/run.out"
    grep -q "^verify: sound on this traffic" "$scratch/run.out"
}

echo "--- the documented CMake project (find_package(rsskey), rsskey_add_nf)"
mkdir "$scratch/cmake-nf"
cp "$scratch/CMakeLists.txt" mynf.c mynf-plan.json "$scratch/cmake-nf/"
cmake -S "$scratch/cmake-nf" -B "$scratch/cmake-nf/build" -DCMAKE_PREFIX_PATH="$prefix" \
    > "$scratch/cmake.log" 2>&1 || { cat "$scratch/cmake.log"; fail "configuring the CMake project failed"; }
cmake --build "$scratch/cmake-nf/build" > "$scratch/cmake.log" 2>&1 ||
    { cat "$scratch/cmake.log"; fail "building the CMake project failed"; }
cat "$scratch/cmake.log"
grep -q "rsskey_DIR:PATH=$prefix/lib/cmake/rsskey" "$scratch/cmake-nf/build/CMakeCache.txt" ||
    fail "find_package(rsskey) did not find the prefix's package"
[ -s "$scratch/cmake-nf/build/mynf.bc" ] || fail "rsskey_add_nf made no bitcode"
run_verify "$scratch/cmake-nf/build/mynf-run" || fail "the CMake-built runner did not verify"

echo "--- the documented pkg-config line (native build, --plan at run time)"
printf '#include <rsskey/launcher.h>\nint main(int argc, char **argv) { return launcher_main(argc, argv); }\n' \
    > runner.c
PREFIX=$prefix bash -e "$scratch/pkgconfig.sh" || fail "the pkg-config line failed"
run_verify ./mynf-native --plan mynf-plan.json || fail "the natively built runner did not verify"
echo "--- the prefix moved elsewhere: rsskey build follows it"
mv "$prefix" "$scratch/moved"
"$scratch/moved/bin/rsskey" build mynf.bc --plan mynf-plan.json -o mynf-moved -v > /dev/null \
    2> "$scratch/moved.txt" || { cat "$scratch/moved.txt"; fail "rsskey build from a moved prefix failed"; }
grep '^+ ' "$scratch/moved.txt" | tr ' ' '\n' | sed -e 's/^-[IL]//' | grep '^/' |
    xargs -r realpath -m | grep -qx "$scratch/moved/lib/rsskey" ||
    fail "the moved prefix's rsskey build did not link the moved libraries"
run_verify ./mynf-moved || fail "the runner built from the moved prefix did not verify"
echo "ok: from a fresh prefix to verified runs (rsskey build, CMake, pkg-config, moved prefix)"
