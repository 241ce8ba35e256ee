#!/bin/bash
# kmx persist get|set|list|rm|save|apply|check on a temp store: values, exit codes and messages,
# the parameter snapshot from a fake /sys tree, and what a load would be given back.
source "$(dirname "$0")/common.sh"

export KMX_PERSIST_DB="$TMP/state/persist.db"
P() { "$KMX" persist "$@"; }
expect_rc() {
  local want=$1 rc=0
  shift
  "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [ "$rc" -eq "$want" ] || { cat "$TMP/err" >&2; fail "exit $rc, wanted $want: $*"; }
}

# Nothing stored yet: list is empty, get says so.
[ -z "$(P list)" ] || fail "list of a missing store is not empty"
expect_rc 1 P get dummy.numdummies
grep -q "no store at '$KMX_PERSIST_DB'" "$TMP/err" || fail "missing store message: $(cat "$TMP/err")"
[ ! -e "$KMX_PERSIST_DB" ] || fail "a read created the store"

# The store's directory: a path an administrator gives must be in an existing, private
# directory (only the built-in /var/lib/kmx is created); a directory is not a store.
expect_rc 1 P set dummy.numdummies 3
grep -qF "'$KMX_PERSIST_DB': directory '$TMP/state' does not exist" "$TMP/err" || fail "missing directory message: $(cat "$TMP/err")"
[ ! -e "$TMP/state" ] || fail "a --db directory was created"
mkdir -m 1777 "$TMP/state"
expect_rc 1 P set dummy.numdummies 3
grep -qF "directory '$TMP/state' is writable by others (mode 1777)" "$TMP/err" || fail "world-writable directory accepted: $(cat "$TMP/err")"
chmod 700 "$TMP/state"
expect_rc 2 P --db "$TMP/state" list
grep -qF "'$TMP/state' is a directory" "$TMP/err" || fail "--db DIR message: $(cat "$TMP/err")"
ln -s "$TMP/planted.db" "$TMP/state/link.db"
expect_rc 1 P --db "$TMP/state/link.db" set dummy.x 1
grep -qF "is a symbolic link" "$TMP/err" || fail "symbolic link followed: $(cat "$TMP/err")"
[ ! -e "$TMP/planted.db" ] || fail "a store was created through a symbolic link"
rm "$TMP/state/link.db"

set_from=$(date -u +%s)
P set dummy.numdummies 3
set_to=$(date -u +%s)
P set snd-hda-intel power_save=1 "label=two words"
[ "$(P get dummy.numdummies)" = 3 ] || fail "get after set"
[ "$(P get snd_hda_intel.label)" = "two words" ] || fail "dashed name not normalised"
diff <(P list) - <<'X' || fail "list"
dummy.numdummies=3
snd_hda_intel.label=two words
snd_hda_intel.power_save=1
X
diff <(P get snd_hda_intel) - <<'X' || fail "get MODULE"
label=two words
power_save=1
X
# --long: the kind and when it was stored, as a local date (TZ fixed here), never epoch seconds.
TZ=UTC P list -l dummy > "$TMP/long"
grep -Eq '^user +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+0000 dummy\.numdummies=3$' "$TMP/long" || fail "list -l: $(cat "$TMP/long")"
stamp=$(date -u -d "$(awk '{print $2}' "$TMP/long")" +%s)
[ "$set_from" -le "$stamp" ] && [ "$stamp" -le "$set_to" ] ||
  fail "list -l date $stamp is not the time of the set ($set_from..$set_to)"

# The store is SQLite in WAL mode, checked by SQLite itself when its shell is installed.
if command -v sqlite3 >/dev/null; then
  [ "$(sqlite3 "$KMX_PERSIST_DB" 'PRAGMA journal_mode')" = wal ] || fail "not in WAL mode"
  [ "$(sqlite3 "$KMX_PERSIST_DB" "SELECT value FROM meta WHERE key='schema_version'")" = 1 ] || fail "schema version"
fi

# Errors: usage 2, not found 1, hostile names never reach anything.
expect_rc 1 P rm dummy.nope
grep -q "dummy.nope is not set" "$TMP/err" || fail "rm message"
expect_rc 2 P set 'x;reboot.k' v
grep -q "invalid module name 'x;reboot'" "$TMP/err" || fail "bad module message"
expect_rc 2 P set dummy 'novalue'
expect_rc 2 P set dummy.k
expect_rc 2 P frobnicate
grep -q "unknown command 'frobnicate'" "$TMP/err" || fail "unknown command message"
expect_rc 2 P --nope list
expect_rc 2 P set 'dummy.a=b' v
expect_rc 2 P set dummy.label 'say "hi"'
grep -q "contains '\"'" "$TMP/err" || fail "a value with a double quote: $(cat "$TMP/err")"
P rm dummy.numdummies
expect_rc 1 P get dummy.numdummies
P rm snd_hda_intel
[ -z "$(P list)" ] || fail "rm MODULE left keys"

