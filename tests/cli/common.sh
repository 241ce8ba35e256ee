# Shared setup for tests/cli/<feature>.sh (sourced). ctest sets KMX (the binary), KMX_SRC and
# KMX_BUILD. A test that cannot run says why with `skip` (exit 77, reported as skipped).
set -euo pipefail

: "${KMX:=${KMX_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}/kmx}"
: "${KMX_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export KMX KMX_SRC

skip() {
  echo "skipped: $*"
  exit 77
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The command must fail (exit non-zero, not by a signal).
not() {
  local rc=0
  "$@" || rc=$?
  [ "$rc" -ne 0 ] || fail "expected failure: $*"
  [ "$rc" -lt 128 ] || fail "killed by signal $((rc - 128)): $*"
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kmx-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# The unpacked root of a real Debian package (tests/data/fetch-trees.sh), or skip.
tree_root() {
  local dir
  dir=$("$KMX_SRC/tests/data/fetch-trees.sh" path "$1")
  [ -e "$dir/.done" ] || skip "tree $1 not fetched (run tests/data/fetch-trees.sh $1)"
  echo "$dir"
}

# The kernel release directory inside an unpacked image package.
tree_moddir() {
  local root
  root=$(tree_root "$1") || exit $?
  local d
  d=$(ls -d "$root"/lib/modules/*/ 2>/dev/null | head -n1)
  [ -n "$d" ] || fail "no lib/modules in $root"
  echo "${d%/}"
}

# The Module.symvers of an unpacked linux-headers package (headers-6.1, ...), or skip.
tree_symvers() {
  local root
  root=$(tree_root "$1") || exit $?
  ls "$root"/usr/src/linux-headers-*/Module.symvers
}

# The two Debian kernels kmx check is tested against, 6.1 and 6.12: the roots of their image
# packages ($r1, $r2), their module trees ($m1, $m2; releases $rel1, $rel2) and their headers'
# Module.symvers ($s1, $s2); skips when one is not fetched.
check_kernels() {
  r1=$(tree_root amd64-6.1)
  r2=$(tree_root amd64-6.12)
  m1=$(tree_moddir amd64-6.1)
  m2=$(tree_moddir amd64-6.12)
  rel1=${m1##*/} rel2=${m2##*/}
  s1=$(tree_symvers headers-6.1)
  s2=$(tree_symvers headers-6.12)
}

# Commands the test needs, or skip.
need() {
  for c in "$@"; do
    command -v "$c" >/dev/null || skip "$c not installed"
  done
}

# Debian's kmod, the reference implementation.
need_kmod() {
  for t in "$@"; do
    [ -x "/usr/sbin/$t" ] || [ -x "/sbin/$t" ] || skip "kmod's $t is not installed (apt-get install kmod)"
  done
}

# Compare two files; on a difference show where, then fail.
same() {
  local what=$1 a=$2 b=$3
  if ! cmp -s "$a" "$b"; then
    echo "--- first difference in $what (kmod vs kmx):" >&2
    diff <(cat -A "$a") <(cat -A "$b") | head -n 20 >&2 || true
    fail "$what differs"
  fi
}

# module_root ROOT TREE [MODULE...]: ROOT/lib/modules/$ver, a copy of the real tree TREE
# (amd64-6.1, ...) indexed by kmod's depmod. With no MODULE argument the whole tree, as hard
# links (a test replaces such a file, never writes into it; the indexes are depmod's own, never
# the cached ones); else only the named modules (names without .ko), copied, with the tree's
# module lists. Sets src (the cached tree's module directory), ver (its release) and dir.
module_root() {
  local root=$1 m p
  src=$(tree_moddir "$2") || exit $?
  shift 2
  ver=${src##*/}
  dir=$root/lib/modules/$ver
  if [ $# = 0 ]; then
    mkdir -p "$root/lib/modules"
    cp -al "$src" "$dir"
    rm -f "$dir"/modules.*.bin
  else
    mkdir -p "$dir"
    for m in "$@"; do
      p=$(cd "$src" && find kernel -name "$m.ko*" | head -n1)
      [ -n "$p" ] || fail "$m not in $src"
      mkdir -p "$dir/$(dirname "$p")"
      cp "$src/$p" "$dir/$p"
    done
    cp "$src/modules.builtin" "$src/modules.builtin.modinfo" "$src/modules.order" "$dir/"
  fi
  /usr/sbin/depmod -b "$root" "$ver"
}

# The fake kernel interface of `kmx daemon --root $TMP/fake`: an empty sys/devices, the boot id
# BOOT_ID, /proc/cmdline holding CMDLINE (a line; nothing when empty) and, when given,
# /proc/modules holding the line MODULES.
fake_kernel() {
  mkdir -p "$TMP/fake/sys/devices" "$TMP/fake/proc/sys/kernel/random"
  echo "$1" >"$TMP/fake/proc/sys/kernel/random/boot_id"
  if [ -n "$2" ]; then echo "$2"; fi >"$TMP/fake/proc/cmdline"
  if [ $# -gt 2 ]; then echo "$3" >"$TMP/fake/proc/modules"; fi
}

# `kmx daemon` in the background ($pid) on the fake kernel, the module root $root (release
# $ver), the modprobe.d directory $TMP/conf, the control socket $sock and the uevent socket
# $uev, with the further ARGS; its stderr is appended to $TMP/log. Returns once both sockets
# are there.
daemon_start() {
  "$KMX" daemon --root "$TMP/fake" --socket "$sock" -d "$root" -S "$ver" -C "$TMP/conf" \
    --uevent-socket "$uev" "$@" 2>>"$TMP/log" &
  pid=$!
  for _ in $(seq 100); do [ -S "$sock" ] && [ -S "$uev" ] && return 0; sleep 0.1; done
  cat "$TMP/log" >&2
  fail "daemon did not start"
}

# An "add" uevent per MODALIAS to the daemon's uevent socket $uev.
send_uevents() {
  python3 - "$uev" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(sys.argv[1])
for i, a in enumerate(sys.argv[2:]):
    s.send(("add@/devices/x%d\0ACTION=add\0MODALIAS=%s\0SEQNUM=%d\0" % (i, a, i)).encode())
PY
}

# wait_log PATTERN [WHAT]: waits (5 s at most) for a line of the daemon's $TMP/log matching
# PATTERN, so that what did not happen meanwhile can be asserted; else shows the log and fails
# with WHAT.
wait_log() {
  for _ in $(seq 100); do grep -q "$1" "$TMP/log" && return 0; sleep 0.05; done
  cat "$TMP/log" >&2
  [ $# -lt 2 ] || fail "$2"
  fail "not in the daemon's log: $1"
}

# SIGTERM to the daemon $pid, which must exit 0 (else its log is shown).
daemon_stop() {
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" = 0 ] || { cat "$TMP/log" >&2; fail "daemon exit $rc"; }
}

# A kernel's files in ROOT, enough for `kmx check -k REL` and the kernel hook: the image, config
# and System.map of the unpacked image package TREE in ROOT/boot, its modules.order and
# modules.builtin and one in-tree module (dummy, for the vermagic) in ROOT/lib/modules/REL.
# Prints REL.
install_kernel_sample() {  # TREE ROOT
  local tree=$1 root=$2 rel
  rel=$(ls "$tree/lib/modules")
  mkdir -p "$root/lib/modules/$rel/kernel/drivers/net" "$root/boot"
  cp "$tree/lib/modules/$rel"/kernel/drivers/net/dummy.ko* "$root/lib/modules/$rel/kernel/drivers/net/"
  cp "$tree/lib/modules/$rel"/modules.order "$tree/lib/modules/$rel"/modules.builtin "$root/lib/modules/$rel/"
  cp "$tree/boot/vmlinuz-$rel" "$tree/boot/config-$rel" "$tree/boot/System.map-$rel" "$root/boot/"
  echo "$rel"
}
