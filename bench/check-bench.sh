#!/usr/bin/env bash
# kmx check benchmark (speed target): checking every module of the 6.1 tree against
# the 6.12 kernel (image package + headers' Module.symvers) must take at most what kmod's
# `depmod -e -E Module.symvers` takes on that tree. Alternating runs, medians.
#   "check 6.1->6.12"      the target as stated (the kernel refuses every module at its struct
#                          module size check, so kmx stops there as the kernel does)
#   "check --all 6.1->6.12" every check of every module (all symbols and CRCs), as depmod -e does
#
#   bench/check-bench.sh [KMX] [RUNS]     (KMX defaults to build/kmx, RUNS to 5)
#
# kmx exits 2 (modules refused) where depmod exits 0; the exit-code warning is expected.
# 22 Nov 2026, 2 cores, 7 runs: "check" 0.33x kmod's time; "check --all" 0.53x (0.87x with the
# host at load average 4: kmx's CPU time is about kmod's, so its edge is the second core) and
# 31 MB peak RSS (kmod 40 MB). Before modules were read, checked and written in batches (streamed
# JSON) --all took 1.9x and 352 MB: every parsed module, verdict and one JSON document at once.
source "$(dirname "$0")/lib.sh"
kmx=${1:-$bench_src/build/kmx}
runs=${2:-5}
fetch=$bench_src/tests/data/fetch-trees.sh
r1=$("$fetch" path amd64-6.1)
r2=$("$fetch" path amd64-6.12)
s2=$(ls "$("$fetch" path headers-6.12)"/usr/src/linux-headers-*/Module.symvers)
rel1=$(ls "$r1/lib/modules")
alternate "check 6.1->6.12" "$runs" -- /usr/sbin/depmod -n -e -E "$s2" -b "$r1" "$rel1" \
  -- "$kmx" check --json -t "$r2,$s2" "$r1/lib/modules/$rel1"
alternate "check --all 6.1->6.12" "$runs" -- /usr/sbin/depmod -n -e -E "$s2" -b "$r1" "$rel1" \
  -- "$kmx" check --all --json -t "$r2,$s2" "$r1/lib/modules/$rel1"