# A file that is not a store: a clear error naming it, and it is left alone.
echo "not a database" >"$TMP/junk.db"
cp "$TMP/junk.db" "$TMP/junk.orig"
expect_rc 1 P --db "$TMP/junk.db" set m.k v
grep -q "$TMP/junk.db" "$TMP/err" || fail "junk store message does not name the file"
cmp -s "$TMP/junk.db" "$TMP/junk.orig" || fail "junk store was modified"
grep -q "damaged or not a kmx store" "$TMP/err" || fail "junk store message does not say what is wrong: $(cat "$TMP/err")"
[ "$(wc -l <"$TMP/err")" = 1 ] || fail "junk store message is not one line: $(cat "$TMP/err")"

# A store on a read-only file system (a tmpfs remounted read-only in a private mount namespace):
# reads work, a write says so in one line.
if unshare -m true 2>/dev/null; then
  mkdir -m 700 "$TMP/ro"
  unshare -m bash -c '
    mount -t tmpfs -o mode=0700 tmpfs "$1" || exit 77
    "$2" persist --db "$1/persist.db" set dummy.numdummies 7 || exit 1
    mount -o remount,ro "$1" || exit 77
    "$2" persist --db "$1/persist.db" get dummy.numdummies >"$3/ro.out" 2>"$3/ro.err" || exit 1
    "$2" persist --db "$1/persist.db" set dummy.numdummies 8 2>"$3/ro-set.err" && exit 1
    exit 0' _ "$TMP/ro" "$KMX" "$TMP" || rc=$?
  if [ "${rc:-0}" = 77 ]; then
    echo "read-only store not checked: cannot mount a tmpfs here"
  else
    [ "${rc:-0}" = 0 ] || fail "read-only store: exit ${rc}: $(cat "$TMP"/ro*.err)"
    [ "$(cat "$TMP/ro.out")" = 7 ] || fail "read-only store not readable: $(cat "$TMP/ro.err")"
    grep -qx "kmx persist: ERROR: '$TMP/ro/persist.db': the file system is read-only (the store can be read, not written)" "$TMP/ro-set.err" ||
      fail "read-only write message: $(cat "$TMP/ro-set.err")"
  fi
else
  echo "read-only store not checked: no mount namespaces here"
fi

# Snapshot of writable parameters from a fake /sys, applied to the next load unless it names them.
sys="$TMP/sys"
mkdir -p "$sys/module/dummy/parameters"
echo 1 >"$sys/module/dummy/parameters/numdummies"; chmod 0444 "$sys/module/dummy/parameters/numdummies"
echo 5 >"$sys/module/dummy/parameters/debug"; chmod 0644 "$sys/module/dummy/parameters/debug"
echo "a b" >"$sys/module/dummy/parameters/tag"; chmod 0600 "$sys/module/dummy/parameters/tag"
P save dummy --sys "$sys"
diff <(P list) - <<'X' || fail "saved parameters"
dummy.debug=5
dummy.tag=a b
X
[ "$(P apply dummy)" = 'debug=5 tag="a b"' ] || fail "apply: $(P apply dummy)"
[ "$(P apply dummy debug=1)" = 'tag="a b" debug=1' ] || fail "apply with own option: $(P apply dummy debug=1)"

# 'user' entries (kmx persist set) reach a load when the module file declares the parameter:
# apply finds the file as modprobe would (-d/-S); without it, all of them show, with a warning.
if src=$(tree_moddir amd64-6.1 2>/dev/null); then
  ver=$(basename "$src") tree=$TMP/tree
  mkdir -p "$tree/lib/modules/$ver/kernel/drivers/net"
  cp "$src/kernel/drivers/net/dummy.ko" "$tree/lib/modules/$ver/kernel/drivers/net/"
  cp "$src/modules.builtin" "$src/modules.builtin.modinfo" "$src/modules.order" "$tree/lib/modules/$ver/"
  /usr/sbin/depmod -b "$tree" "$ver"
  P set dummy numdummies=16 "note=not a parameter"
  [ "$(P -d "$tree" -S "$ver" apply dummy 2>"$TMP/err")" = 'debug=5 numdummies=16 tag="a b"' ] ||
    fail "apply with the module file: $(P -d "$tree" -S "$ver" apply dummy)"
  [ ! -s "$TMP/err" ] || fail "apply with the module file warned: $(cat "$TMP/err")"
  [ "$(P -d "$TMP/none" -S "$ver" apply dummy 2>"$TMP/err")" = 'debug=5 note="not a parameter" numdummies=16 tag="a b"' ] ||
    fail "apply without the module file: $(P -d "$TMP/none" -S "$ver" apply dummy)"
  grep -q "dummy not found in $TMP/none/lib/modules/$ver" "$TMP/err" || fail "no warning without the module file: $(cat "$TMP/err")"
  P rm dummy.numdummies
  P rm dummy.note
else
  echo "apply against a module file not checked: the amd64-6.1 tree is not fetched"
fi
expect_rc 1 P save notloaded --sys "$sys"
grep -q "notloaded is not loaded" "$TMP/err" || fail "save of a module not loaded"
P check
echo "persist: ok"
