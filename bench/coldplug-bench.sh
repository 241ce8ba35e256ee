#!/usr/bin/env bash
# Coldplug benchmark, host side (nothing is loaded): `kmx daemon --coldplug-only --dry-run` over
# a fake /sys/devices against what udev's coldplug costs with kmod, one `modprobe -n -b -q ALIAS`
# process per distinct modalias (kmod 30's /usr/sbin/modprobe), alternating runs, medians.
# Both resolve against the same real Debian 6.1 tree indexed by kmod's depmod in a scratch root,
# with an empty -C config directory. kmx also walks the fake /sys itself; the kmod side gets the
# distinct alias list for free.
#
# Devices: by default 400 devices whose modaliases are patterns of the tree's modules.alias made
# concrete ('*' -> ""), every Nth, with repeats as real machines have them (several devices per
# driver). ALIASES=FILE uses the modaliases in FILE instead (one per line, e.g. a VM's
# `cat /sys/devices/**/modalias`).
#
#   bench/coldplug-bench.sh [KMX] [RUNS]     (KMX defaults to build/kmx, RUNS to 5)
source "$(dirname "$0")/lib.sh"
kmx=$(realpath "${1:-$bench_src/build/kmx}")
runs=${2:-5}

key=amd64-6.1
src=$(ls -d "$("$bench_src/tests/data/fetch-trees.sh" path "$key")"/lib/modules/*/ | head -n1)
src=${src%/}
ver=$(basename "$src")
root=$bench_tmp/root fake=$bench_tmp/fake
mkdir -p "$root/lib/modules" "$bench_tmp/conf" "$fake/sys/devices" "$fake/proc"
cp -al "$src" "$root/lib/modules/$ver"
rm -f "$root/lib/modules/$ver"/modules.*.bin
/usr/sbin/depmod -b "$root" "$ver"
echo quiet > "$fake/proc/cmdline"

if [ -n "${ALIASES:-}" ]; then
  cp "$ALIASES" "$bench_tmp/devices"
else
  grep -E '^alias (pci|usb|acpi|platform|hid|virtio|input|serio):' "$root/lib/modules/$ver/modules.alias" |
    grep -v '[][?\\]' | awk '{print $2}' | awk 'NR % 53 == 0 && n < 300 {print; n++}' | tr -d '*' > "$bench_tmp/distinct"
  awk '{print} NR % 3 == 0 {print} NR % 5 == 0 {print}' "$bench_tmp/distinct" | head -n 400 > "$bench_tmp/devices"
fi
i=0
while read -r a; do
  i=$((i + 1))
  mkdir -p "$fake/sys/devices/bench/dev$i"
  echo "$a" > "$fake/sys/devices/bench/dev$i/modalias"
done < "$bench_tmp/devices"
sort -u "$bench_tmp/devices" > "$bench_tmp/aliases"
echo "devices: $(wc -l < "$bench_tmp/devices"), distinct modaliases: $(wc -l < "$bench_tmp/aliases"), tree $ver"

cat > "$bench_tmp/kmod-coldplug" <<SH
#!/bin/sh
while read -r a; do /usr/sbin/modprobe -d "$root" -S "$ver" -C "$bench_tmp/conf" -n -b -q "\$a"; done < "$bench_tmp/aliases"
exit 0
SH
chmod +x "$bench_tmp/kmod-coldplug"

# Same module set first (kmod -n -v per alias vs the daemon's "would load" lines).
while read -r a; do /usr/sbin/modprobe -d "$root" -S "$ver" -C "$bench_tmp/conf" -n -b -v "$a" 2>/dev/null || true; done < "$bench_tmp/aliases" |
  awk '/^insmod /{n=$2; sub(/.*\//,"",n); sub(/\.ko.*/,"",n); gsub(/-/,"_",n); print n}' | sort -u > "$bench_tmp/kmod.set"
"$kmx" daemon --root "$fake" -d "$root" -S "$ver" -C "$bench_tmp/conf" --coldplug-only --dry-run 2>&1 |
  sed -n 's/^kmx daemon: would load \(.*\) for .*/\1/p' | tr ' ' '\n' | grep -v '^install-command:' | sort -u > "$bench_tmp/kmx.set"
if cmp -s "$bench_tmp/kmod.set" "$bench_tmp/kmx.set"; then
  echo "module sets equal: $(wc -l < "$bench_tmp/kmx.set") modules"
else
  echo "WARNING: module sets differ"; diff "$bench_tmp/kmod.set" "$bench_tmp/kmx.set" | head
fi

alternate "coldplug (dry run)" "$runs" -- "$bench_tmp/kmod-coldplug" -- \
  "$kmx" daemon --root "$fake" -d "$root" -S "$ver" -C "$bench_tmp/conf" --coldplug-only --dry-run
