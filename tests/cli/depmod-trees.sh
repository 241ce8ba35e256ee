# Differential: kmx depmod against kmod 30's depmod on five real Debian trees (plain 6.1
# amd64, xz 6.12 amd64, arm64 6.1, i386 6.1 ELF32, and the signed 6.1 tree). Both run on the same hardlinked copy
# (so paths in messages and readdir order are the same); every file kmod writes, stdout,
# stderr and the exit code must be identical. On the plain 6.1 tree also: -j1 gives the same
# bytes, a rerun leaves unchanged files untouched, and -n prints what kmod -n prints.
source "$(dirname "$0")/common.sh"
need_kmod depmod

outputs="modules.dep modules.dep.bin modules.alias modules.alias.bin modules.softdep modules.symbols
modules.symbols.bin modules.builtin.bin modules.builtin.alias.bin modules.devname"

run_tool() {  # NAME CMD... ; leaves NAME.out NAME.err NAME.rc in $TMP
  local name=$1 rc=0
  shift
  "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" || rc=$?
  echo "$rc" > "$TMP/$name.rc"
}

for key in amd64-6.1 amd64-6.12 arm64-6.1 i386-6.1 signed-6.1; do
  moddir=$(tree_moddir "$key")
  ver=$(basename "$moddir")
  root="$TMP/root-$key"
  mkdir -p "$root/lib/modules"
  cp -al "$moddir" "$root/lib/modules/$ver"
  dir="$root/lib/modules/$ver"

  run_tool kmod /usr/sbin/depmod -b "$root" "$ver"
  mkdir -p "$TMP/kmod-$key"
  for f in $outputs; do mv "$dir/$f" "$TMP/kmod-$key/$f"; done
  [ ! -e "$dir/modules.kmx-cache" ] || fail "stray cache before kmx ran"

  start=$(date +%s.%N)
  run_tool kmx "$KMX" depmod -b "$root" "$ver"
  end=$(date +%s.%N)
  same "$key stdout" "$TMP/kmod.out" "$TMP/kmx.out"
  same "$key stderr" "$TMP/kmod.err" "$TMP/kmx.err"
  [ "$(cat "$TMP/kmod.rc")" = "$(cat "$TMP/kmx.rc")" ] || fail "$key: exit $(cat "$TMP/kmx.rc"), kmod $(cat "$TMP/kmod.rc")"
  for f in $outputs; do same "$key $f" "$TMP/kmod-$key/$f" "$dir/$f"; done
  head -n1 "$dir/modules.weakdep" | grep -qx '# Weak dependencies extracted from modules themselves.' ||
    fail "$key: modules.weakdep missing or wrong header"
  echo "ok $key: $(wc -l < "$dir/modules.dep") modules, all outputs identical ($(echo "$end - $start" | bc) s)"

  if [ "$key" = amd64-6.1 ]; then
    # The cache-warm rerun changes nothing: same bytes, and no file is rewritten.
    stamp_before=$(stat -c '%n %Y.%y %i' "$dir"/modules.* | sort)
    sleep 1
    run_tool kmx2 "$KMX" depmod -b "$root" "$ver"
    stamp_after=$(stat -c '%n %Y.%y %i' "$dir"/modules.* | grep -v kmx-cache | sort)
    [ "$(echo "$stamp_before" | grep -v kmx-cache)" = "$stamp_after" ] || fail "$key: a rerun rewrote unchanged files"
    for f in $outputs; do same "$key rerun $f" "$TMP/kmod-$key/$f" "$dir/$f"; done

    # One thread, no cache: identical files.
    for f in $outputs; do rm "$dir/$f"; done
    run_tool kmxj1 "$KMX" depmod -j1 --no-cache -b "$root" "$ver"
    for f in $outputs; do same "$key -j1 $f" "$TMP/kmod-$key/$f" "$dir/$f"; done

    # -n: the text files on stdout, nothing written.
    run_tool kmodn /usr/sbin/depmod -n -b "$root" "$ver"
    run_tool kmxn "$KMX" depmod -n -b "$root" "$ver"
    same "$key -n stdout" "$TMP/kmodn.out" "$TMP/kmxn.out"
    same "$key -n stderr" "$TMP/kmodn.err" "$TMP/kmxn.err"
    # -w: kmod's duplicate warnings (this tree has modules listing an alias twice).
    run_tool kmodw /usr/sbin/depmod -w -b "$root" "$ver"
    run_tool kmxw "$KMX" depmod -w -b "$root" "$ver"
    [ -s "$TMP/kmodw.err" ] || fail "$key: expected duplicate warnings from kmod -w"
    same "$key -w stderr" "$TMP/kmodw.err" "$TMP/kmxw.err"
    # -e with -F System.map and with -E Module.symvers (every 50th CRC altered): kmod's
    # unknown-symbol and CRC-mismatch warnings, in kmod's order.
    image=$(tree_root "$key")
    run_tool kmodF /usr/sbin/depmod -e -F "$image/boot/System.map-$ver" -b "$root" "$ver"
    run_tool kmxF "$KMX" depmod -e -F "$image/boot/System.map-$ver" -b "$root" "$ver"
    same "$key -e -F stderr" "$TMP/kmodF.err" "$TMP/kmxF.err"
    if headers=$("$KMX_SRC/tests/data/fetch-trees.sh" path headers-6.1 2>/dev/null) && [ -e "$headers/.done" ]; then
      awk 'BEGIN{OFS="\t"} NR%50==0 {$1="0x12345678"} {print}' "$headers"/usr/src/*/Module.symvers > "$TMP/symvers"
      run_tool kmodE /usr/sbin/depmod -e -E "$TMP/symvers" -b "$root" "$ver"
      run_tool kmxE "$KMX" depmod -e -E "$TMP/symvers" -b "$root" "$ver"
      [ -s "$TMP/kmodE.err" ] || fail "$key: expected CRC warnings from kmod -e -E"
      same "$key -e -E stderr" "$TMP/kmodE.err" "$TMP/kmxE.err"
    fi
    echo "ok $key: rerun untouched, -j1 identical, -n identical, -w, -e -F, -e -E warnings identical"
  fi
  rm -rf "$root"
done
