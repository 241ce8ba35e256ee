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

P set dummy.numdummies 3
P set snd-hda-intel power_save=1 "label=two words"
[ "$(P get dummy.numdummies)" = 3 ] || fail "get after set"
[ "$(P get snd_hda_intel.label)" = "two words" ] || fail "dashed name not normalised"
[ "$(stat -c %a "$TMP/state")" = 700 ] || fail "store directory is not 0700"
diff <(P list) - <<'X' || fail "list"
dummy.numdummies=3
snd_hda_intel.label=two words
snd_hda_intel.power_save=1
X
diff <(P get snd_hda_intel) - <<'X' || fail "get MODULE"
label=two words
power_save=1
X
P list -l dummy | grep -Eq '^user +[0-9]+ dummy\.numdummies=3$' || fail "list -l"

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
expect_rc 1 P save notloaded --sys "$sys"
grep -q "notloaded is not loaded" "$TMP/err" || fail "save of a module not loaded"
P check
echo "persist: ok"
