#!/usr/bin/env bash
# modprobe benchmark: resolving 1000 different aliases, one process per alias as udev's
# callers do, kmod 30's /usr/sbin/modprobe against `kmx modprobe` in the same run
# (alternating runs, medians). The aliases are patterns of the 6.12 tree's modules.alias
# made concrete (wildcards filled in), every Nth so that 1000 remain; the tree is indexed by
# kmod's depmod in a scratch root; the config is an empty -C directory. Two modes: -R (the
# lookup alone) and --show-depends (lookup, dependencies, softdeps, path printing).
#
# One process per alias makes process start-up the dominant cost: the lookup itself is a few
# syscalls, and a page fault costs ~11 us on this machine's virtual CPUs, so the binaries' page
# faults decide much of the figure (both run from installed_copy, see lib.sh). kmx is linked statically by default (CMake option KMX_STATIC), so it starts without
# the dynamic loader; a dynamically linked kmx (-DKMX_STATIC=OFF) loads libstdc++, libm,
# libgcc_s and libz on top of kmod's libraries and is slower than kmod here.
#
# Prints the load average before and after: on a shared machine it says how much to trust
# the ratios.
#
# Last run (clean clone, 7 alternating runs, medians, 2 cores, load average 0.83 before, 1.33
# after; static kmx linked with --gc-sections; both tools run from fresh copies):
#   -R              kmod 7.75 s  kmx 3.73 s  0.481x
#   --show-depends  kmod 7.46 s  kmx 3.76 s  0.504x
# What remains is process start-up: an empty static C program costs ~2.1 ms of the ~2.5 ms of
# one kmx --show-depends here; kmx takes ~57 page faults (text, data, heap, the two indexes)
# where kmod takes ~190.
#
#   bench/modprobe-bench.sh [KMX] [RUNS]     (KMX defaults to build/kmx, RUNS to 5)
source "$(dirname "$0")/lib.sh"
kmx=${1:-$bench_src/build/kmx}
runs=${2:-5}

key=amd64-6.12
src=$(ls -d "$("$bench_src/tests/data/fetch-trees.sh" path "$key")"/lib/modules/*/ | head -n1)
src=${src%/}
ver=$(basename "$src")
root=$bench_tmp/root
mkdir -p "$root/lib/modules" "$bench_tmp/conf" "$bench_tmp/kmod-bin" "$bench_tmp/kmx-bin"
cp -al "$src" "$root/lib/modules/$ver"
rm -f "$root/lib/modules/$ver"/modules.*.bin
/usr/sbin/depmod -b "$root" "$ver"
# Both tools run from copies named modprobe (kmod and kmx pick the tool by that name).
installed_copy /usr/sbin/modprobe "$bench_tmp/kmod-bin/modprobe"
installed_copy "$kmx" "$bench_tmp/kmx-bin/modprobe"

python3 - "$root/lib/modules/$ver/modules.alias" > "$bench_tmp/aliases" <<'PY'
import re, sys
pats = [l[6:].rsplit(' ', 1)[0] for l in open(sys.argv[1]) if l.startswith('alias ')]
def concrete(p):
    p = re.sub(r'\[!?([^\]])[^\]]*\]', lambda m: m.group(1) if not m.group(0).startswith('[!') else 'x', p)
    return p.replace('*', '').replace('?', 'x')
seen, out = set(), []
step = max(1, len(pats) // 1000)
for p in pats[::step]:
    c = concrete(p)
    if c and not c.startswith('-') and c not in seen:
        seen.add(c); out.append(c)
print('\n'.join(out[:1000]))
PY
n=$(wc -l < "$bench_tmp/aliases")
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in -R --show-depends; do
  alternate "modprobe $mode ($n procs)" "$runs" \
    -- xargs -d '\n' -n1 -a "$bench_tmp/aliases" "$bench_tmp/kmod-bin/modprobe" -C "$bench_tmp/conf" -d "$root" -S "$ver" $mode \
    -- xargs -d '\n' -n1 -a "$bench_tmp/aliases" "$bench_tmp/kmx-bin/modprobe" -C "$bench_tmp/conf" -d "$root" -S "$ver" $mode
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
