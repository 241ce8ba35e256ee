#!/bin/bash
# The persist store survives kill -9 at any moment: a writer (a loop of `kmx persist set` and
# `kmx persist save`, each one transaction; the set writes 2000 rows so that the writer spends
# most of its time inside kmx, whatever the machine's speed) is SIGKILLed at random points (0-30 ms after a kmx in it was seen), at least
# 100 times while a kmx process is inside it; after every kill the store must pass
# `kmx persist check` (PRAGMA integrity_check + the snapshot invariant), SQLite's own
# integrity_check when its shell is installed, and hold only whole transactions: all keys of
# module m carry one generation, and dummy's saved parameters one generation too.
source "$(dirname "$0")/common.sh"

export KMX_PERSIST_DB="$TMP/persist.db"
want=${KMX_PERSIST_KILLS:-100}
nkeys=2000
sys="$TMP/sys"
mkdir -p "$sys/module/dummy/parameters"
for i in $(seq 0 39); do echo 0 >"$sys/module/dummy/parameters/p$i"; done

cat >"$TMP/writer.sh" <<W
gen=\$1
while :; do
  gen=\$((gen + 1))
  mapfile -t args < <(seq -f "k%.0f=\$gen" 0 $((nkeys - 1)))
  "$KMX" persist set m "\${args[@]}"
  for f in "$sys"/module/dummy/parameters/p*; do echo \$gen >"\$f"; done
  "$KMX" persist save dummy --sys "$sys"
done
W

# kmx_child PID: a child of PID is kmx now. Shell builtins only (read, test -ef): no process is
# started, so the check stays fast on a loaded machine.
kmx_child() {
  local kids c
  read -r kids < "/proc/$1/task/$1/children" 2>/dev/null || return 1
  for c in $kids; do
    [ "/proc/$c/exe" -ef "$KMX" ] && return 0
  done
  return 1
}

"$KMX" persist set m k0=0 >/dev/null 2>&1
hits=0 rounds=0 gen=0
while [ "$hits" -lt "$want" ]; do
  rounds=$((rounds + 1))
  [ "$rounds" -le $((want * 10)) ] || fail "only $hits of $rounds kills landed in a running kmx"
  gen=$((gen + 1000))
  setsid bash "$TMP/writer.sh" "$gen" </dev/null >/dev/null 2>"$TMP/writer.err" &
  pid=$!
  # Wait (up to 2 s: a loaded machine starts the writer late) until a kmx runs inside the
  # writer, then kill at a random point 0-40 ms later: inside that kmx, or in a later step.
  for _ in $(seq 400); do kmx_child "$pid" && break; sleep 0.005; done
  # Half the kills at once, the others 0-30 ms later.
  ((RANDOM % 2)) && sleep "0.0$(printf '%02d' $((RANDOM % 30)))"
  # Was a kmx inside the writer at the moment of the kill?
  live=no
  kmx_child "$pid" && live=yes
  # The group, and the pid itself: under load the kill can come before setsid(1) made the
  # writer a group leader, and then only the pid names it (else `wait` would block forever).
  kill -9 -- "-$pid" 2>/dev/null || true
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "$live" = yes ] && hits=$((hits + 1))
  if grep -q "error" "$TMP/writer.err"; then cat "$TMP/writer.err" >&2; fail "writer failed (round $rounds)"; fi

  "$KMX" persist check || fail "check failed after kill $rounds"
  if command -v sqlite3 >/dev/null; then
    r=$(sqlite3 "$KMX_PERSIST_DB" 'PRAGMA integrity_check')
    [ "$r" = ok ] || fail "sqlite3 integrity_check after kill $rounds: $r"
  fi
  vals=$("$KMX" persist get m | cut -d= -f2 | sort -u)
  n=$("$KMX" persist get m | wc -l)
  [ "$(echo "$vals" | wc -l)" -eq 1 ] || fail "module m mixes generations after kill $rounds: $(echo $vals)"
  [ "$n" -eq "$nkeys" ] || [ "$vals" = 0 ] || fail "module m has $n keys after kill $rounds"
  if dv=$("$KMX" persist get dummy 2>/dev/null); then
    [ "$(echo "$dv" | wc -l)" -eq 40 ] || fail "dummy snapshot has $(echo "$dv" | wc -l) parameters after kill $rounds"
    [ "$(echo "$dv" | cut -d= -f2 | sort -u | wc -l)" -eq 1 ] || fail "dummy snapshot mixes generations after kill $rounds"
  fi
done
echo "persist-kill: $rounds kills, $hits inside a running kmx, store consistent after each"
