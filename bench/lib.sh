# Shared helpers for bench/*.sh (sourced): alternate kmod and kmx runs, report medians and
# the kmx/kmod ratio measured in the same run.
set -euo pipefail
bench_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmx-bench.XXXXXX")
trap 'rm -rf "$bench_tmp"' EXIT

# installed_copy BINARY DIR/NAME: BINARY copied in one sequential write, as a package install
# leaves it. How a binary's pages sit in the page cache depends on its history (written by a
# linker, partly evicted and read back a page at a time), and each exec faults its text in
# pieces of whatever size is cached: the same build/kmx took 92 page faults per `modprobe
# --show-depends` before it was copied and 57 after. A file written whole is cached in large
# pieces that one fault maps around. Benches that start one process per call run both tools
# from such copies, so that neither pays for its file's history.
installed_copy() {
  mkdir -p "$(dirname "$2")"
  cp "$(realpath "$1")" "$2"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# measure OUTFILE CMD...: append "wall_seconds peak_rss_kb user_seconds exit_code" of one run
# of CMD (stdout discarded). A nonzero exit is recorded, not fatal: some benchmarks time
# commands that fail on purpose; report() says when kmod and kmx exit differently.
measure() {
  local out=$1
  shift
  /usr/bin/time -f '%e %M %U %x' -o "$bench_tmp/t" "$@" > /dev/null 2> "$bench_tmp/err" || true
  tail -n 1 "$bench_tmp/t" >> "$out"
}

# report NAME KMOD_FILE KMX_FILE: medians of measure() lines and the kmx/kmod ratios.
report() {
  local name=$1 a=$2 b=$3 col kt km ku xt xm xu runs
  col() { cut -d' ' -f"$1" "$2" | median; }
  kt=$(col 1 "$a"); km=$(col 2 "$a"); ku=$(col 3 "$a")
  xt=$(col 1 "$b"); xm=$(col 2 "$b"); xu=$(col 3 "$b")
  runs=$(wc -l < "$a")
  printf '%-22s kmod %6.2f s (%5.2f s user) %7d KB   kmx %6.2f s (%5.2f s user) %7d KB   time %.3fx  rss %.2fx  (%d runs, %d cores)\n' \
    "$name" "$kt" "$ku" "$km" "$xt" "$xu" "$xm" "$(awk -v a="$xt" -v b="$kt" 'BEGIN { print a / b }')" \
    "$(awk -v a="$xm" -v b="$km" 'BEGIN { print a / b }')" "$runs" "$(nproc)"
  local ea eb
  ea=$(cut -d' ' -f4 "$a" | sort -u | tr '\n' ' '); eb=$(cut -d' ' -f4 "$b" | sort -u | tr '\n' ' ')
  [ "$ea" = "$eb" ] || echo "  WARNING: exit codes differ: kmod ${ea}kmx ${eb}"
}

# alternate NAME RUNS -- KMOD_CMD... -- KMX_CMD...: one warm-up of each, then RUNS pairs
# kmod, kmx, kmod, kmx...; prints medians and ratios.
alternate() {
  local name=$1 runs=$2
  shift 3
  local kmod_cmd=() kmx_cmd=()
  while [ "$1" != "--" ]; do kmod_cmd+=("$1"); shift; done
  shift
  kmx_cmd=("$@")
  : > "$bench_tmp/kmod"; : > "$bench_tmp/kmx"
  measure /dev/null "${kmod_cmd[@]}"; measure /dev/null "${kmx_cmd[@]}"
  for _ in $(seq "$runs"); do
    measure "$bench_tmp/kmod" "${kmod_cmd[@]}"
    measure "$bench_tmp/kmx" "${kmx_cmd[@]}"
  done
  report "$name" "$bench_tmp/kmod" "$bench_tmp/kmx"
}
