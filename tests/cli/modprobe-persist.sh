# Persistence in kmx modprobe where no kernel is needed (the host kernel has no module support,
# so every real load fails with ENOSYS, the same way for kmod and kmx): with -v the "insmod"
# line shows the options kmx passes, so stored parameters are visible without loading.
# Proves: stored values are applied unless the load names them (argv, modprobe.d win); -n -v
# shows them from the store opened read-only (a deliberate kmx difference), -D and -R stay
# identical to kmod; `persist set` checks names against the module's parameters; a load never creates a
# missing store; a corrupt store or a bad kmx.conf changes neither output nor exit code
# (one "kmx: persist:" line on stderr only with -v); `persist off` disables it.
source "$(dirname "$0")/common.sh"
need_kmod modprobe depmod

root=$TMP/root
module_root "$root" amd64-6.1 dummy
mkdir -p "$TMP/empty" "$TMP/conf" "$TMP/kmod-bin" "$TMP/kmx-bin"
echo "options dummy numdummies=5" >"$TMP/conf/d.conf"
ln -s /usr/sbin/modprobe "$TMP/kmod-bin/modprobe"
KMX=$(realpath "$KMX")
ln -s "$KMX" "$TMP/kmx-bin/modprobe"
"$TMP/kmx-bin/modprobe" -V | grep -q kmx || fail "$TMP/kmx-bin/modprobe is not kmx"

export KMX_PERSIST_DB=$TMP/var/persist.db KMX_CONFIG=$TMP/kmx.conf KMX_BASELINE_DIR=$TMP/run/baseline
db=$KMX_PERSIST_DB
path=$(find "$dir/kernel" -name "dummy.ko*")

# mp TOOL ARGS...: run modprobe of TOOL (kmod|kmx) on the test root; output in $TMP/TOOL.{out,err,rc}
mp() {
  local t=$1 rc=0
  shift
  (cd "$TMP" && PATH="$TMP/$t-bin:$PATH" modprobe -d "$root" -S "$ver" "$@") >"$TMP/$t.out" 2>"$TMP/$t.err" || rc=$?
  echo "$rc" >"$TMP/$t.rc"
}
# identical ARGS...: kmx and kmod print the same and exit alike.
identical() {
  mp kmod "$@"
  mp kmx "$@"
  same "modprobe $* (stdout)" "$TMP/kmod.out" "$TMP/kmx.out"
  same "modprobe $* (stderr)" "$TMP/kmod.err" "$TMP/kmx.err"
  same "modprobe $* (exit code)" "$TMP/kmod.rc" "$TMP/kmx.rc"
}
# insmod_line ARGS...: the options of kmx's -v "insmod" line.
insmod_line() {
  mp kmx -v "$@"
  sed -n "s|^insmod $path ||p" "$TMP/kmx.out"
}

# No store: identical to kmod in every mode, and nothing is created.
for args in "-C empty dummy" "-C empty -v dummy" "-C empty -n -v dummy" "-C empty -D dummy" "-C empty -r dummy" \
  "-C empty -v dummy numdummies=2"; do
  identical $args
done
[ ! -e "$db" ] && [ ! -e "$(dirname "$db")" ] || fail "a load created the store"
mkdir -m 700 "$(dirname "$db")"  # an administrator-chosen store directory is not created by kmx
[ ! -e "$KMX_BASELINE_DIR" ] || fail "a failed load wrote a baseline"

# A stored value is applied; the load's own options win.
"$KMX" persist -d "$root" -S "$ver" set dummy numdummies=3
# Names are checked against the parameters the module declares in the tree.
rc=0; "$KMX" persist -d "$root" -S "$ver" set dummy numdumies=3 2>"$TMP/err" || rc=$?
[ "$rc" = 2 ] && grep -q "no parameter 'numdumies'; it declares: numdummies" "$TMP/err" ||
  fail "unknown parameter accepted: exit $rc $(cat "$TMP/err")"
