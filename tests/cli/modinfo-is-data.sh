# Module metadata is data, never configuration. A module whose .modinfo carries
# "softdep=pre: x\ninstall dummy CMD" makes kmod 30's depmod write an `install dummy CMD` line
# into modules.softdep, and kmod's modprobe reads that file as modprobe.d configuration: CMD
# runs as root on `modprobe dummy`. kmx deliberately differs from kmod here (README):
#   - kmx depmod drops a modinfo value holding a control character from every index, with a
#     warning that names the module and the key, and kmod's exit code (0);
#   - kmx modprobe (and the daemon, through the same loader) reads only softdep lines from
#     modules.softdep and only weakdep lines from modules.weakdep, and warns about the rest;
#   - a module file whose name holds a control character is not indexed.
# Nothing is loaded: modprobe runs with -n -v (--dry-run --verbose), which prints an install
# command instead of running it.
source "$(dirname "$0")/common.sh"
need_kmod depmod modprobe
command -v objcopy > /dev/null || skip "objcopy not installed (apt-get install binutils)"

src=$(tree_moddir amd64-6.1)
ver=$(basename "$src")
pwned=$TMP/pwned
mkroot() {
  local r=$1
  mkdir -p "$r/lib/modules/$ver/kernel/drivers/net"
  cp "$TMP/mii.ko" "$src/kernel/drivers/net/dummy.ko" "$r/lib/modules/$ver/kernel/drivers/net/"
}

# The reproduction: a real module with the string appended to its .modinfo.
cp "$src/kernel/drivers/net/mii.ko" "$TMP/mii.ko"
objcopy --dump-section .modinfo="$TMP/modinfo" "$TMP/mii.ko"
printf 'softdep=pre: x\ninstall dummy id > %s\0' "$pwned" >> "$TMP/modinfo"
objcopy --update-section .modinfo="$TMP/modinfo" "$TMP/mii.ko"
mkdir -p "$TMP/empty"

# kmod 30, for contrast: its depmod copies the value verbatim, and its modprobe takes the
# install command from modules.softdep.
mkroot "$TMP/kmod"
/usr/sbin/depmod -b "$TMP/kmod" "$ver"
kmod_softdep=$TMP/kmod/lib/modules/$ver/modules.softdep
kmod_run=$(KMOD_LOG=0 /usr/sbin/modprobe -n -v -d "$TMP/kmod" -S "$ver" -C "$TMP/empty" dummy 2>&1 || true)
echo "kmod 30 modules.softdep:"; cat "$kmod_softdep"
echo "kmod 30 modprobe -n -v dummy: $kmod_run"
if /usr/sbin/depmod -V | grep -qx 'kmod version 30'; then
  grep -qx "install dummy id > $pwned" "$kmod_softdep" || fail "kmod 30 no longer writes the install line: update this test"
  [ "$kmod_run" = "install id > $pwned " ] || fail "kmod 30 no longer takes the install command: update this test"
fi

# kmx depmod: the value is dropped, with a warning naming the module and the key; exit 0.
mkroot "$TMP/kmx"
kd=$TMP/kmx/lib/modules/$ver
rc=0
"$KMX" depmod -b "$TMP/kmx" "$ver" 2> "$TMP/depmod.err" || rc=$?
cat "$TMP/depmod.err"
[ "$rc" -eq 0 ] || fail "kmx depmod exited $rc, kmod exits 0"
grep -q "WARNING: $kd/kernel/drivers/net/mii.ko: modinfo softdep value has a control character 0x0a" "$TMP/depmod.err" ||
  fail "no warning naming the module and the key"
! grep -q install "$kd/modules.softdep" || fail "kmx depmod wrote the install line into modules.softdep"
! grep -q 'pre: x' "$kd/modules.softdep" || fail "kmx depmod kept part of the poisoned value"
# The rest of the module is indexed as kmod indexes it: every other file is kmod's.
for f in modules.dep modules.dep.bin modules.alias modules.alias.bin modules.symbols modules.symbols.bin; do
  same "$f" "$TMP/kmod/lib/modules/$ver/$f" "$kd/$f"
done

# kmx modprobe on the tree kmod indexed (the poisoned modules.softdep): the install line is
# skipped with a warning, and dummy resolves to its module.
cp "$kmod_softdep" "$kd/modules.softdep"
out=$(KMX_CONFIG=/dev/null "$KMX" modprobe -n -v -d "$TMP/kmx" -S "$ver" -C "$TMP/empty" dummy 2> "$TMP/modprobe.err") ||
  fail "kmx modprobe -n -v dummy failed: $(cat "$TMP/modprobe.err")"
echo "kmx modprobe -n -v dummy: $out"
cat "$TMP/modprobe.err"
case "$out" in *install*) fail "kmx modprobe took the install command from modules.softdep" ;; esac
[ "$out" = "insmod $kd/kernel/drivers/net/dummy.ko " ] || fail "dummy did not resolve to its module: $out"
grep -q "modules.softdep line 3: ignoring 'install' line: only softdep lines are read from this file" "$TMP/modprobe.err" ||
  fail "no warning about the install line"
[ ! -e "$pwned" ] || fail "the command ran"

# The same for modules.weakdep: only weakdep lines.
printf 'weakdep dummy mii\ninstall dummy id > %s\n' "$pwned" > "$kd/modules.weakdep"
out=$(KMX_CONFIG=/dev/null "$KMX" modprobe -n -v -d "$TMP/kmx" -S "$ver" -C "$TMP/empty" dummy 2> "$TMP/modprobe.err") ||
  fail "kmx modprobe -n -v dummy failed: $(cat "$TMP/modprobe.err")"
case "$out" in *install*) fail "kmx modprobe took the install command from modules.weakdep" ;; esac
grep -q "modules.weakdep line 2: ignoring 'install' line: only weakdep lines are read from this file" "$TMP/modprobe.err" ||
  fail "no warning about the install line in modules.weakdep"
# modprobe.d itself keeps every directive.
printf 'install dummy /bin/true\n' > "$TMP/conf.conf"
out=$(KMX_CONFIG=/dev/null "$KMX" modprobe -n -v -d "$TMP/kmx" -S "$ver" -C "$TMP/conf.conf" dummy 2> /dev/null)
[ "$out" = "install /bin/true " ] || fail "an install line of modprobe.d was not taken: $out"

# A module file whose name holds a newline is not indexed (its name would start a line of
# modules.alias or modules.softdep).
cp "$src/kernel/drivers/net/dummy.ko" "$kd/kernel/drivers/net/evil"$'\n'"blacklist mii.ko"
rc=0
"$KMX" depmod -b "$TMP/kmx" "$ver" 2> "$TMP/depmod.err" || rc=$?
[ "$rc" -eq 0 ] || fail "kmx depmod exited $rc on a file name with a newline"
cat "$TMP/depmod.err"
grep -q "ignoring module .*evil\\\\x0ablacklist mii.ko: its path has a control character 0x0a" "$TMP/depmod.err" || fail "no warning about the file name"
! grep -q blacklist "$kd"/modules.dep || fail "the file name reached modules.dep"
echo "ok: kmx drops the poisoned value, skips the install line and the file name; kmod 30 writes and runs them"
