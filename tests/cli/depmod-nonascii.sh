# Non-ASCII aliases: kmx refuses them (kmod 30 indexes them, its trie code treats the byte as
# a negative signed char). kmx deliberately differs (README): the alias is left out of
# modules.alias and modules.alias.bin alike, with a warning naming the module, the key and
# the byte, and kmod's exit code (0); the module's other aliases are indexed as kmod indexes
# them.
source "$(dirname "$0")/common.sh"
need_kmod depmod modprobe
command -v objcopy > /dev/null || skip "objcopy not installed (apt-get install binutils)"

src=$(tree_moddir amd64-6.1)
ver=$(basename "$src")
cp "$src/kernel/drivers/net/mii.ko" "$TMP/mii.ko"
objcopy --dump-section .modinfo="$TMP/modinfo" "$TMP/mii.ko"
printf 'alias=caf\303\251\0alias=plain-ascii\0' >> "$TMP/modinfo"
objcopy --update-section .modinfo="$TMP/modinfo" "$TMP/mii.ko"
mkdir -p "$TMP/empty"
for t in kmod kmx; do
  mkdir -p "$TMP/$t/lib/modules/$ver/kernel"
  cp "$TMP/mii.ko" "$TMP/$t/lib/modules/$ver/kernel/"
done

/usr/sbin/depmod -b "$TMP/kmod" "$ver"
kmod_dir=$TMP/kmod/lib/modules/$ver
grep -q $'^alias caf\303\251 mii$' "$kmod_dir/modules.alias" || fail "kmod did not index the alias (update this test)"
echo "kmod 30: $(/usr/sbin/modprobe -R -d "$TMP/kmod" -S "$ver" -C "$TMP/empty" $'caf\303\251' 2>&1)"

rc=0
"$KMX" depmod -b "$TMP/kmx" "$ver" 2> "$TMP/err" || rc=$?
cat "$TMP/err"
kd=$TMP/kmx/lib/modules/$ver
[ "$rc" -eq 0 ] || fail "exit $rc, kmod exits 0"
grep -q "WARNING: $kd/kernel/mii.ko: modinfo alias value has a non-ASCII byte 0xc3 at byte 3: not indexed" "$TMP/err" ||
  fail "no warning naming the module, the key and the byte"
! grep -q ERROR "$TMP/err" || fail "an ERROR for an alias that is only left out"
# modules.alias is kmod's without the refused line; the .bin index agrees with it.
grep -v $'caf\303\251' "$kmod_dir/modules.alias" > "$TMP/expected.alias"
same modules.alias "$TMP/expected.alias" "$kd/modules.alias"
not "$KMX" modprobe -R -d "$TMP/kmx" -S "$ver" -C "$TMP/empty" $'caf\303\251' 2> /dev/null
[ "$("$KMX" modprobe -R -d "$TMP/kmx" -S "$ver" -C "$TMP/empty" plain-ascii)" = mii ] || fail "the module's ASCII alias is not indexed"
for f in modules.dep modules.dep.bin modules.symbols modules.symbols.bin; do same "$f" "$kmod_dir/$f" "$kd/$f"; done
echo "ok: the non-ASCII alias is refused in both alias indexes, with a warning and exit 0"
