#!/bin/bash
# One CLI across kmx's tools:
#   * `kmx --help` lists the tools by group and points at `kmx TOOL --help`;
#   * every tool answers --help and --version with exit 0;
#   * a bad option: the kmod tools exit as Debian's kmod does, the kmx-only tools with 2
#     (check and abi-diff keep their own documented codes);
#   * messages of kmx-only tools use kmod's form `TOOL: ERROR: ...`;
#   * lsmod takes kmod 34's options (-h, -V) and says why it refuses an argument.
source "$(dirname "$0")/common.sh"
need_kmod depmod modprobe insmod rmmod lsmod modinfo

"$KMX" --help > "$TMP/help" || fail "kmx --help exit $?"
for heading in "The kmod tools" "kerneld:" "Checking modules"; do
  grep -q "^$heading" "$TMP/help" || fail "kmx --help has no group '$heading': $(cat "$TMP/help")"
done
grep -q "kmx TOOL --help" "$TMP/help" || fail "kmx --help does not mention 'kmx TOOL --help'"
rc=0
"$KMX" frobnicate > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" = 2 ] || fail "unknown tool: exit $rc, wanted 2"
grep -q "^kmx: ERROR: unknown tool 'frobnicate'" "$TMP/err" || fail "unknown tool message: $(cat "$TMP/err")"

tools="depmod modprobe insmod rmmod lsmod modinfo daemon autoclean persist check abi-diff scan"
for t in $tools; do
  "$KMX" "$t" --help > "$TMP/out" 2> "$TMP/err" || fail "kmx $t --help: exit $?: $(cat "$TMP/err")"
  [ -s "$TMP/out" ] || fail "kmx $t --help printed nothing on stdout"
  "$KMX" "$t" --version > "$TMP/out" 2> "$TMP/err" || fail "kmx $t --version: exit $?: $(cat "$TMP/err")"
  grep -q "kmx\|kmod version" "$TMP/out" || fail "kmx $t --version: $(cat "$TMP/out")"
done

# A bad option: kmod's exit code for kmod's tools (checked against kmod itself), 2 for kmx's own.
for t in depmod modprobe insmod rmmod lsmod modinfo; do
  want=0
  /usr/sbin/$t --no-such-option > /dev/null 2>&1 || want=$?
  rc=0
  "$KMX" "$t" --no-such-option > /dev/null 2>&1 || rc=$?
  [ "$rc" = "$want" ] || fail "kmx $t --no-such-option: exit $rc, kmod's $t exits $want"
done
for t in daemon autoclean persist scan; do
  rc=0
  "$KMX" "$t" --no-such-option > /dev/null 2>&1 || rc=$?
  [ "$rc" = 2 ] || fail "kmx $t --no-such-option: exit $rc, wanted 2"
done

# One message form for kmx's own tools.
expect_prefix() {
  local want=$1
  shift
  "$@" > /dev/null 2> "$TMP/err" && fail "succeeded: $*"
  grep -q "^$want: ERROR: " "$TMP/err" || fail "no '$want: ERROR:' line from '$*': $(cat "$TMP/err")"
}
expect_prefix "kmx persist" "$KMX" persist --db "$TMP" list
expect_prefix "kmx daemon" "$KMX" daemon --idle 0
expect_prefix "kmx scan" "$KMX" scan "$TMP/no-such-dir"
expect_prefix "kmx check" "$KMX" check
expect_prefix "kmx abi-diff" "$KMX" abi-diff only-one
expect_prefix "lsmod" "$KMX" lsmod extra-argument
# scan parses options like the others: --version is not a directory.
"$KMX" scan --version | grep -q "^kmx version" || fail "kmx scan --version"
echo ok
