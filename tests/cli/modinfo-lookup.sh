# Differential: modinfo by module name, alias, symbol and builtin name through the index
# files of a real tree, and through a link named `modinfo`. kmod's depmod builds the indexes
# in a scratch root (hard links to the cached tree); then both tools answer the same queries
# with -b/-k, and for -m names.
source "$(dirname "$0")/common.sh"
need_kmod modinfo depmod

src=$(tree_moddir amd64-6.1)
ver=$(basename "$src")
root=$TMP/root
mkdir -p "$root/lib/modules"
cp -al "$src" "$root/lib/modules/$ver"
/usr/sbin/depmod -b "$root" "$ver"
dir=$root/lib/modules/$ver

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
echo "ok: $count lookups identical to kmod"
