# Differential: kmx depmod against kmod 30's depmod on small fake roots built from real
# Debian 6.1 modules, one case per option, depmod.d directive and kind of bad input. Each
# case runs kmod, keeps its outputs, removes them, runs kmx on the very same root, and
# compares every output file, stdout, stderr and the exit code. Expected results always
# come from kmod in this run.
source "$(dirname "$0")/common.sh"
need_kmod depmod

moddir=$(tree_moddir amd64-6.1)
ver=$(basename "$moddir")
image=$(tree_root amd64-6.1)
sysmap="$image/boot/System.map-$ver"

pick="kernel/fs/fat/fat.ko kernel/fs/fat/vfat.ko kernel/fs/fat/msdos.ko kernel/drivers/hid/hid.ko
kernel/drivers/hid/hid-generic.ko kernel/drivers/hid/hid-apple.ko kernel/drivers/hid/usbhid/usbhid.ko
kernel/fs/fuse/fuse.ko kernel/drivers/block/loop.ko kernel/fs/ext4/ext4.ko kernel/fs/jbd2/jbd2.ko
kernel/fs/mbcache.ko kernel/lib/crc16.ko kernel/drivers/input/misc/uinput.ko"

outputs="modules.dep modules.dep.bin modules.alias modules.alias.bin modules.softdep modules.symbols
modules.symbols.bin modules.builtin.bin modules.builtin.alias.bin modules.devname"

# mkroot DIR: a fresh fake root with the picked modules, their modules.order lines and the
# tree's builtin files.
mkroot() {
  local r=$1 d
  rm -rf "$r"
  d="$r/lib/modules/$ver"
  mkdir -p "$d"
  for m in $pick; do
    [ -e "$moddir/$m" ] || fail "missing $m in the tree"
    mkdir -p "$d/$(dirname "$m")"
    cp "$moddir/$m" "$d/$m"
  done
  grep -F -x -f <(echo "$pick" | tr ' ' '\n') "$moddir/modules.order" > "$d/modules.order"
  cp "$moddir/modules.builtin" "$moddir/modules.builtin.modinfo" "$d/"
}

# compare NAME DIR ARGS...: run both tools with ARGS (which name the root), compare.
compare() {
  local name=$1 d=$2 rc_a=0 rc_b=0 f
  shift 2
  rm -f "$d"/modules.kmx-cache
  for f in $outputs modules.weakdep; do rm -f "$d/$f"; done
  /usr/sbin/depmod "$@" > "$TMP/a.out" 2> "$TMP/a.err" || rc_a=$?
  rm -rf "$TMP/kmod-out"
  mkdir -p "$TMP/kmod-out"
  for f in $outputs; do [ ! -e "$d/$f" ] || mv "$d/$f" "$TMP/kmod-out/"; done
  "$KMX" depmod "$@" > "$TMP/b.out" 2> "$TMP/b.err" || rc_b=$?
  same "$name stdout" "$TMP/a.out" "$TMP/b.out"
  # At -vv libkmod logs its own internals with pointer values; those cannot match.
  # getopt's own messages name argv[0] (/usr/sbin/depmod vs depmod under `kmx depmod`).
  grep -v ' \.\./libkmod/libkmod\.c' "$TMP/a.err" | sed 's|^/usr/sbin/depmod: |depmod: |' > "$TMP/a.err2" || true
  same "$name stderr" "$TMP/a.err2" "$TMP/b.err"
  [ "$rc_a" = "$rc_b" ] || fail "$name: exit $rc_b, kmod $rc_a"
  for f in $outputs; do
    if [ -e "$TMP/kmod-out/$f" ]; then
      [ -e "$d/$f" ] || fail "$name: kmx did not write $f"
      same "$name $f" "$TMP/kmod-out/$f" "$d/$f"
    else
      [ ! -e "$d/$f" ] || fail "$name: kmx wrote $f, kmod did not"
    fi
  done
  echo "ok $name (exit $rc_a, $(wc -l < "$TMP/a.err") stderr lines)"
}

