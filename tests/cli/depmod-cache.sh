# The depmod metadata cache: after one module changes (the DKMS case) kmx reads only that
# module and its output equals kmod's full run; a corrupt, truncated or foreign cache is
# ignored and rebuilt, never trusted; -n and --no-cache write no cache.
source "$(dirname "$0")/common.sh"
need_kmod depmod

moddir=$(tree_moddir amd64-6.1)
ver=$(basename "$moddir")
R="$TMP/root"
D="$R/lib/modules/$ver"
mkdir -p "$R/lib/modules"
cp -al "$moddir" "$D"
outputs="modules.dep modules.dep.bin modules.alias modules.alias.bin modules.softdep modules.symbols
modules.symbols.bin modules.builtin.bin modules.builtin.alias.bin modules.devname"

stats() { KMX_DEPMOD_STATS=1 "$KMX" depmod "$@" 2>&1 >/dev/null | sed -n 's/^kmx depmod: \(.* from cache\)$/\1/p'; }

# check NAME: kmod on the same root gives the same files.
check() {
  local f
  mkdir -p "$TMP/kmx-out"
  for f in $outputs; do cp "$D/$f" "$TMP/kmx-out/$f"; done
  /usr/sbin/depmod -b "$R" "$ver"
  for f in $outputs; do same "$1 $f" "$D/$f" "$TMP/kmx-out/$f"; done
  echo "ok $1"
}

n=$(find "$D" -name '*.ko' | wc -l)
"$KMX" depmod -n -b "$R" "$ver" > /dev/null
[ ! -e "$D/modules.kmx-cache" ] || fail "-n wrote a cache"
"$KMX" depmod --no-cache -b "$R" "$ver"
[ ! -e "$D/modules.kmx-cache" ] || fail "--no-cache wrote a cache"

s=$(stats -b "$R" "$ver")
[ "$s" = "$n modules read, 0 from cache" ] || fail "first run: $s"
s=$(stats -b "$R" "$ver")
[ "$s" = "0 modules read, $n from cache" ] || fail "warm run: $s"
check warm

# depmod FILE... reads the cache but does not replace the whole-tree cache with its subset.
cp "$D/modules.kmx-cache" "$TMP/full-cache"
mkdir -p "$TMP/fresh"
cp "$D/kernel/fs/fat/fat.ko" "$TMP/fresh/fat.ko"  # not in the cache: this run reads a module
"$KMX" depmod -b "$R" "$ver" "$TMP/fresh/fat.ko" > /dev/null
cmp -s "$D/modules.kmx-cache" "$TMP/full-cache" || fail "module-file run rewrote the cache"
"$KMX" depmod -b "$R" "$ver"

# DKMS: a new module under updates/dkms and one replaced module (new file, new inode).
mkdir -p "$D/updates/dkms"
cp "$D/kernel/fs/fat/vfat.ko" "$D/updates/dkms/vfat.ko"  # replaces kernel/fs/fat/vfat.ko: updates/ wins
cp "$D/kernel/drivers/hid/hid-apple.ko" "$TMP/x.ko"
rm "$D/kernel/drivers/hid/hid-apple.ko"
cp "$D/kernel/drivers/hid/hid-generic.ko" "$D/kernel/drivers/hid/hid-apple.ko"
s=$(stats -b "$R" "$ver")
[ "$s" = "2 modules read, $((n - 2)) from cache" ] || fail "incremental run: $s"
check dkms-incremental

# Bad caches: truncated, bit-flipped, foreign (another tree's), garbage, empty.
cache="$D/modules.kmx-cache"
cp "$cache" "$TMP/good-cache"
head -c 1000 "$TMP/good-cache" > "$cache"
s=$(stats -b "$R" "$ver"); [ "${s%% *}" = "$n" ] || fail "truncated cache was used: $s"
check truncated-cache
python3 - "$cache" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
d[len(d) // 2] ^= 0x40
open(p, 'wb').write(d)
PY
s=$(stats -b "$R" "$ver"); [ "${s%% *}" = "$n" ] || fail "bit-flipped cache was used: $s"
check flipped-cache
head -c 5000 /dev/urandom > "$cache"
s=$(stats -b "$R" "$ver"); [ "${s%% *}" = "$n" ] || fail "garbage cache was used: $s"
: > "$cache"
s=$(stats -b "$R" "$ver"); [ "${s%% *}" = "$n" ] || fail "empty cache was used: $s"
check empty-cache
other=$(tree_moddir i386-6.1)
R2="$TMP/root2"
mkdir -p "$R2/lib/modules"
cp -al "$other" "$R2/lib/modules/$(basename "$other")"
"$KMX" depmod -b "$R2" "$(basename "$other")"
cp "$R2/lib/modules/$(basename "$other")/modules.kmx-cache" "$cache"
s=$(stats -b "$R" "$ver"); [ "${s%% *}" = "$n" ] || fail "foreign cache was used: $s"
check foreign-cache
