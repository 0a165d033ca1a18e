#!/usr/bin/env bash
# Installs the Debian packages the build, the lab and the tests need, only those
# missing, non-interactively. Package lists are refreshed first, because a fresh
# machine's lists may be stale or empty.
set -euo pipefail
packages=(
  # eBPF program, skeleton and addon build
  clang llvm libbpf-dev bpftool linux-libc-dev libelf-dev zlib1g-dev pkg-config make g++ python3
  # the lab: namespaces, veths, traffic
  iproute2 iptables ethtool iputils-ping tcpdump iperf3 procps
  # independent decoders and peers
  nfdump tshark softflowd pmacct
  # helm is unpacked from an npm tarball
  unzip
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
