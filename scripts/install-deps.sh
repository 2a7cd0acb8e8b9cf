#!/usr/bin/env bash
# Installs every Debian 12 package rsskey needs to build, test and benchmark.
# Idempotent: packages already present are skipped; `apt-get update` runs only
# when something is missing. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  cmake make gcc pkg-config git
  clang-19 llvm-19-dev          # LLVM 19 C API and the clang that builds NF bitcode
  libz3-dev                     # Z3 C API for RSS key synthesis
  libpcap-dev                   # trace reading
  libdpdk-dev                   # DPDK 22.11: rte_softrss oracle, rte_hash baseline, launcher
  libcmocka-dev                 # unit-test framework
  tshark                        # reference trace statistics in tests (capinfos, tshark)
  valgrind                      # cachegrind cross-check of the cache model
  jq                            # the soundness matrix reads verify's JSON
  libclang-rt-19-dev            # libFuzzer and sanitizer runtimes for clang (scripts/fuzz.sh)
  dpdk-dev                      # dpdk-testpmd: tests/deploy runs rsskey deploy's testpmd.txt
  ethtool iproute2              # tests/deploy checks ethtool.sh's lines against a veth pair
  parallel                      # GNU parallel: tests/sweep runs rsskey sweep --emit-jobs through it
  chromium                      # tests/report renders rsskey report --html to PNG and PDF
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
