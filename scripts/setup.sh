#!/usr/bin/env bash
# Install what kmx needs to build and test, on Debian 12. Idempotent; root or sudo.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git python3
  liblzma-dev libzstd-dev zlib1g-dev libssl-dev libsqlite3-dev libfmt-dev nlohmann-json3-dev
  libbpf-dev libelf-dev pahole
  libgtest-dev
  kmod xz-utils zstd gzip cpio e2fsprogs busybox-static qemu-system-x86 qemu-utils util-linux libelf1
  hyperfine clang-14 llvm-14 strace time binutils
  chromium scdoc mandoc
  debhelper lintian mmdebstrap
  dpkg-dev gcc-12 flex bison bc  # kernel sources prepared for genksyms (tests/data/kernel-source.sh)
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
