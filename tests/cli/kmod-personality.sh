# kmx called as `kmod`, against kmod 30 itself: `kmod`, `kmod help`, `-h`, a bad command, and
# `kmod static-nodes` in every format, to stdout and with --output (the file systemd's
# kmod-static-nodes.service writes at boot), on the modules.devname kmod's depmod makes for
# Debian's 6.12 tree, on damaged lines, an empty and a missing file. static-nodes reads
# /lib/modules/$(uname -r): both binaries run in a scratch chroot holding kmod 30 (with its
# libraries) and kmx, so the host's /lib/modules is never touched. Plus `kmod list` and
# `kmod TOOL` (a kmx addition) outside the chroot.
source "$(dirname "$0")/common.sh"
need_kmod depmod
ref=$(command -v kmod || true)
[ -n "$ref" ] || skip "kmod is not installed (apt-get install kmod)"
[ "$(id -u)" = 0 ] || skip "the chroot needs root"
rel=$(uname -r)

# The chroot: kmod 30 and its libraries, kmx as /kmx/kmod, /lib/modules/REL, /out.
root=$TMP/root
mkdir -p "$root/usr/bin" "$root/kmx" "$root/lib/modules/$rel" "$root/out"
cp "$ref" "$root/usr/bin/kmod"
for lib in $(ldd "$ref" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp "$KMX" "$root/kmx/kmod"
# kmod 30 writes to /dev/stdout by opening it (a link into /proc): the chroot gets the host's
# /dev and /proc, bound in a private mount namespace of each run (the host's mounts are not
# changed).
mkdir -p "$root/dev" "$root/proc"
in_root() {
  unshare -m --propagation private sh -c 'mount --bind /dev "$0/dev" && mount --bind /proc "$0/proc" && exec chroot "$0" "$@"' \
    "$root" "$@"
}
in_root /usr/bin/kmod --version >/dev/null 2>&1 || skip "kmod does not run in a chroot with /dev bound here"

# Inputs: depmod's modules.devname of the 6.12 tree, and a hand-damaged one.
module_root "$TMP/tree" amd64-6.12
cp "$dir/modules.devname" "$TMP/devname-6.12"
grep -q '^cuse cuse c10:203$' "$TMP/devname-6.12" || fail "depmod's modules.devname has no cuse line"
printf '# comment\nfuse fuse c10:229\n\nbad line\nzram zram b252 :0\nsnd snd/seq c116:1 trailing words\nkvm  kvm   c 10:232\nxx yy z1:2\nmd md b9:0' >"$TMP/devname-damaged"
: >"$TMP/devname-empty"

n=0
compare() { # compare ARGS...: both binaries, same stdout, stderr, exit code and /out files
  local t
  for t in ref kmx; do
    rm -rf "$root/out" && mkdir "$root/out"
    local bin=/usr/bin/kmod rc=0
    [ "$t" = kmx ] && bin=/kmx/kmod
    in_root "$bin" "$@" >"$TMP/$t.out" 2>"$TMP/$t.err" || rc=$?
    echo "$rc" >"$TMP/$t.rc"
    (cd "$root/out" && find . -type f -exec sh -c 'echo "== $1"; cat "$1"' _ {} \; | sort) >"$TMP/$t.files"
  done
  for f in out err rc files; do
    cmp -s "$TMP/ref.$f" "$TMP/kmx.$f" || fail "kmod $* ($input): $f differs: $(diff "$TMP/ref.$f" "$TMP/kmx.$f" | head -n 10)"
  done
  n=$((n + 1))
}

for input in devname-6.12 devname-damaged devname-empty missing; do
  rm -f "$root/lib/modules/$rel/modules.devname"
  [ "$input" = missing ] || cp "$TMP/$input" "$root/lib/modules/$rel/modules.devname"
  compare static-nodes
  for fmt in human tmpfiles devname; do
    compare static-nodes --format="$fmt"
    compare static-nodes -f "$fmt" -o /out/static-nodes.conf
    compare static-nodes --format "$fmt" --output=/out/new/dir/static-nodes.conf
  done
done
# As systemd's kmod-static-nodes.service runs it.
cp "$TMP/devname-6.12" "$root/lib/modules/$rel/modules.devname"
compare static-nodes --format=tmpfiles --output=/out/tmpfiles.d/static-nodes.conf
grep -q '^c! /dev/cuse 0600 - - - 10:203$' "$TMP/kmx.files" || fail "no cuse node in the tmpfiles output"
grep -q '^d /dev/snd 0755 - - -$' "$TMP/kmx.files" || fail "no /dev/snd directory line"
# Errors: an unknown format, an output that cannot be created, bad options.
compare static-nodes -f xml
compare static-nodes -o /out
touch "$root/out/file"
compare static-nodes -o /out/file/x
compare static-nodes --no-such-option
compare
compare help
compare -h
compare --help
compare no-such-command

# Outside the chroot: `kmod list` is lsmod; `kmod TOOL ARGS` runs the compat tool (kmx only).
# (`kmod list ARGS` takes kmod 34's lsmod options, where kmod 30 only prints "Usage: list".)
mkdir -p "$TMP/bin"
ln -s "$KMX" "$TMP/bin/kmod"
for args in list; do
  rc1=0 rc2=0
  "$ref" $args >"$TMP/a.out" 2>"$TMP/a.err" || rc1=$?
  "$TMP/bin/kmod" $args >"$TMP/b.out" 2>"$TMP/b.err" || rc2=$?
  cmp -s "$TMP/a.out" "$TMP/b.out" && cmp -s "$TMP/a.err" "$TMP/b.err" && [ "$rc1" = "$rc2" ] ||
    fail "kmod $args differs: $rc1/$rc2 $(diff "$TMP/a.out" "$TMP/b.out" | head -n5) $(diff "$TMP/a.err" "$TMP/b.err" | head -n5)"
  n=$((n + 1))
done
"$TMP/bin/kmod" modinfo -F license "$src/kernel/drivers/net/dummy.ko.xz" | grep -qx GPL || fail "kmod modinfo"
"$KMX" kmod static-nodes -h | grep -q "Formats:" || fail "kmx kmod static-nodes"
echo "ok: $n kmod invocations identical to kmod 30"