"$KMX" persist -d "$root" -S "$ver" set not_built_yet x=1 2>"$TMP/err" || fail "a module in no tree was refused"
grep -q "WARNING: not_built_yet is in no installed tree" "$TMP/err" || fail "no warning: $(cat "$TMP/err")"
"$KMX" persist rm not_built_yet >/dev/null
[ "$(insmod_line -C empty dummy)" = "numdummies=3" ] || fail "stored numdummies=3 not applied: $(cat "$TMP/kmx.out")"
[ "$(insmod_line -C empty dummy numdummies=1)" = "numdummies=1" ] || fail "argv did not win: $(cat "$TMP/kmx.out")"
[ "$(insmod_line -C conf dummy)" = "numdummies=5 " ] || fail "modprobe.d did not win: $(cat "$TMP/kmx.out")"
# Without -v, the only visible effect is none: same output and exit code as kmod.
identical -C empty dummy
# -n -v shows what the load would get; the store is only read (its entries stay as they were,
# and nothing is recorded as loaded on demand).
"$KMX" persist list >"$TMP/before"
[ "$(insmod_line -C empty -n dummy)" = "numdummies=3" ] || fail "-n -v does not show the stored value: $(cat "$TMP/kmx.out")"
"$KMX" persist list >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "a dry run changed the store: $(diff "$TMP/before" "$TMP/after")"
# -D (initramfs-tools parses it) and queries: byte for byte kmod's.
identical -C empty -D dummy
identical -C empty -R dummy
# persist off: no stored values.
echo "persist off" >"$KMX_CONFIG"
[ "$(insmod_line -C empty dummy)" = "" ] || fail "persist off still applied: $(cat "$TMP/kmx.out")"
identical -C empty -v dummy

# With WHAT wrong: `modprobe dummy` identical to kmod's; with -v the same stdout and exit code
# (stderr in $TMP/kmx.err and $TMP/kmod.err, for the caller).
identical_but_verbose_stderr() {
  identical -C empty dummy
  mp kmod -C empty -v dummy
  mp kmx -C empty -v dummy
  same "stdout with $1" "$TMP/kmod.out" "$TMP/kmx.out"
  same "exit code with $1" "$TMP/kmod.rc" "$TMP/kmx.rc"
}

# A bad kmx.conf: identical without -v; with -v one extra line naming FILE:LINE.
printf 'idle 5\npersist maybe\n' >"$KMX_CONFIG"
identical_but_verbose_stderr "a bad kmx.conf"
grep -qxF "kmx: persist: $KMX_CONFIG:2: 'persist' takes on or off, not 'maybe'" "$TMP/kmx.err" ||
  fail "no FILE:LINE message: $(cat "$TMP/kmx.err")"
[ "$(grep -v '^kmx: persist:' "$TMP/kmx.err")" = "$(cat "$TMP/kmod.err")" ] || fail "bad kmx.conf changed kmod's messages"
rm -f "$KMX_CONFIG"

# A corrupt store: identical without -v; with -v one "kmx: persist: FILE: ..." line.
rm -f "$db" "$db"-wal "$db"-shm
echo "this is not a database, not even close; padding padding padding padding padding" >"$db"
identical_but_verbose_stderr "a corrupt store"
[ "$(grep -c "^kmx: persist: $db: " "$TMP/kmx.err")" = 1 ] || fail "expected one persist line: $(cat "$TMP/kmx.err")"

# A store that cannot be opened (directory in the way): same.
rm -f "$db"
mkdir -p "$db"
identical -C empty dummy
identical -C empty -r dummy
rmdir "$db"

# --autoclean NAME... parses like -a (every argument a module); a dry run records nothing.
mp kmod -C empty -a -n -v dummy nosuchmod
mp kmx -C empty --autoclean -n -v dummy nosuchmod
same "--autoclean -n vs -a -n (stdout)" "$TMP/kmod.out" "$TMP/kmx.out"
same "--autoclean -n vs -a -n (stderr)" "$TMP/kmod.err" "$TMP/kmx.err"
same "--autoclean -n vs -a -n (exit code)" "$TMP/kmod.rc" "$TMP/kmx.rc"
[ ! -e "$db" ] || fail "a dry run created the store"

# kmx persist ondemand: empty without a store, and the option parser is still kmod's for -h.
[ -z "$("$KMX" persist ondemand)" ] || fail "ondemand listing not empty"
# -h: kmod's text byte for byte, then kmx's additions after it.
mp kmod -h
mp kmx -h
same "-h (exit code)" "$TMP/kmod.rc" "$TMP/kmx.rc"
head -c "$(wc -c < "$TMP/kmod.out")" "$TMP/kmx.out" > "$TMP/kmx-head.out"
same "-h (kmod's text)" "$TMP/kmod.out" "$TMP/kmx-head.out"
tail -c +"$(( $(wc -c < "$TMP/kmod.out") + 1 ))" "$TMP/kmx.out" > "$TMP/kmx-tail.out"
grep -q "^kmx additions:" "$TMP/kmx-tail.out" || fail "no kmx additions after kmod's help: $(cat "$TMP/kmx-tail.out")"
grep -q -- "--autoclean" "$TMP/kmx-tail.out" && grep -q "forbid MODULE" "$TMP/kmx-tail.out" ||
  fail "--autoclean or forbid missing from modprobe -h"
echo "ok"
