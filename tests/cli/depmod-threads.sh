# The default thread count follows the CPUs the process may run on (base/cpus.h): under
# `taskset -c 0` kmx depmod reads modules with one thread, whatever the machine has. kmx
# depmod names its thread count in its statistics (KMX_DEPMOD_STATS=1).
source "$(dirname "$0")/common.sh"
command -v taskset > /dev/null || skip "taskset not installed (util-linux)"
src=$(tree_moddir amd64-6.1)
ver=$(basename "$src")
mkdir -p "$TMP/root/lib/modules/$ver/kernel"
cp "$src/kernel/drivers/net/dummy.ko" "$src/kernel/drivers/net/mii.ko" "$TMP/root/lib/modules/$ver/kernel/"
threads() { KMX_DEPMOD_STATS=1 "$@" depmod -n -b "$TMP/root" "$ver" 2>&1 >/dev/null | sed -n 's/^kmx depmod: \([0-9]*\) threads$/\1/p'; }
one=$(threads taskset -c 0 "$KMX")
[ "$one" = 1 ] || fail "under taskset -c 0: '$one' threads"
allowed=$(taskset -c -p $$ | sed 's/.*: //')
n=$(threads "$KMX")
[ "$n" -ge 1 ] && [ "$n" -le "$(nproc)" ] || fail "default: $n threads with $(nproc) usable CPUs ($allowed)"
echo "ok: taskset -c 0 gives 1 thread; default $n (usable CPUs: $(nproc), mask $allowed)"
