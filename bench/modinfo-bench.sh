#!/usr/bin/env bash
# modinfo benchmark: kmod 30's /usr/sbin/modinfo against `kmx modinfo` over every module of
# a real tree, the same file list passed the same way (xargs), alternating runs.
#
#   bench/modinfo-bench.sh [KMX] [RUNS]     (KMX defaults to build/kmx, RUNS to 5)
source "$(dirname "$0")/lib.sh"
kmx=${1:-$bench_src/build/kmx}
runs=${2:-5}

for key in amd64-6.1 amd64-6.12; do
  root=$("$bench_src/tests/data/fetch-trees.sh" path "$key")
  find "$root/lib/modules" -name '*.ko*' | sort > "$bench_tmp/list-$key"
  n=$(wc -l < "$bench_tmp/list-$key")
  alternate "modinfo $key ($n)" "$runs" -- xargs -a "$bench_tmp/list-$key" /usr/sbin/modinfo \
    -- xargs -a "$bench_tmp/list-$key" "$kmx" modinfo
  alternate "modinfo -F alias $key" "$runs" -- xargs -a "$bench_tmp/list-$key" /usr/sbin/modinfo -F alias \
    -- xargs -a "$bench_tmp/list-$key" "$kmx" modinfo -F alias
done
