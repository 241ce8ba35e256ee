# depmod killed at any moment: every index file afterwards is whole, either the previous
# set's or the new one's. kmod's depmod makes both reference sets on a copy of the real 6.1
# tree ("old": without dummy.ko, "new": with it); then `kmx depmod` updates old -> new and is
# SIGKILLed at a random point, 40 times; after each kill every file kmod wrote must equal its
# old or its new bytes.
source "$(dirname "$0")/common.sh"
need_kmod depmod

src=$(tree_moddir amd64-6.1)
ver=$(basename "$src")
root=$TMP/root
mkdir -p "$root/lib/modules"
cp -al "$src" "$root/lib/modules/$ver"
dir=$root/lib/modules/$ver
victim=$(find "$dir/kernel/drivers/net" -name dummy.ko | head -n1)
# Only depmod's outputs are saved and restored. The inputs (modules.order, modules.builtin*)
# are hard links into the shared cached tree that other tests read at the same time: they
# must never be written, and restored files replace their destination instead of writing
# into it (cp --remove-destination).
outputs="modules.alias modules.alias.bin modules.builtin.alias.bin modules.builtin.bin modules.dep modules.dep.bin modules.devname modules.softdep modules.symbols modules.symbols.bin"
save() { mkdir -p "$1"; for f in $outputs; do cp "$dir/$f" "$1/$f"; done; }
restore() { for f in $outputs; do cp --remove-destination "$1/$f" "$dir/$f"; done; }

mv "$victim" "$TMP/dummy.ko"
/usr/sbin/depmod -b "$root" "$ver"
save "$TMP/old"
mv "$TMP/dummy.ko" "$victim"
/usr/sbin/depmod -b "$root" "$ver"
save "$TMP/new"
cmp -s "$TMP/old/modules.dep" "$TMP/new/modules.dep" && fail "reference sets do not differ"

all_old=0 all_new=0 mixed=0
for round in $(seq 40); do
  restore "$TMP/old"
  "$KMX" depmod --no-cache -b "$root" "$ver" &
  pid=$!
  # Up to 2 s: before, during and after the publishing renames, however busy the machine.
  sleep "$((RANDOM % 1200 / 1000)).$(printf '%03d' $((RANDOM % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  olds=0 news=0
  for f in "$TMP/old"/modules.*; do
    b=$(basename "$f")
    if cmp -s "$dir/$b" "$f"; then
      cmp -s "$f" "$TMP/new/$b" || olds=$((olds + 1))  # counts only files that differ between sets
    elif cmp -s "$dir/$b" "$TMP/new/$b"; then news=$((news + 1))
    else fail "round $round: $b is neither the previous nor the new file"
    fi
  done
  if [ "$news" -eq 0 ]; then all_old=$((all_old + 1)); elif [ "$olds" -eq 0 ]; then all_new=$((all_new + 1)); else mixed=$((mixed + 1)); fi
done
# A finished run publishes exactly kmod's new set.
restore "$TMP/old"
"$KMX" depmod --no-cache -b "$root" "$ver"
for f in "$TMP/new"/modules.*; do same "$(basename "$f") after a full run" "$f" "$dir/$(basename "$f")"; done
strays=$(find "$dir" -maxdepth 1 -name '*.kmx-tmp-*' | wc -l)
echo "ok: 40 kills; previous set kept $all_old times, new set complete $all_new times, files of both $mixed times; never a partial file ($strays stray temporary files left by killed runs)"
