# Differential: `kmx modprobe -c` against kmod 30's `modprobe -c`, stdout, stderr and exit
# code, on (1) a config tree with every kmod 30 directive, precedence dirs, overrides, bad
# lines and continuation lines, over the indexes kmod's depmod builds for a real Debian tree
# (so the alias/symbol dumps are compared too); (2) relative -C/-d paths and a bad line in
# the module dir's modules.softdep; (3) $MODPROBE_OPTIONS splitting; (4) $KMOD_LOG; (5) the
# peer suite's kernel command line fixtures; (6) usage errors. kmod always reads
# /proc/cmdline, so when user namespaces allow it both tools run with a fixture file
# bind-mounted there; otherwise both read the host's. The weakdep fixture, which kmod 30
# cannot parse, is compared with the golden output kmod 34.2 wrote (peer suite).
source "$(dirname "$0")/common.sh"
need_kmod modprobe depmod

PEER=/work/shared/peer/kmod-testsuite/fixtures/rootfs
# Both run as plain `modprobe` from PATH, so argv[0] (in getopt's messages) is the same.
mkdir -p "$TMP/kmod-bin" "$TMP/kmx-bin"
ln -s /usr/sbin/modprobe "$TMP/kmod-bin/modprobe"
ln -s "$KMX" "$TMP/kmx-bin/modprobe"
KMXMP=$TMP/kmx-bin/modprobe

fake_ok=0
printf 'kmx.probe=1\n' > "$TMP/probe-cmdline"
if unshare -rm sh -c 'mount --bind "$0" /proc/cmdline && grep -q kmx.probe /proc/cmdline' "$TMP/probe-cmdline" 2>/dev/null; then
  fake_ok=1
fi

# with_cmdline FILE CMD...: run CMD with FILE as /proc/cmdline when possible.
with_cmdline() {
  local cl=$1
  shift
  if [ "$fake_ok" = 1 ]; then
    unshare -rm sh -c 'mount --bind "$0" /proc/cmdline && exec "$@"' "$cl" "$@"
  else
    "$@"
  fi
}

count=0
# compare NAME CMDLINE_FILE ARGS...: both tools, same args, same results.
compare() {
  local name=$1 cl=$2
  shift 2
  local rc_a=0 rc_b=0
  PATH=$TMP/kmod-bin:$PATH with_cmdline "$cl" modprobe "$@" > "$TMP/a.out" 2> "$TMP/a.err" || rc_a=$?
  PATH=$TMP/kmx-bin:$PATH with_cmdline "$cl" modprobe "$@" > "$TMP/b.out" 2> "$TMP/b.err" || rc_b=$?
  same "$name stdout" "$TMP/a.out" "$TMP/b.out"
  same "$name stderr" "$TMP/a.err" "$TMP/b.err"
  [ "$rc_a" = "$rc_b" ] || fail "$name: exit $rc_b, kmod $rc_a"
  count=$((count + 1))
}

# (1) A real tree's indexes plus a rich config tree.
root=$TMP/root
module_root "$root" amd64-6.1
# The tree's modules.softdep is a hard link into the cache: replace, never append.
{ cat "$dir/modules.softdep"; printf 'softdep extra-dep pre: a-b post: c\n'; } > "$TMP/softdep"
rm -f "$dir/modules.softdep"
cp "$TMP/softdep" "$dir/modules.softdep"

e=$root/etc/modprobe.d; r=$root/run/modprobe.d; u=$root/usr/local/lib/modprobe.d; l=$root/lib/modprobe.d
mkdir -p "$e" "$r" "$u" "$l" "$e/dir.conf"
printf '%s\n' \
  '# comment' \
  'alias my-alias snd-hda-intel' \
  'alias pci:v0000BEEFd*sv*sd*bc*sc*i* e1000e' \
  'alias usb:v1234p[0-9A-F-]* my-usb-drv' \
  'options snd-hda-intel	model=auto  index=0 ' \
  'options e1000e \' \
  '   InterruptThrottleRate=3000 \' \
  '   debug=1' \
  'install dummy /sbin/modprobe --ignore-install dummy && echo "\\done\\"' \
  'remove dummy /bin/true' \
  'softdep snd-hda-intel pre: snd-hda-codec post: snd-hda-codec-hdmi' \
  'softdep mix post: a pre: b post: c' \
  'softdep spaced  pre: x' \
  'blacklist pcspkr' \
  'blacklist' \
  'options lonely' \
  'include /etc/other' \
  '  # not a comment' \
  'frobnicate foo' \
  'alias bad]name x' > "$e/50-main.conf"
