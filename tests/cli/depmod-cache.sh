# The depmod metadata cache: after one module changes (the DKMS case) kmx reads only that
# module and its output equals kmod's full run; a module rewritten in place with its size and
# mtime put back is read again (ctime is in the key); a corrupt, truncated or foreign cache is
# ignored and rebuilt, never trusted; -n and --no-cache write no cache. The cache lives under
# ROOT/var/cache/kmx with -b ROOT (KMX_CACHE_DIR overrides), never in the module directory,
# and the first -o OUTDIR run writes it like any other.
source "$(dirname "$0")/common.sh"
need_kmod depmod

moddir=$(tree_moddir amd64-6.1)
ver=$(basename "$moddir")
R="$TMP/root"
D="$R/lib/modules/$ver"
mkdir -p "$R/lib/modules"
# A copy of its own, not hard links into the shared tree: the cache keys each module by its
# ctime, and every link another test makes to the same inode (cp -al) changes that ctime.
cp -a "$moddir" "$D"
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

unset KMX_CACHE_DIR
n=$(find "$D" -name '*.ko' | wc -l)
"$KMX" depmod -n -b "$R" "$ver" > /dev/null
[ -z "$(ls "$R/var/cache/kmx" 2> /dev/null)" ] || fail "-n wrote a cache"
"$KMX" depmod --no-cache -b "$R" "$ver"
[ -z "$(ls "$R/var/cache/kmx" 2> /dev/null)" ] || fail "--no-cache wrote a cache"

s=$(stats -b "$R" "$ver")
[ "$s" = "$n modules read, 0 from cache" ] || fail "first run: $s"
cache=$(ls "$R"/var/cache/kmx/depmod-"$ver"-*.cache)
[ -f "$cache" ] || fail "no cache under ROOT/var/cache/kmx"
! ls "$D" | grep -q kmx || fail "kmx left a file in the module directory: $(ls "$D" | grep kmx)"
s=$(stats -b "$R" "$ver")
[ "$s" = "0 modules read, $n from cache" ] || fail "warm run: $s"
check warm

# depmod FILE... reads the cache but does not replace the whole-tree cache with its subset.
cp "$cache" "$TMP/full-cache"
mkdir -p "$TMP/fresh"
cp "$D/kernel/fs/fat/fat.ko" "$TMP/fresh/fat.ko"  # not in the cache: this run reads a module
"$KMX" depmod -b "$R" "$ver" "$TMP/fresh/fat.ko" > /dev/null
cmp -s "$cache" "$TMP/full-cache" || fail "module-file run rewrote the cache"
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

# A module rewritten in place, same size, its mtime put back: read again, output changes.
m="$D/kernel/drivers/net/dummy.ko"
cp --remove-destination "$m" "$m.new" && mv "$m.new" "$m"  # own copy: the tree is hard links
"$KMX" depmod -b "$R" "$ver"
cp -p "$m" "$TMP/dummy-stamp"
python3 - "$m" <<'PY'
import sys
p = sys.argv[1]
d = open(p, 'rb').read()
i = d.index(b'alias=rtnl-link-dummy\0')
with open(p, 'r+b') as f:  # in place: same inode, same size
    f.seek(i + len(b'alias=rtnl-link-dumm'))
    f.write(b'z')
PY
touch -r "$TMP/dummy-stamp" "$m"
[ "$(stat -c '%s %Y' "$m")" = "$(stat -c '%s %Y' "$TMP/dummy-stamp")" ] || fail "size or mtime changed"
s=$(stats -b "$R" "$ver")
[ "$s" = "1 modules read, $((n - 1)) from cache" ] || fail "in-place rewrite: $s"
grep -qx 'alias rtnl-link-dummz dummy' "$D/modules.alias" || fail "the rewritten module's alias is not in modules.alias"
check rewritten-in-place

# Bad caches: truncated, bit-flipped, foreign (another tree's), garbage, empty.
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
cp "$R2"/var/cache/kmx/depmod-*.cache "$cache"
s=$(stats -b "$R" "$ver"); [ "${s%% *}" = "$n" ] || fail "foreign cache was used: $s"
check foreign-cache

# KMX_CACHE_DIR moves the cache; the first -o OUTDIR run writes its cache like any other.
R3="$TMP/root3"
mkdir -p "$R3/lib/modules"
cp -al "$D" "$R3/lib/modules/$ver"
s=$(KMX_CACHE_DIR="$TMP/cachedir" stats -b "$R3" -o "$TMP/out" "$ver")
[ "$s" = "$n modules read, 0 from cache" ] || fail "first -o run: $s"
[ -f "$(ls "$TMP"/cachedir/depmod-"$ver"-*.cache)" ] || fail "no cache in KMX_CACHE_DIR"
[ ! -e "$R3/var/cache/kmx" ] || fail "KMX_CACHE_DIR was not used"
s=$(KMX_CACHE_DIR="$TMP/cachedir" stats -b "$R3" -o "$TMP/out" "$ver")
[ "$s" = "0 modules read, $n from cache" ] || fail "second -o run: $s"
s=$(stats -b "$R3" -o "$TMP/out2" "$ver")
[ "$s" = "$n modules read, 0 from cache" ] || fail "first -o run without KMX_CACHE_DIR: $s"
s=$(stats -b "$R3" -o "$TMP/out2" "$ver")
[ "$s" = "0 modules read, $n from cache" ] || fail "second -o run without KMX_CACHE_DIR: $s"
[ -f "$(ls "$R3"/var/cache/kmx/depmod-"$ver"-*.cache)" ] || fail "no cache under ROOT/var/cache/kmx for -o"
# A cache left in the module directory by an older kmx is removed by the next run.
echo stale > "$D/modules.kmx-cache"
"$KMX" depmod -b "$R" "$ver"
[ ! -e "$D/modules.kmx-cache" ] || fail "the old in-tree cache was left behind"
echo "ok: cache under the root, ctime in the key, -o writes its cache, KMX_CACHE_DIR honoured"
