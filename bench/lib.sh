# Shared helpers for bench/*.sh (sourced): alternate kmod and kmx runs, report medians and
# the kmx/kmod ratio measured in the same run.
set -euo pipefail
bench_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmx-bench.XXXXXX")
trap 'rm -rf "$bench_tmp"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# measure OUTFILE CMD...: append "wall_seconds peak_rss_kb" of one run of CMD.
measure() {
  local out=$1
  shift
  /usr/bin/time -f '%e %M' -o "$bench_tmp/t" "$@" > /dev/null 2> "$bench_tmp/err" || true
  cat "$bench_tmp/t" | tail -n 1 >> "$out"
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
  local kt km xt xm
  kt=$(cut -d' ' -f1 "$bench_tmp/kmod" | median); km=$(cut -d' ' -f2 "$bench_tmp/kmod" | median)
  xt=$(cut -d' ' -f1 "$bench_tmp/kmx" | median); xm=$(cut -d' ' -f2 "$bench_tmp/kmx" | median)
  printf '%-22s kmod %6.2f s %7d KB   kmx %6.2f s %7d KB   time %.3fx  rss %.2fx  (%d runs, %d cores)\n' \
    "$name" "$kt" "$km" "$xt" "$xm" "$(awk -v a="$xt" -v b="$kt" 'BEGIN { print a / b }')" \
    "$(awk -v a="$xm" -v b="$km" 'BEGIN { print a / b }')" "$runs" "$(nproc)"
}
