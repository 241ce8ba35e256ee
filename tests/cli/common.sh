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
