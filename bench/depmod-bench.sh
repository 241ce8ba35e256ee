#!/usr/bin/env bash
# depmod benchmark: kmod 30's /usr/sbin/depmod against `kmx depmod`, alternating runs on the
# same hardlinked copy of a real Debian tree; reports median wall time, median peak RSS and
# the kmx/kmod ratios.
#
#   bench/depmod-bench.sh [KMX] [RUNS]      (KMX defaults to build/kmx, RUNS to 5)
#   BENCH_SCENARIOS="full-6.1 dkms-6.12" bench/depmod-bench.sh ...   (a subset)
#
# Scenarios:
#   full-6.12-xz   full rebuild of the 6.12 tree (4230 .ko.xz), kmx without its cache
#   full-6.1       full rebuild of the plain 6.1 tree (4023 .ko), kmx without its cache
#   dkms-6.12      one module replaced (new inode), kmx with a warm cache vs kmod's full run
#
# Run it on an otherwise idle machine. With sched_autogroup_enabled=1 every session gets
# an equal CPU share, so while other sessions keep the cores busy a two-thread kmx gets no
# more CPU than single-threaded kmod and the wall-time ratio degrades to the CPU-time ratio
# (about 1.0 for xz trees, where liblzma is ~85% of the work for both tools). The script
# prints the load average before and after for that reason, and user CPU seconds per tool.
source "$(dirname "$0")/lib.sh"
src=$bench_src
kmx=${1:-$src/build/kmx}
runs=${2:-5}
tmp=$bench_tmp

setup() {  # KEY -> prints root; ver in $tmp/ver
  local key=$1 moddir ver
  moddir=$(ls -d "$("$src/tests/data/fetch-trees.sh" path "$key")"/lib/modules/*/ | head -n1)
  moddir=${moddir%/}
  ver=$(basename "$moddir")
  rm -rf "$tmp/root"
  mkdir -p "$tmp/root/lib/modules"
  cp -al "$moddir" "$tmp/root/lib/modules/$ver"
  echo "$ver" > "$tmp/ver"
}

full() {  # NAME KEY
  local name=$1 ver
  setup "$2"
  ver=$(cat "$tmp/ver")
  : > "$tmp/kmod"; : > "$tmp/kmx"
  /usr/sbin/depmod -b "$tmp/root" "$ver"  # warm the page cache once
  for _ in $(seq "$runs"); do
    measure "$tmp/kmod" /usr/sbin/depmod -b "$tmp/root" "$ver"
    measure "$tmp/kmx" "$kmx" depmod --no-cache -b "$tmp/root" "$ver"
  done
  report "$name" "$tmp/kmod" "$tmp/kmx"
}

dkms() {  # NAME KEY
  local name=$1 ver d victim
  setup "$2"
  ver=$(cat "$tmp/ver")
  d="$tmp/root/lib/modules/$ver"
  victim=$(find "$d/kernel/drivers/hid" -name 'hid-apple.ko*' | head -n1)
  : > "$tmp/kmod"; : > "$tmp/kmx"
  "$kmx" depmod -b "$tmp/root" "$ver"  # writes the cache
  for _ in $(seq "$runs"); do
    cp "$victim" "$victim.new" && mv "$victim.new" "$victim"  # new inode: one cache miss
    measure "$tmp/kmx" "$kmx" depmod -b "$tmp/root" "$ver"
    measure "$tmp/kmod" /usr/sbin/depmod -b "$tmp/root" "$ver"
  done
  report "$name" "$tmp/kmod" "$tmp/kmx"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in ${BENCH_SCENARIOS:-full-6.12-xz full-6.1 dkms-6.12}; do
  case $s in
    full-6.12-xz) full full-6.12-xz amd64-6.12 ;;
    full-6.1) full full-6.1 amd64-6.1 ;;
    dkms-6.12) dkms dkms-6.12 amd64-6.12 ;;
    *) echo "unknown scenario $s" >&2; exit 2 ;;
  esac
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
