#!/usr/bin/env bash
# kmx on real data: set up, build, fetch Debian's 6.12 module tree (.ko.xz, signed) and show
#   - kmx modinfo for a few modules, next to kmod's answer for the same file,
#   - kmx scan: a one-screen summary of the whole tree,
#   - kmx depmod on a scratch copy of the tree, compared file by file with kmod's depmod.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/build.sh" > /dev/null
"$here/tests/data/fetch-trees.sh" amd64-6.12
kmx=$here/build/kmx
root=$("$here/tests/data/fetch-trees.sh" path amd64-6.12)
moddir=$(ls -d "$root"/lib/modules/*/ | head -n1); moddir=${moddir%/}
ver=$(basename "$moddir")

echo "== kmx modinfo (Debian $ver)"
for m in drivers/net/dummy.ko.xz fs/fat/vfat.ko.xz drivers/gpu/drm/virtio/virtio-gpu.ko.xz; do
  f=$moddir/kernel/$m
  "$kmx" modinfo "$f" | grep -v '^\s' | cut -c1-110
  if cmp -s <("$kmx" modinfo "$f") <(/usr/sbin/modinfo "$f"); then echo "   (identical to kmod's modinfo)"; else echo "   (DIFFERS from kmod's modinfo)"; fi
  echo
done

echo "== kmx scan $moddir"
"$kmx" scan "$moddir"

echo
echo "== kmx depmod vs kmod depmod on a scratch copy"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/kmod/lib/modules" "$tmp/kmx/lib/modules"
cp -al "$moddir" "$tmp/kmod/lib/modules/$ver"; cp -al "$moddir" "$tmp/kmx/lib/modules/$ver"
t0=$(date +%s.%N); /usr/sbin/depmod -b "$tmp/kmod" "$ver"; t1=$(date +%s.%N)
"$kmx" depmod -b "$tmp/kmx" "$ver"; t2=$(date +%s.%N)
for f in "$tmp/kmod/lib/modules/$ver"/modules.*; do
  b=$(basename "$f")
  case "$b" in modules.order|modules.builtin|modules.builtin.modinfo) continue ;; esac
  if cmp -s "$f" "$tmp/kmx/lib/modules/$ver/$b"; then s=identical; else s=DIFFERS; fi
  printf '  %-28s %9d bytes  %s\n' "$b" "$(stat -c %s "$f")" "$s"
done
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "  kmod %.2f s, kmx %.2f s (one run each; bench/ has the medians)\n", b - a, c - b }'