printf 'blacklist from-etc\n' > "$e/10-override.conf"
printf 'alias old-style old-mod\n' > "$e/legacy.alias"
printf 'blacklist hidden\n' > "$e/.hidden.conf"
printf 'blacklist not-conf\n' > "$e/README"
printf 'blacklist overridden-by-etc\n' > "$r/10-override.conf"
printf 'options e1000e from_run=1\n' > "$r/60-run.conf"
printf 'install ul-mod /bin/true\n' > "$u/70-ul.conf"
printf 'options e1000e from_lib=1\nalias z-last lib-mod\n' > "$l/zz-lib.conf"
printf 'options aa first=1' > "$l/aa.conf"
printf 'quiet e1000e.SmartPowerDownEnable=1 modprobe.blacklist=nouveau,radeon "snd.x=a b" bad]x.y=1\n' > "$TMP/cmdline-rich"
compare "rich tree" "$TMP/cmdline-rich" -d "$root" -S "$ver" -C "$e" -C "$r" -C "$u" -C "$l" -c
compare "rich tree, long options" "$TMP/cmdline-rich" --dirname="$root" --set-version="$ver" --config="$e" --config="$l" --showconfig
compare "single file -C" "$TMP/cmdline-rich" -d "$root" -S "$ver" -C "$e/50-main.conf" --show-config

# (2) Relative paths: the module dir is made absolute, -C paths are shown as given.
printf 'softdep broken\n' >> "$dir/modules.softdep"
(cd "$TMP" && compare "relative paths" "$TMP/cmdline-rich" -d root -S "$ver" -C root/etc/modprobe.d/ -c)
count=$((count + 1))

# (3) $MODPROBE_OPTIONS is split and prepended to argv as kmod does.
mkdir -p "$TMP/dir with space"
printf 'blacklist spaced-dir\n' > "$TMP/dir with space/a.conf"
for env in "-C \"$TMP/dir with space\"" "-C '$TMP/dir with space' -C $e" "-C$e -S $ver -d$root" "-q -C $e" "\"-C\" $e"; do
  MODPROBE_OPTIONS=$env compare "MODPROBE_OPTIONS=$env" "$TMP/cmdline-rich" -c
done

# (4) KMOD_LOG below LOG_ERR silences libkmod's config errors. (info/debug levels make kmod
# print pointers, which cannot be compared.)
for lvl in 0 2 3 err 3x x; do
  KMOD_LOG=$lvl compare "KMOD_LOG=$lvl" "$TMP/cmdline-rich" -C "$e" -c
done

# (5) The peer suite's kernel command line fixtures (kmod's own testsuite).
if [ "$fake_ok" = 1 ] && [ -d "$PEER" ]; then
  empty=$TMP/empty-conf
  mkdir -p "$empty"
  for fx in "$PEER"/test-modprobe/module-param-kcmdline*; do
    [ -f "$fx/proc/cmdline" ] || continue
    compare "peer $(basename "$fx")" "$fx/proc/cmdline" -C "$empty" -d "$fx" -S 4.4.4 -c
    if [ -f "$fx/correct.txt" ] && [ "$(basename "$fx")" != module-param-kcmdline ]; then
      with_cmdline "$fx/proc/cmdline" "$KMXMP" -C "$empty" -d "$fx" -S 4.4.4 -c > "$TMP/b.out" 2> "$TMP/b.err"
      same "peer $(basename "$fx") golden" "$fx/correct.txt" "$TMP/b.out"
    fi
  done
  # weakdep is kmod 34's; its golden file was written by kmod 34.2.
  printf '\n' > "$TMP/cmdline-empty"
  fx=$PEER/test-weakdep
  with_cmdline "$TMP/cmdline-empty" "$KMXMP" -C "$fx/etc/modprobe.d" -d "$fx" -S 4.4.4 -c > "$TMP/b.out"
  same "peer test-weakdep golden (kmod 34.2)" "$fx/modprobe-c.txt" "$TMP/b.out"
  count=$((count + 1))
else
  echo "note: peer kcmdline fixtures not run (no user namespaces or no peer suite)"
fi

# (6) Usage errors.
compare "no arguments" "$TMP/cmdline-rich"
compare "bad option" "$TMP/cmdline-rich" --no-such-option
compare "bad wait" "$TMP/cmdline-rich" -w 12x -c

echo "modprobe -c: $count comparisons identical to kmod (fake /proc/cmdline: $fake_ok)"
