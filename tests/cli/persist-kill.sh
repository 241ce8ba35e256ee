#!/bin/bash
# The persist store survives kill -9 at any moment. What a killed process leaves on disk depends
# only on which of its system calls completed, so the test kills at system-call boundaries, each
# one exactly: a writer (`kmx persist set` of 2000 keys, or `kmx persist save` of 40 parameters,
# each one transaction) runs under `strace -e inject=SYSCALL:signal=KILL:when=N`, which kills it
# on entering the Nth call of that kind. The points are every file and descriptor call a complete
# run makes from the moment it first names the store (opens, locks, reads, writes, syncs, unlinks
# of the -journal, -wal and -shm files). After every kill the store must pass
# `kmx persist check` (PRAGMA integrity_check + the snapshot invariant), SQLite's own
# integrity_check when its shell is installed, and hold only whole transactions: all keys of
# module m carry one generation, and dummy's saved parameters one generation too.
# At least 100 kills must land inside a running kmx (strace's exit status 137 says so).
source "$(dirname "$0")/common.sh"
command -v strace > /dev/null || skip "strace not installed (scripts/setup.sh)"

export KMX_PERSIST_DB="$TMP/persist.db"
want=${KMX_PERSIST_KILLS:-100}
nkeys=2000
sys="$TMP/sys"
mkdir -p "$sys/module/dummy/parameters"
for i in $(seq 0 39); do echo 0 > "$sys/module/dummy/parameters/p$i"; done

# write KIND GEN [STRACE-ARGS...]: one transaction of KIND (set or save) writing generation GEN.
write() {
  local kind=$1 gen=$2 f
  shift 2
  if [ "$kind" = set ]; then
    mapfile -t args < <(seq -f "k%.0f=$gen" 0 $((nkeys - 1)))
    "$@" "$KMX" persist set m "${args[@]}"
  else
    for f in "$sys"/module/dummy/parameters/p*; do echo "$gen" > "$f"; done
    "$@" "$KMX" persist save dummy --sys "$sys"
  fi
}

# points KIND: "SYSCALL N" for each file or descriptor call of a complete run of KIND, from its
# first mention of the store on (the calls before it cannot touch the store).
points() {
  write "$1" 1 strace -f -qq -o "$TMP/trace.$1" -e trace=%file,%desc 2> /dev/null
  awk -v db="$KMX_PERSIST_DB" '
    index($0, db) { on = 1 }
    on && match($0, /^([0-9]+ +)?[a-z0-9_]+\(/) {
      call = substr($0, RSTART, RLENGTH - 1); sub(/^[0-9]+ +/, "", call)
      print call, ++seen[call]
    }' "$TMP/trace.$1"
}

"$KMX" persist set m k0=0 2> /dev/null || fail "persist set on a new store failed"
"$KMX" persist save dummy --sys "$sys" || fail "persist save on a new store failed"
mapfile -t set_points < <(points set)
mapfile -t save_points < <(points save)
[ "${#set_points[@]}" -ge 20 ] || fail "a persist set makes only ${#set_points[@]} calls on the store"
[ "${#save_points[@]}" -ge 20 ] || fail "a persist save makes only ${#save_points[@]} calls on the store"

check_store() {
  local what=$1 vals n dv r
  "$KMX" persist check || fail "check failed after $what"
  if command -v sqlite3 > /dev/null; then
    r=$(sqlite3 "$KMX_PERSIST_DB" 'PRAGMA integrity_check')
    [ "$r" = ok ] || fail "sqlite3 integrity_check after $what: $r"
  fi
  vals=$("$KMX" persist get m | cut -d= -f2 | sort -u)
  n=$("$KMX" persist get m | wc -l)
  [ "$(echo "$vals" | wc -l)" -eq 1 ] || fail "module m mixes generations after $what: $(echo $vals)"
  [ "$n" -eq "$nkeys" ] || [ "$vals" = 0 ] || fail "module m has $n keys after $what"
  dv=$("$KMX" persist get dummy) || fail "dummy's snapshot is gone after $what"
  [ "$(echo "$dv" | wc -l)" -eq 40 ] || fail "dummy snapshot has $(echo "$dv" | wc -l) parameters after $what"
  [ "$(echo "$dv" | cut -d= -f2 | sort -u | wc -l)" -eq 1 ] || fail "dummy snapshot mixes generations after $what"
}

hits=0 rounds=0 gen=100
for kind in set save; do
  declare -n pts="${kind}_points"
  for p in "${pts[@]}"; do
    read -r call n <<< "$p"
    rounds=$((rounds + 1)) gen=$((gen + 1))
    rc=0
    write "$kind" "$gen" strace -f -qq -o /dev/null -e trace="$call" \
      -e inject="$call:signal=KILL:when=$n" > /dev/null 2> "$TMP/writer.err" || rc=$?
    if [ "$rc" -eq 137 ]; then
      hits=$((hits + 1))
    elif [ "$rc" -ne 0 ]; then
      cat "$TMP/writer.err" >&2
      fail "persist $kind failed with status $rc (not killed) at $call #$n"
    fi
    check_store "a kill of persist $kind at $call #$n"
  done
  unset -n pts
done
[ "$hits" -ge "$want" ] || fail "only $hits of $rounds kills landed in a running kmx"
# And the store still takes writes after all of it.
write set 1 > /dev/null 2>&1
[ "$("$KMX" persist get m | cut -d= -f2 | sort -u)" = 1 ] || fail "a write after the kills did not land"
echo "persist-kill: $rounds kills ($hits inside a running kmx: ${#set_points[@]} points of a set, ${#save_points[@]} of a save), store consistent after each"
