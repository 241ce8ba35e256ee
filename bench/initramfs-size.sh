#!/usr/bin/env bash
# What kmx costs an initramfs, against kmod: initramfs-tools copies /bin/kmod and the shared
# libraries it needs (copy_exec); with kmx-as-kmod, /bin/kmod is the statically linked kmx and
# needs none. Sizes of the stripped binary plus its libraries (libc left out: every initramfs
# has it), raw and compressed with zstd at initramfs-tools' default level (-1, bookworm's
# COMPRESS=zstd) and at -19.
#
# Last run (work tree, kmx 0.1.0 Release build, stripped; Debian 12 kmod 30):
#   kmod + libzstd.so.1 liblzma.so.5 libcrypto.so.3:  5866952 bytes raw, 2721970 zstd -1, 2072131 zstd -19
#   kmx (static):                                      9499528 bytes raw, 4879478 zstd -1, 3676417 zstd -19
# i.e. about 2.2 MB more in an initramfs compressed at -1 (1.6 MB at -19).
#
#   bench/initramfs-size.sh [KMX]     (KMX defaults to build/kmx; it is stripped into a copy)
source "$(dirname "$0")/lib.sh"
kmx=${1:-$bench_src/build/kmx}
kmod=$(readlink -f /bin/kmod)
command -v zstd > /dev/null || { echo "zstd not installed" >&2; exit 1; }

sizes() {  # NAME FILE...: raw, zstd -1 and zstd -19 byte counts of the files together
  local name=$1
  shift
  printf '%-52s %9d bytes raw, %8d zstd -1, %8d zstd -19\n' "$name" "$(cat "$@" | wc -c)" \
    "$(cat "$@" | zstd -q -1 -c | wc -c)" "$(cat "$@" | zstd -q -19 -c | wc -c)"
}

mapfile -t libs < <(ldd "$kmod" | awk '/=>/ {print $3}' | grep -v '/libc\.so')
names=$(for l in "${libs[@]}"; do basename "$l"; done | tr '\n' ' ')
sizes "kmod + ${names% }:" "$kmod" "${libs[@]}"
cp "$kmx" "$bench_tmp/kmx"
strip "$bench_tmp/kmx"
if ldd "$bench_tmp/kmx" > /dev/null 2>&1; then
  echo "note: $kmx is linked dynamically; its libraries are not counted" >&2
fi
sizes "kmx ($(ldd "$bench_tmp/kmx" > /dev/null 2>&1 && echo dynamic || echo static)):" "$bench_tmp/kmx"
