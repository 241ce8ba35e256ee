#!/usr/bin/env bash
# Coldplug with real loads, in the VM lab: the daemon-coldplug scenario (tests/vm/scenarios/
# daemon-coldplug.sh) booted alone, one kernel after the other, so that nothing else shares
# the host's cores with the VM. In each VM (2 vCPUs, then cpu1 offline) kmx's one
# `kmx daemon --coldplug-only` process and kmod's `modprobe -b -q ALIAS` per distinct modalias
# alternate (kmx, kmod, kmod, kmx, twice) with the page cache warmed; printed are the medians
# of the four runs per tool and their ratio, per kernel and CPU count, and the same module sets.
#
#   bench/coldplug-lab.sh [KMX]        (KMX defaults to build/kmx; needs what tests/vm needs)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export KMX=$(realpath "${1:-$src/build/kmx}")
out=$(mktemp "${TMPDIR:-/tmp}/kmx-coldplug-lab.XXXXXX")
trap 'rm -f "$out"' EXIT
rc=0
KMX_VM_JOBS=1 "$src/tests/vm/run.sh" daemon-coldplug > "$out" 2>&1 || rc=$?
grep -E "coldplug with loads|resolution only|workers|^FAIL|^not ok|skipped|passed, .* failed" "$out" || cat "$out"
echo "($(nproc) host cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
exit $rc