R="$TMP/root"
D="$R/lib/modules/$ver"
mkroot "$R"
compare plain "$D" -b "$R" "$ver"
compare all-flag "$D" -a -b "$R" "$ver"
compare dry-run "$D" -n -b "$R" "$ver"
compare verbose "$D" -v -b "$R" "$ver"
compare warn-dups "$D" -w -b "$R" "$ver"
compare symbol-prefix "$D" -P _ -b "$R" "$ver"
compare errsyms-system-map "$D" -e -F "$sysmap" -b "$R" "$ver"
compare filesyms-quiet "$D" -F "$sysmap" -b "$R" "$ver"
compare errsyms-alone "$D" -e -b "$R" "$ver"
compare missing-system-map "$D" -F "$TMP/nonexistent" -b "$R" "$ver"
compare deprecated-options "$D" -u -q -r -b "$R" "$ver"
compare bad-version "$D" -b "$R" notaversion
compare bad-prefix "$D" -P ab -b "$R" "$ver"
compare missing-tree "$D" -b "$TMP/nonexistent" "$ver"
compare quick-missing-tree "$D" -A -b "$TMP/nonexistent" "$ver"
compare unknown-option "$D" --bogus -b "$R" "$ver"
if symvers=$("$KMX_SRC/tests/data/fetch-trees.sh" path headers-6.1 2>/dev/null) && [ -e "$symvers/.done" ]; then
  symvers=$(ls "$symvers"/usr/src/*/Module.symvers | head -n1)
  compare errsyms-symvers "$D" -e -E "$symvers" -b "$R" "$ver"
  # A CRC mismatch: rewrite one vmlinux CRC.
  awk 'BEGIN{OFS="\t"} $2=="jiffies" {$1="0x12345678"} {print}' "$symvers" > "$TMP/bad.symvers"
  compare symvers-crc-mismatch "$D" -e -E "$TMP/bad.symvers" -b "$R" "$ver"
fi

# Hostile Module.symvers and System.map lines: kmod's lenient reading decides which lines give
# symbols (and CRCs) and which are reported; -e then shows what each rule kept.
printf '%s\n' 'ffffffff81000000 T _stext' 'ffffffff82000000 r __ksymtab_jiffies' '' 'nospace' 'one space' \
  'ffffffff82000001 r  __ksymtab_kfree' 'ffffffff82000002 r __ksymtab_kmalloc with spaces' \
  $'ffffffff82000004 r __ksymtab___fentry__\r' 'ffffffff82000005 r ___ksymtab_strlen' > "$TMP/hostile.map"
printf 'ffffffff82000003 r __ksymtab_memcpy' >> "$TMP/hostile.map"
compare hostile-system-map "$D" -e -F "$TMP/hostile.map" -b "$R" "$ver"
compare hostile-system-map-prefix "$D" -e -P _ -F "$TMP/hostile.map" -b "$R" "$ver"
printf '%s\n' $'0x12345678\tjiffies\tvmlinux\tEXPORT_SYMBOL\t' $'0x1\tkfree\tvmlinux' \
  '0x2 kmalloc_caches vmlinux ' $'zz\t__fentry__\tvmlinux\tEXPORT_SYMBOL' $'0x3\tfoo\tdrivers/net/mii\tEXPORT_SYMBOL' \
  '' $'   \t  ' $'0xffffffffffffffffff\tstrlen\tvmlinux\tEXPORT_SYMBOL' $'-1\tmemcpy\tvmlinux\tEXPORT_SYMBOL' \
  $'0x5\tmemset\tvmlinux\r' $'0x\tmemmove\tvmlinux\tEXPORT_SYMBOL' > "$TMP/hostile.symvers"
printf '0x4\tprintk\tvmlinux' >> "$TMP/hostile.symvers"
compare hostile-symvers "$D" -e -E "$TMP/hostile.symvers" -b "$R" "$ver"

# Module-file arguments (absolute paths), and the errors for relative / missing ones.
compare module-args "$D" -b "$R" "$ver" "$D/kernel/fs/fat/fat.ko" "$D/kernel/fs/fat/vfat.ko"
compare module-args-relative "$D" -b "$R" "$ver" kernel/fs/fat/fat.ko
compare module-args-missing "$D" -b "$R" "$ver" "$D/kernel/nothere.ko"
compare module-args-twice "$D" -b "$R" "$ver" "$D/kernel/fs/fat/fat.ko" "$D/kernel/fs/fat/fat.ko"
mkdir -p "$D/other"
cp "$D/kernel/fs/fat/fat.ko" "$D/other/fat.ko"
compare module-args-same-name "$D" -b "$R" "$ver" "$D/kernel/fs/fat/fat.ko" "$D/other/fat.ko"
compare module-args-not-a-module "$D" -b "$R" "$ver" /etc/hostname
rm -rf "$D/other"

# modules.order: missing, and corrupted (last line without a newline).
mv "$D/modules.order" "$TMP/order"
compare no-modules-order "$D" -b "$R" "$ver"
head -c -1 "$TMP/order" > "$D/modules.order"
compare corrupt-modules-order "$D" -b "$R" "$ver"
cp "$TMP/order" "$D/modules.order"

# Builtin inputs: missing, and with odd lines / records.
mv "$D/modules.builtin" "$D/modules.builtin.modinfo" "$TMP/"
compare no-builtin "$D" -b "$R" "$ver"
{ head -n 3 "$TMP/modules.builtin"; echo "/bad/line.ko"; echo "kernel/noext"; } > "$D/modules.builtin"
printf 'foo.alias=pci:v*d0000[12]*\0foo.license=GPL\0bar.alias=un[matched\0noequals\0baz.alias=x-y-z\0trunc' \
  > "$D/modules.builtin.modinfo"
compare odd-builtin "$D" -b "$R" "$ver"
cp "$TMP/modules.builtin" "$TMP/modules.builtin.modinfo" "$D/"

# Bad modules: not ELF, empty, truncated ELF, truncated xz; kmod reports and keeps them.
mkdir -p "$D/kernel/bad"
echo garbage > "$D/kernel/bad/junk.ko"
: > "$D/kernel/bad/empty.ko"
head -c 3000 "$D/kernel/fs/fat/fat.ko" > "$D/kernel/bad/cut.ko"
xz -c "$D/kernel/fs/fat/msdos.ko" | head -c 400 > "$D/kernel/bad/cutxz.ko.xz"
printf 'ab' > "$D/kernel/bad/tiny.ko"
printf '\177ELF\003\001\001\000\000\000\000\000\000\000\000\000padding-padding-padding' > "$D/kernel/bad/badclass.ko"
printf '\177ELF\002\001\001\000' > "$D/kernel/bad/shortelf.ko"
if command -v zstd > /dev/null; then zstd -q -c "$D/kernel/fs/fat/msdos.ko" > "$D/kernel/bad/good-zstd.ko.zst"; fi
compare bad-modules "$D" -b "$R" "$ver"
if command -v objcopy > /dev/null; then
  # __versions of a size that is not a multiple of 64, and one cut to a single entry.
  objcopy -O binary --only-section=__versions "$D/kernel/fs/fat/vfat.ko" "$TMP/versions"
  head -c 100 "$TMP/versions" > "$TMP/v100"
  head -c 64 "$TMP/versions" > "$TMP/v64"
  objcopy --update-section "__versions=$TMP/v100" "$D/kernel/fs/fat/vfat.ko" "$D/kernel/bad/vfat-odd.ko"
  objcopy --update-section "__versions=$TMP/v64" "$D/kernel/fs/fat/msdos.ko" "$D/kernel/bad/msdos-one.ko"
  compare odd-versions "$D" -b "$R" "$ver"
  if [ -n "${symvers:-}" ]; then compare odd-versions-symvers "$D" -e -E "$symvers" -b "$R" "$ver"; fi
fi
rm -rf "$D/kernel/bad"

# depmod.d: search order with built-in, override, exclude, external, bad lines.
mkdir -p "$D/updates" "$D/extra/sub" "$D/skipme" "$TMP/ext/deep" "$TMP/conf"
cp "$D/kernel/fs/fat/fat.ko" "$D/updates/fat.ko"
cp "$D/kernel/fs/fat/fat.ko" "$D/extra/sub/fat.ko"
cp "$D/kernel/fs/fat/vfat.ko" "$D/extra/vfat.ko"
cp "$D/kernel/fs/fat/msdos.ko" "$D/skipme/msdos.ko"
cp "$D/kernel/drivers/block/loop.ko" "$TMP/ext/deep/loop.ko"
compare default-updates-first "$D" -b "$R" "$ver"
printf 'search extra built-in updates\n' > "$TMP/conf/10-search.conf"
compare search-order "$D" -C "$TMP/conf" -b "$R" "$ver"
printf 'override vfat * kernel/fs/fat\noverride fat 9.9.* updates\n' > "$TMP/conf/20-override.conf"
compare override "$D" -C "$TMP/conf" -b "$R" "$ver"
printf 'exclude skipme\n' > "$TMP/conf/30-exclude.conf"
compare exclude "$D" -C "$TMP/conf" -b "$R" "$ver"
printf 'search external updates\nexternal * %s\nexternal 1.2.* /nonexistent\n' "$TMP/ext" > "$TMP/conf/05-ext.conf"
compare external "$D" -C "$TMP/conf" -b "$R" "$ver"
printf 'bogus line here\noverride onlytwo args\ninclude /x\nsearch \\\n  updates\n#comment\n' > "$TMP/conf/40-bad.conf"
compare bad-config-lines "$D" -vv -C "$TMP/conf" -b "$R" "$ver"
printf 'search built-in\n' > "$TMP/single.conf"
compare config-file-path "$D" -C "$TMP/single.conf" -C "$TMP/conf" -b "$R" "$ver"
touch "$TMP/conf/noext"
compare config-non-conf-file "$D" -vv -C "$TMP/conf" -b "$R" "$ver"
rm -rf "$D/updates" "$D/extra" "$D/skipme"

# Dependency cycles (kmod's own test modules, when the peer suite is present).
loops=/work/shared/peer/kmod-testsuite/fixtures/modules
if [ -e "$loops/mod-loop-a.ko" ]; then
  mkdir -p "$D/kernel/loops"
  cp "$loops"/mod-loop-*.ko "$D/kernel/loops/"
  compare cycles "$D" -b "$R" "$ver"
  rm -rf "$D/kernel/loops"
fi

# -A: nothing is newer than modules.dep -> no work; a newer module -> full run.
"$KMX" depmod -b "$R" "$ver"
touch -d '2000-01-01' $(find "$D" -name '*.ko')
before=$(stat -c %Y "$D/modules.dep.bin")
sleep 1
"$KMX" depmod -A -b "$R" "$ver"
[ "$before" = "$(stat -c %Y "$D/modules.dep.bin")" ] || fail "-A rewrote up-to-date indexes"
rm "$D/modules.alias"
"$KMX" depmod -A -b "$R" "$ver"
[ ! -e "$D/modules.alias" ] || fail "-A ran although modules.dep was newest"
touch "$D/kernel/fs/fat/fat.ko"
compare quick-outdated "$D" -A -b "$R" "$ver"

# -o (kmod 34): the same files under another root; -m (kmod 34): another module dir.
"$KMX" depmod -b "$R" -o "$TMP/out" "$ver"
for f in $outputs; do same "-o $f" "$D/$f" "$TMP/out/lib/modules/$ver/$f"; done
mkdir -p "$R/other"
cp -a "$D" "$R/other/$ver"
"$KMX" depmod -b "$R" -m /other "$ver"
echo "ok -o and -m"
