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
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
kmx=${1:-$src/build/kmx}
runs=${2:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmx-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# measure OUTFILE CMD...: append "wall_s rss_kb" of one run.
measure() {
  local out=$1
  shift
  /usr/bin/time -f '%e %M %U' -o "$tmp/t" "$@" > /dev/null 2> "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  cat "$tmp/t" >> "$out"
}

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

report() {  # NAME
  local name=$1 kt km ku xt xm xu
  kt=$(cut -d' ' -f1 "$tmp/kmod" | median); km=$(cut -d' ' -f2 "$tmp/kmod" | median); ku=$(cut -d' ' -f3 "$tmp/kmod" | median)
  xt=$(cut -d' ' -f1 "$tmp/kmx" | median); xm=$(cut -d' ' -f2 "$tmp/kmx" | median); xu=$(cut -d' ' -f3 "$tmp/kmx" | median)
  printf '%-14s kmod %6.2f s (%5.2f s user) %6d KB   kmx %6.2f s (%5.2f s user) %6d KB   time %.3fx  rss %.2fx  (%d runs, %d cores)\n' \
    "$name" "$kt" "$ku" "$km" "$xt" "$xu" "$xm" "$(echo "$xt / $kt" | bc -l)" "$(echo "$xm / $km" | bc -l)" "$runs" "$(nproc)"
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
  report "$name"
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
  report "$name"
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
