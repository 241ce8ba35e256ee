# Differential: modinfo by module name, alias, symbol and builtin name through the index
# files of a real tree, and through a link named `modinfo`. kmod's depmod builds the indexes
# in a scratch root (hard links to the cached tree); then both tools answer the same queries
# with -b/-k, and for -m names.
source "$(dirname "$0")/common.sh"
need_kmod modinfo depmod

root=$TMP/root
module_root "$root" amd64-6.1

ln -s "$KMX" "$TMP/modinfo"

# Queries: module names (with '-' spelling too), concrete aliases, symbols, builtins, misses.
{
  awk -F: '{ print $1 }' "$dir/modules.dep" | sed -n '1~97p' | xargs -n1 basename | sed 's/\.ko.*//'
  echo snd-hda-intel; echo e1000e; echo dummy
  awk '$2 !~ /[*?\[]/ { print $2 }' "$dir/modules.alias" | sed -n '1~211p'
  echo "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00"
  echo "fs-vfat"; echo "net-pf-10"; echo "char-major-10-229"
  awk '{ print $2 }' "$dir/modules.symbols" | sed -n '1~401p'
  sed -n '1~50p' "$dir/modules.builtin" | xargs -n1 basename | sed 's/\.ko$//'
  echo no-such-module; echo "symbol:no_such_symbol"
} > "$TMP/queries"
count=0
while read -r q; do
  for mode in "" "-m"; do
    rc_a=0; rc_b=0
    /usr/sbin/modinfo -b "$root" -k "$ver" $mode "$q" > "$TMP/a.out" 2> "$TMP/a.err" || rc_a=$?
    "$TMP/modinfo" -b "$root" -k "$ver" $mode "$q" > "$TMP/b.out" 2> "$TMP/b.err" || rc_b=$?
    same "modinfo $mode '$q' stdout" "$TMP/a.out" "$TMP/b.out"
    same "modinfo $mode '$q' stderr" "$TMP/a.err" "$TMP/b.err"
    [ "$rc_a" = "$rc_b" ] || fail "modinfo $mode '$q': exit $rc_b, kmod $rc_a"
    count=$((count + 1))
  done
done < "$TMP/queries"

# Odd trees: (1) text indexes only: libkmod reads no text index, so nothing is found; (2) an
# alias index naming a module that modules.dep.bin does not list: kmod shows it as
# "(builtin)" with nothing more; (3) builtin names and aliases without any module file.
odd() {  # odd NAME: a root with dummy.ko and the real builtin files, indexed by kmod
  local r=$TMP/$1
  mkdir -p "$r/lib/modules/9.9/kernel" "$r/lib/modules/9.8"
  cp "$src/kernel/drivers/net/dummy.ko" "$r/lib/modules/9.9/kernel/"
  cp "$src"/modules.builtin "$src"/modules.builtin.modinfo "$r/lib/modules/9.9/"
  /usr/sbin/depmod -b "$r" 9.9 2>/dev/null
  echo "$r"
}
r1=$(odd textonly); rm "$r1"/lib/modules/9.9/*.bin
r2=$(odd nodep); /usr/sbin/depmod -b "$r2" 9.8 2>/dev/null
cp "$r2/lib/modules/9.8/modules.dep.bin" "$r2/lib/modules/9.9/modules.dep.bin"
r3=$(odd builtin)
# (awk reads to the end: an early-exiting reader would SIGPIPE tr and fail under pipefail)
builtin_alias=$(tr '\0' '\n' < "$src/modules.builtin.modinfo" |
  awk -F= '!x && /^[a-z0-9_]*\.alias=[a-z0-9_-]*$/ { x = $2 } END { print x }')
[ -n "$builtin_alias" ] || fail "no plain builtin alias in $src/modules.builtin.modinfo"
builtin_name=$(basename "$(sed -n 7p "$src/modules.builtin")" .ko)
for r in "$r1" "$r2" "$r3"; do
  for mode in "" "-m" "-n" "-F alias" "-0"; do
    for q in dummy rtnl-link-dummy "$builtin_name" "$builtin_alias" no-such; do
      rc_a=0; rc_b=0
      /usr/sbin/modinfo -b "$r" -k 9.9 $mode "$q" > "$TMP/a.out" 2> "$TMP/a.err" || rc_a=$?
      "$KMX" modinfo -b "$r" -k 9.9 $mode "$q" > "$TMP/b.out" 2> "$TMP/b.err" || rc_b=$?
      same "$(basename "$r") modinfo $mode '$q' stdout" "$TMP/a.out" "$TMP/b.out"
      same "$(basename "$r") modinfo $mode '$q' stderr" "$TMP/a.err" "$TMP/b.err"
      [ "$rc_a" = "$rc_b" ] || fail "$(basename "$r") modinfo $mode '$q': exit $rc_b, kmod $rc_a"
      count=$((count + 1))
    done
  done
done
echo "ok: $count lookups identical to kmod"
