#!/usr/bin/env bash
# How much of each kernel pair's CRC changes kmx abi-diff explains from BTF: exports with a
# changed modversions CRC, the share explained by a named type change (goal: 95%), the
# unexplained ones (no type change: listed by name; no BTF: counted by kind, the exported
# variables BTF does not record), the silent type changes under unchanged CRCs, and the size
# of the --json output. Counts
# only, no timing (bench/abi-diff-btf.sh times it); the last run is in abi-diff-coverage.txt.
#
#   bench/abi-diff-coverage.sh [KMX]     (KMX defaults to build/kmx)
source "$(dirname "$0")/lib.sh"
kmx=${1:-$bench_src/build/kmx}
fetch=$bench_src/tests/data/fetch-trees.sh
export KMX_CACHE_DIR=$bench_tmp/cache

spec() {  # KEY HEADERS_KEY: the image root and its headers' Module.symvers
  local r h
  "$fetch" "$1" "$2" || return 1
  r=$("$fetch" path "$1")
  h=$("$fetch" path "$2")
  echo "$r,$(ls "$h"/usr/src/linux-headers-*/Module.symvers)"
}

pair() {  # OLD_KEY OLD_HEADERS NEW_KEY NEW_HEADERS
  local old new
  old=$(spec "$1" "$2") && new=$(spec "$3" "$4") || { echo "skipped: $1 -> $3 not fetched"; return 0; }
  { "$kmx" abi-diff "$old" "$new" || true; } >"$bench_tmp/out"
  echo "$(sed -n 's/^abi-diff //p' "$bench_tmp/out")"
  grep -E "^(exports: |CRC changes explained|silent type changes \(CRC)" "$bench_tmp/out" | sed 's/^/  /'
  echo "  --json: $({ "$kmx" abi-diff --json "$old" "$new" || true; } | wc -c) bytes"
  sed -n '/^CRC changes with no type change/,/^[^ ]/p' "$bench_tmp/out" | sed '$d' | sed 's/^/  /'
  sed -n '/^CRC changes with no BTF/,/^[^ ]/p' "$bench_tmp/out" | sed '1d;$d' |
    awk '{ if ($1 ~ /^__tracepoint_/) k = "__tracepoint_* (struct tracepoint variables)"
           else if ($1 ~ /^__SCK__/) k = "__SCK__* (static call keys)"
           else k = "other: " substr($0, index($0, ":") + 2)
           n[k]++ }
         END { for (k in n) printf "    %5d %s\n", n[k], k }' | sort -rn |
    sed '1i\  no BTF, by kind:'
}

echo "kmx $("$kmx" --version 2>/dev/null | head -n1)"
pair amd64-6.1-53 headers-6.1-53 amd64-6.1 headers-6.1
pair amd64-6.1-47 headers-6.1-47 amd64-6.1-57 headers-6.1-57
pair amd64-6.12-107 headers-6.12-107 amd64-6.12-118 headers-6.12-118
pair amd64-6.1 headers-6.1 amd64-6.12 headers-6.12
pair amd64-6.1-57 headers-6.1-57 amd64-6.12-118 headers-6.12-118
