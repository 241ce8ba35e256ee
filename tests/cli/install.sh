# cmake --install into a DESTDIR with --prefix /usr: kmx in sbin (as kmx only: nothing named
# modprobe, kmod, depmod, ... is installed, and nothing under /etc), the data file where
# `kmx check` finds it from the installed binary, the systemd unit, and the files that would
# change how the system loads modules (the kernel.modprobe sysctl, kmx.conf) only as examples
# under the documentation; the man pages under share/man. The example kmx.conf parses.
source "$(dirname "$0")/common.sh"
command -v cmake >/dev/null || skip "cmake not installed"
build=${KMX_BUILD:-$(dirname "$KMX")}
[ -f "$build/CMakeCache.txt" ] || skip "no CMake build directory beside $KMX"
dest=$TMP/dest
DESTDIR=$dest cmake --install "$build" --prefix /usr >"$TMP/log" 2>&1 || fail "cmake --install: $(tail -n5 "$TMP/log")"
for f in usr/sbin/kmx usr/share/kmx/api-changes.tsv usr/lib/systemd/system/kmx-daemon.service \
  usr/share/doc/kmx/examples/kmx.conf usr/share/doc/kmx/examples/50-kmx-modprobe.conf usr/share/doc/kmx/README.md; do
  [ -f "$dest/$f" ] || fail "$f not installed: $(cd "$dest" && find . -type f | sort | head -n 20)"
done
"$dest/usr/sbin/kmx" --version | grep -q "^kmx version" || fail "installed kmx does not run"
[ -x "$dest/usr/sbin/kmx" ] || fail "kmx not executable"
bad=$(cd "$dest" && find . \( -name modprobe -o -name kmod -o -name depmod -o -name insmod -o -name rmmod -o -name lsmod \
  -o -name modinfo \) -print)
[ -z "$bad" ] || fail "installing must not replace the system's kmod tools: $bad"
[ ! -e "$dest/etc" ] || fail "installed under /etc: $(cd "$dest" && find etc)"
# The man pages, where man looks for them (built when scdoc is installed).
if grep -q '^SCDOC:FILEPATH=/' "$build/CMakeCache.txt"; then
  for page in man8/kmx.8 man1/kmx-check.1 man1/kmx-abi-diff.1 man1/kmx-scan.1 man8/kmx-daemon.8 man8/kmx-autoclean.8 \
    man8/kmx-persist.8 man5/kmx.conf.5; do
    [ -s "$dest/usr/share/man/$page" ] || fail "man page $page not installed"
  done
  MANPATH=$dest/usr/share/man man -P cat kmx-check 2>/dev/null | grep -q "predict whether modules load" ||
    fail "man kmx-check does not show the installed page"
fi
# bash completion, where bash-completion loads it on demand: tool names, then each tool's
# options from its own --help, commands of autoclean and persist.
comp=$dest/usr/share/bash-completion/completions/kmx
[ -f "$comp" ] || fail "bash completion not installed"
complete() { # complete WORDS...: what completing the last word offers
  bash -c 'source "$1"; shift; PATH=$(dirname "$KMX"):$PATH; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kmx; echo "${COMPREPLY[*]}"' \
    _ "$comp" "$@"
}
[ "$(complete kmx ch)" = check ] || fail "kmx ch<TAB>: $(complete kmx ch)"
[ "$(complete kmx check --ker)" = "--kernel --kernels" ] || fail "kmx check --ker<TAB>: $(complete kmx check --ker)"
[ "$(complete kmx autoclean re)" = "release release-when-idle" ] || fail "kmx autoclean re<TAB>: $(complete kmx autoclean re)"
# The unit starts the installed binary.
grep -q '^ExecStart=/usr/sbin/kmx daemon$' "$dest/usr/lib/systemd/system/kmx-daemon.service" || fail "unit ExecStart"
# kmx check looks for ../share/kmx/api-changes.tsv beside its binary.
[ -f "$dest/usr/sbin/../share/kmx/api-changes.tsv" ] || fail "api-changes.tsv not where kmx check looks"
# The example kmx.conf: accepted by the parser (a bad line would be an error, exit 2).
mkdir -m 700 "$TMP/store"
KMX_CONFIG=$dest/usr/share/doc/kmx/examples/kmx.conf "$KMX" persist --db "$TMP/store/p.db" list ||
  fail "the example kmx.conf does not parse"
printf 'idle never\n' >"$TMP/bad.conf"
rc=0; KMX_CONFIG=$TMP/bad.conf "$KMX" persist --db "$TMP/store/p.db" list 2>"$TMP/err" || rc=$?
[ "$rc" = 2 ] && grep -q "bad.conf:1:" "$TMP/err" || fail "a bad kmx.conf: exit $rc $(cat "$TMP/err")"
echo "ok: install"
