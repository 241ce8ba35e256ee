#!/usr/bin/env bash
# kmx abi-diff with BTF explanations of two whole kernels (vmlinux plus every module's split
# BTF; images and headers' Module.symvers), goal: under 10 s on 2 cores. The kernels' vmlinux
# BTF comes from the cache (one cold run first fills it; its time is printed too). Alternating
# runs of the same diff without explanations (--no-explain) give the part BTF adds. Medians.
#
#   bench/abi-diff-btf.sh [KMX] [RUNS]     (KMX defaults to build/kmx, RUNS to 5)
#
# Pairs: 6.1.0-53 -> 6.1.0-54 (one stable update) and 6.1.0-54 -> 6.12.117 (a major step).
#
# Last run (bench/abi-diff-btf.sh build/kmx 5; 5 alternating runs, medians, 2 cores, load
# average 0.72 before, 1.35 after):
#   6.1.0-53 -> 6.1.0-54  explained 0.82 s (0.67 s user, 168 MB)  without BTF 0.07 s  cold cache 2.88 s
#   6.1.0-54 -> 6.12.117  explained 3.30 s (3.05 s user, 457 MB)  without BTF 0.09 s  cold cache 4.12 s
# Share explained per pair, more pairs and the --json size: bench/abi-diff-coverage.txt.
source "$(dirname "$0")/lib.sh"
kmx=${1:-$bench_src/build/kmx}
runs=${2:-5}
fetch=$bench_src/tests/data/fetch-trees.sh
export KMX_CACHE_DIR=$bench_tmp/cache
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"

spec() {  # KEY HEADERS_KEY: the image root and its headers' Module.symvers
  local r h
  r=$("$fetch" path "$1")
  h=$("$fetch" path "$2")
  [ -e "$r/.done" ] && [ -e "$h/.done" ] || { echo "skipped: $1/$2 not fetched (tests/data/fetch-trees.sh $1 $2)" >&2; return 1; }
  echo "$r,$(ls "$h"/usr/src/linux-headers-*/Module.symvers)"
}

pair() {  # NAME OLD NEW
  local name=$1 old=$2 new=$3 i
  : >"$bench_tmp/cold"; : >"$bench_tmp/plain"; : >"$bench_tmp/explained"
  rm -rf "$KMX_CACHE_DIR"
  measure "$bench_tmp/cold" "$kmx" abi-diff "$old" "$new"
  for ((i = 0; i < runs; i++)); do
    measure "$bench_tmp/plain" "$kmx" abi-diff --no-explain "$old" "$new"
    measure "$bench_tmp/explained" "$kmx" abi-diff "$old" "$new"
  done
  col() { cut -d' ' -f"$1" "$2" | median; }
  printf '%-22s explained %6.2f s (%5.2f s user, %6d KB)  without BTF %5.2f s  cold cache %6.2f s  (%d runs, load %s)\n' \
    "$name" "$(col 1 "$bench_tmp/explained")" "$(col 3 "$bench_tmp/explained")" "$(col 2 "$bench_tmp/explained")" \
    "$(col 1 "$bench_tmp/plain")" "$(col 1 "$bench_tmp/cold")" "$runs" "$(cut -d' ' -f1 /proc/loadavg)"
  { "$kmx" abi-diff "$old" "$new" || true; } | grep -E "^(CRC changes explained|silent type changes \(CRC)" | sed 's/^/  /'
}

if a=$(spec amd64-6.1-53 headers-6.1-53) && b=$(spec amd64-6.1 headers-6.1); then
  pair "6.1.0-53 -> 6.1.0-54" "$a" "$b"
fi
if a=$(spec amd64-6.1 headers-6.1) && b=$(spec amd64-6.12 headers-6.12); then
  pair "6.1.0-54 -> 6.12.117" "$a" "$b"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
