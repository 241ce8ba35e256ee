# Differential: kmx modprobe against kmod 30's modprobe (stdout, stderr, exit code) on a small
# root built from real 6.1 modules (bridge, stp, llc, vfat, fat, nls_utf8, dummy, tun) indexed
# by kmod's depmod, with a config that uses every directive kmod resolves: config aliases
# (plain and glob), options on names and aliases, blacklist, softdep pre/post, install and
# remove commands. Modes: -D, -R, -n -v (with -b, -i, --first-time, argv options, -a), -r -n,
# -q, missing modules, invalid aliases, $MODPROBE_OPTIONS. Nothing here touches the kernel:
# every mode is a dry run or a query (the host kernel has no module support anyway).
# Then a corrupt index: kmx must say so (kmod stays silent) and otherwise behave as kmod.
source "$(dirname "$0")/common.sh"
need_kmod modprobe depmod

root=$TMP/root
module_root "$root" amd64-6.1 bridge stp llc vfat fat nls_utf8 dummy tun

mkdir -p "$TMP/conf" "$TMP/empty" "$TMP/kmod-bin" "$TMP/kmx-bin"
cat > "$TMP/conf/a.conf" <<'C'
alias myalias bridge
alias my-glob* dummy
alias twoway dummy
alias twoway tun
options bridge foo=1
options myalias bar=2
options dummy numdummies=0
blacklist tun
alias tunalias tun
softdep vfat pre: nls_utf8 post: dummy
softdep fat pre: nls-utf8
install llc /bin/true $CMDLINE_OPTS
remove stp /bin/true
install myinst echo hi
install no_such_* echo glob
C
ln -s /usr/sbin/modprobe "$TMP/kmod-bin/modprobe"
ln -s "$KMX" "$TMP/kmx-bin/modprobe"

n=0
# compare ARGS...: same stdout, stderr and exit code.
compare() {
  n=$((n + 1))
  local t
  for t in kmod kmx; do
    local rc=0
    (cd "$TMP" && PATH="$TMP/$t-bin:$PATH" modprobe -d "$root" -S "$ver" "$@") \
      > "$TMP/$t.out" 2> "$TMP/$t.err" || rc=$?
    echo "$rc" > "$TMP/$t.rc"
  done
  same "modprobe $* (stdout)" "$TMP/kmod.out" "$TMP/kmx.out"
  same "modprobe $* (stderr)" "$TMP/kmod.err" "$TMP/kmx.err"
  same "modprobe $* (exit code)" "$TMP/kmod.rc" "$TMP/kmx.rc"
}

C=(-C "$TMP/conf")
for a in bridge myalias my-globx twoway vfat fat tunalias tun llc stp myinst no_such_x nothing \
  symbol:fat_attach symbol:nothing nls-utf8 'br[i]dge' 'bad]alias' 'a[b' unix; do
  compare "${C[@]}" --show-depends "$a"
  compare "${C[@]}" -R "$a"
  compare "${C[@]}" -n -v "$a"
done
compare "${C[@]}" -D -i vfat
compare "${C[@]}" -n -v -i llc
compare "${C[@]}" -n -v -b tunalias
compare "${C[@]}" -n -v -b tun
compare "${C[@]}" -n -v --first-time bridge
compare "${C[@]}" -n -v bridge a=1 'b=c d' "c='x y'"
compare "${C[@]}" -n -v llc x=1 'y=2 3'
compare "${C[@]}" -n -v -a bridge vfat nothing tunalias
compare "${C[@]}" -n -a bridge nothing
compare "${C[@]}" -D -a vfat llc
compare "${C[@]}" -R -a twoway nothing myalias
compare "${C[@]}" -q nothing
compare "${C[@]}" -q -n -v bridge
compare "${C[@]}" -r -n -v bridge
compare "${C[@]}" -r -n -v stp
compare "${C[@]}" -r -n --first-time bridge
compare "${C[@]}" -r -n -a bridge nothing vfat
compare "${C[@]}" -r nothing
compare "${C[@]}" -r -n unix
compare "${C[@]}" -n -v
compare -C "$TMP/empty" -D vfat
MODPROBE_OPTIONS="-n -v" compare "${C[@]}" bridge
echo "ok: $n invocations identical to kmod"

# A corrupt modules.alias.bin (bad magic): kmod treats it as absent, silently. kmx reports
# it, and otherwise answers the same (stdout, exit code).
printf 'not an index at all, just garbage bytes\n' > "$dir/modules.alias.bin"
for a in bridge myalias rtnl-link-bridge; do
  for t in kmod kmx; do
    rc=0
    PATH="$TMP/$t-bin:$PATH" modprobe -d "$root" -S "$ver" "${C[@]}" -D "$a" > "$TMP/$t.out" 2> "$TMP/$t.err" || rc=$?
    echo "$rc" > "$TMP/$t.rc"
  done
  same "corrupt index, -D $a (stdout)" "$TMP/kmod.out" "$TMP/kmx.out"
  same "corrupt index, -D $a (exit code)" "$TMP/kmod.rc" "$TMP/kmx.rc"
done
grep -q "modules.alias.bin: unusable index" "$TMP/kmx.err" || { cat "$TMP/kmx.err" >&2; fail "corrupt index not reported"; }
# A truncated one (valid header, nodes cut off): bounds-checked, reported, no crash.
/usr/sbin/depmod -b "$root" "$ver"
size=$(stat -c %s "$dir/modules.alias.bin")
truncate -s $((size / 3)) "$dir/modules.alias.bin"
rc=0
PATH="$TMP/kmx-bin:$PATH" modprobe -d "$root" -S "$ver" "${C[@]}" -D rtnl-link-bridge > "$TMP/kmx.out" 2> "$TMP/kmx.err" || rc=$?
[ "$rc" -lt 128 ] || fail "kmx modprobe killed by a signal on a truncated index"
grep -q "modules.alias.bin" "$TMP/kmx.err" || { cat "$TMP/kmx.err" >&2; fail "truncated index not reported"; }
echo "ok: corrupt and truncated indexes reported"

# Install commands run through /bin/sh as kmod runs them, but the module name reaches the
# shell only as $MODPROBE_MODULE, never inside the command text: a module file whose name
# is shell syntax is not executed. (Real run, not a dry run: only the install command runs.)
# $CMDLINE_OPTS, like kmod, is substituted as shell text: options are the caller's own words.
mkdir -p "$TMP/q" "$TMP/evil"
printf 'install evil* echo "$MODPROBE_MODULE|$CMDLINE_OPTS" > %s/q/out\n' "$TMP" > "$TMP/evil/e.conf"
name='evil;touch pwned;$(touch pwned2)'
cp "$dir/kernel/net/802/stp.ko" "$TMP/q/$name.ko"
rc=0
(cd "$TMP/q" && PATH="$TMP/kmx-bin:$PATH" modprobe -C "$TMP/evil" -d "$root" -S "$ver" "./$name.ko" a=1) || rc=$?
[ "$rc" = 0 ] || fail "install command run failed ($rc)"
[ -e "$TMP/q/out" ] || fail "install command did not run"
[ ! -e "$TMP/q/pwned" ] && [ ! -e "$TMP/q/pwned2" ] || fail "a module name reached the shell unquoted"
grep -qxF 'evil;touch pwned;$(touch pwned2)|a=1' "$TMP/q/out" || { cat "$TMP/q/out" >&2; fail "MODPROBE_MODULE not passed"; }
echo "ok: module names reach install commands only through \$MODPROBE_MODULE"
