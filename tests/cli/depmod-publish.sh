# depmod publishes its index set as a set: every changed file is written to a temporary first,
# then all are renamed. kmod's depmod makes the reference sets on a copy of the real 6.1 tree:
# "old" without dummy.ko, "new" with it; kmx then updates old -> new.
#   - A full disk (a small tmpfs as -o OUTDIR): kmx fails with kmod's message and exit code,
#     removes its temporaries, and leaves the old set whole.
#   - A SIGKILL at each rename in turn (strace -e inject=rename:signal=KILL:when=N): every
#     file is whole, the old set is whole when the kill hits the first rename (nothing is
#     renamed before every file is written), and the next run removes the killed run's
#     temporaries and publishes the new set whole.
#   - A kill at a random moment (20 rounds): every file whole, the next run complete.
#   - A depmod publishing at the same moment (it holds the directory's lock, as a live kmx
#     depmod does while it writes and renames): its temporaries are not touched; they are
#     removed only once it is gone.
source "$(dirname "$0")/common.sh"
need_kmod depmod
command -v strace > /dev/null || skip "strace not installed (scripts/setup.sh)"
command -v flock > /dev/null || skip "flock not installed (util-linux)"
[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"

src=$(tree_moddir amd64-6.1)
ver=$(basename "$src")
root=$TMP/root
mkdir -p "$root/lib/modules"
cp -al "$src" "$root/lib/modules/$ver"
dir=$root/lib/modules/$ver
victim=$(find "$dir/kernel/drivers/net" -name dummy.ko | head -n1)
# Only depmod's outputs are saved and restored; inputs are hard links into the shared tree
# and are never written (cp --remove-destination replaces a link instead of writing into it).
outputs="modules.alias modules.alias.bin modules.builtin.alias.bin modules.builtin.bin modules.dep modules.dep.bin modules.devname modules.softdep modules.symbols modules.symbols.bin"
save() { mkdir -p "$1"; for f in $outputs; do cp "$dir/$f" "$1/$f"; done; }
restore() { for f in $outputs; do cp --remove-destination "$TMP/$1/$f" "$dir/$f"; done; }

mv "$victim" "$TMP/dummy.ko"
/usr/sbin/depmod -b "$root" "$ver"
save "$TMP/old"
mv "$TMP/dummy.ko" "$victim"
/usr/sbin/depmod -b "$root" "$ver"
save "$TMP/new"
# modules.weakdep (kmx only) as kmx writes it for the new tree.
"$KMX" depmod --no-cache -b "$root" "$ver"
cp "$dir/modules.weakdep" "$TMP/new/"
changed=0
for f in $outputs; do cmp -s "$TMP/old/$f" "$TMP/new/$f" || changed=$((changed + 1)); done
[ "$changed" -ge 3 ] || fail "reference sets differ in only $changed files"

# state DIR: "old", "new" or "mixed N" (N files new); fails on a file that is neither.
state() {
  local d=$1 olds=0 news=0 f
  for f in $outputs; do
    cmp -s "$TMP/old/$f" "$TMP/new/$f" && continue
    if cmp -s "$d/$f" "$TMP/old/$f"; then olds=$((olds + 1))
    elif cmp -s "$d/$f" "$TMP/new/$f"; then news=$((news + 1))
    else fail "$f is neither the previous nor the new file"
    fi
  done
  if [ "$news" -eq 0 ]; then echo old; elif [ "$olds" -eq 0 ]; then echo new; else echo "mixed $news"; fi
}
strays() { find "$1" -maxdepth 1 -name '*.kmx-tmp-*' | wc -l; }

# 1. A full disk: the output directory on a tmpfs holding the old set, with room for less
# than the largest new file (a publisher that renames each file as soon as it is written gets
# part of the way and leaves a mixed set).
out=$TMP/out
od=$out/lib/modules/$ver
mkdir -p "$out"
mount -t tmpfs -o size=64m kmx-test-enospc "$out"
trap 'umount "$out" 2> /dev/null || true; rm -rf "$TMP"' EXIT
mkdir -p "$od"
for f in $outputs; do cp "$TMP/old/$f" "$od/$f"; done
cp "$TMP/new/modules.weakdep" "$od/"
largest=0
for f in $outputs; do
  cmp -s "$TMP/old/$f" "$TMP/new/$f" && continue
  size=$(stat -c %s "$TMP/new/$f")
  [ "$size" -le "$largest" ] || largest=$size
done
avail=$(($(stat -f -c '%a * %S' "$out")))
fill=$((avail - largest + 65536))
[ "$fill" -gt 0 ] || fail "tmpfs too small for the test"
head -c "$fill" /dev/zero > "$out/filler"
rc=0
"$KMX" depmod --no-cache -b "$root" -o "$out" "$ver" 2> "$TMP/enospc.err" || rc=$?
cat "$TMP/enospc.err"
[ "$rc" -eq 1 ] || fail "full disk: exit $rc, kmod exits 1"
grep -q "depmod: ERROR: Could not write index '.*': .*No space left on device" "$TMP/enospc.err" || fail "full disk: no kmod-style message"
[ "$(state "$od")" = old ] || fail "full disk: the set is $(state "$od"), not the previous one whole"
[ "$(strays "$od")" -eq 0 ] || fail "full disk: temporaries left behind: $(ls "$od")"
rm "$out/filler"
"$KMX" depmod --no-cache -b "$root" -o "$out" "$ver"
[ "$(state "$od")" = new ] || fail "after the disk has room: $(state "$od")"
umount "$out"
echo "ok: full disk leaves the previous set whole and no temporaries"

# 2. A kill at each rename.
restore old
strace -f -qq -o "$TMP/renames" -e trace=rename "$KMX" depmod --no-cache -b "$root" "$ver"
renames=$(grep -c 'rename(' "$TMP/renames")
[ "$renames" -ge 3 ] || fail "only $renames renames"
summary=""
for n in $(seq "$renames"); do
  restore old
  strace -f -qq -o /dev/null -e trace=rename -e inject=rename:signal=KILL:when="$n" \
    "$KMX" depmod --no-cache -b "$root" "$ver" 2> /dev/null && fail "kill at rename $n: depmod was not killed"
  s=$(state "$dir")
  [ "$n" -ne 1 ] || [ "$s" = old ] || fail "kill at the first rename: the set is $s, not the previous one whole"
  left=$(strays "$dir")
  [ "$left" -eq $((renames - n + 1)) ] || fail "kill at rename $n of $renames: $left temporaries, expected $((renames - n + 1)) (all written before the first rename)"
  "$KMX" depmod --no-cache -b "$root" "$ver"
  [ "$(state "$dir")" = new ] || fail "run after a kill at rename $n: $(state "$dir")"
  [ "$(strays "$dir")" -eq 0 ] || fail "run after a kill at rename $n left $(strays "$dir") temporaries"
  summary="$summary $n:${s// /=}"
done
echo "ok: kill at each of $renames renames (state after the kill:$summary); every file whole, the next run publishes the new set and removes the temporaries"

# 3. A publisher at work: the lock is held and its temporary exists; kmx waits and leaves it.
restore old
echo live > "$dir/modules.dep.kmx-tmp-AbC123"
flock -x "$dir" -c "touch '$TMP/locked'; while [ ! -e '$TMP/release' ]; do sleep 0.1; done" &
holder=$!
while [ ! -e "$TMP/locked" ]; do sleep 0.1; done
"$KMX" depmod --no-cache -b "$root" "$ver" &
waiter=$!
sleep 1
[ -e "$dir/modules.dep.kmx-tmp-AbC123" ] || fail "a live publisher's temporary was removed"
[ "$(state "$dir")" = old ] || fail "kmx published while another publisher held the directory"
touch "$TMP/release"
wait "$holder"
wait "$waiter" || fail "kmx depmod failed after waiting for the lock"
[ ! -e "$dir/modules.dep.kmx-tmp-AbC123" ] || fail "the temporary of a finished publisher was not removed"
[ "$(state "$dir")" = new ] || fail "after waiting: $(state "$dir")"
echo "ok: a concurrent publisher's temporaries are left alone, stale ones removed"

# 4. Killed at a random moment, 20 times (before, during and after the writes and renames):
# every file is always whole, and a finished run publishes exactly kmod's new set with no
# temporaries left.
declare -A seen=()
for round in $(seq 20); do
  restore old
  "$KMX" depmod --no-cache -b "$root" "$ver" &
  pid=$!
  sleep "$((RANDOM % 1200 / 1000)).$(printf '%03d' $((RANDOM % 1000)))"
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  s=$(state "$dir")
  seen[${s%% *}]=$((${seen[${s%% *}]:-0} + 1))
done
restore old
"$KMX" depmod --no-cache -b "$root" "$ver"
for f in $outputs; do same "$f after a full run" "$TMP/new/$f" "$dir/$f"; done
[ "$(strays "$dir")" -eq 0 ] || fail "a full run left $(strays "$dir") temporaries"
echo "ok: 20 random kills (old ${seen[old]:-0}, new ${seen[new]:-0}, mixed ${seen[mixed]:-0}); never a partial file"
