# A module built against Debian's 6.1.0-53 headers (their Module.symvers gives its __versions)
# that calls dev_lstats_read, whose CRC differs in 6.1.0-54, the lab's 6.1 kernel: the kernel
# refuses it ("disagrees about version of symbol"), `kmx check --history` with the -53 kernel
# predicts the refusal for the same symbol, and its hint names a struct that pahole, over both
# kernels' BTF, shows to differ.
lab_kernels="6.1"

# Build (cached) the module; prints its path. The -53 architecture headers (.config,
# Module.symvers, generated headers) over the lab's merged -54 headers for the common part,
# which the archive no longer has for -53.
crc_history_module() {
  local hdr base src=$KMX_SRC/tests/vm/crc-module sum dir old
  hdr=$(lab_headers_dir 6.1) || return 1
  base=${hdr%/src/*}
  old=$("$lab_fetch" path headers-6.1-53) || return 1
  sum=$( (cat "$src"/*; declare -f crc_history_module) | sha256sum | cut -c1-16)
  dir=$lab_cache/crc-history-$sum
  if [ ! -e "$dir/.done" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/usr/src" "$dir/m"
    cp -a "$old"/usr/src/linux-headers-6.1.0-53-amd64 "$dir/usr/src/"
    ln -s "$base/lib" "$dir/usr/lib"
    local mk=$dir/usr/src/linux-headers-6.1.0-53-amd64/Makefile common
    common=$(sed -n 's|^include .*/src/\(.*\)/Makefile$|\1|p' "$hdr/Makefile")
    echo "include $base/src/$common/Makefile" >"$mk"
    cp "$src"/Kbuild "$src"/*.c "$dir/m/"
    make -s -C "$dir/usr/src/linux-headers-6.1.0-53-amd64" M="$dir/m" CONFIG_DEBUG_INFO_BTF_MODULES= \
      modules >"$dir/make.log" 2>&1 || { echo "check-crc-history: build failed:" >&2; cat "$dir/make.log" >&2; return 1; }
    touch "$dir/.done"
  fi
  echo "$dir/m/crc_lstats.ko"
}

guest() {
  local f
  f=$(crc_history_module) || return 1
  mkdir -p "$root/lab/crc"
  cp "$f" "$root/lab/crc/"
  cat <<'G'
lab_clean
dmesg -c >/dev/null
run crc-ins kmod insmod /lab/crc/crc_lstats.ko
run crc-log dmesg
[ -d /sys/module/crc_lstats ] && kmod rmmod crc_lstats
lab_clean
G
}

check() {
  local f
  f=$(crc_history_module) || { failed "cannot build the module"; return; }
  local new old nsym osym
  new=$(lab_image_root 6.1)
  nsym=$(ls "$("$lab_fetch" path headers-6.1)"/usr/src/linux-headers-*/Module.symvers)
  old=$("$lab_fetch" path amd64-6.1-53) || { failed "no 6.1.0-53 tree"; return; }
  osym=$(ls "$("$lab_fetch" path headers-6.1-53)"/usr/src/linux-headers-*/Module.symvers)
  # The module's own CRC is -53's, not -54's.
  python3 - "$osym" "$nsym" <<'PY' || failed "dev_lstats_read has the same CRC in -53 and -54"
import sys
def crc(p):
    return next(l.split("\t")[0] for l in open(p) if l.split("\t")[1] == "dev_lstats_read")
sys.exit(crc(sys.argv[1]) == crc(sys.argv[2]))
PY
  expect_rc crc-ins 1
  local line
  line=$(out crc-log | sed 's/^\[[ 0-9.]*\] //' | grep -m1 'disagrees about version of symbol dev_lstats_read$') ||
    { failed "no 'disagrees about version' line in the kernel log: $(out crc-log)"; return; }
  echo "kernel: $line"
  [ "$line" = "crc_lstats: disagrees about version of symbol dev_lstats_read" ] || failed "kernel log: $line"
  out crc-log | grep -q 'crc_lstats: Unknown symbol dev_lstats_read (err -22)$' || failed "kernel log: no EINVAL for dev_lstats_read"
  "$KMX" check --all -t "$new,$nsym" --history "$old,$osym" "$f" >"$lab_tmp/crc.txt" || true
  grep -q "F4   symbol dev_lstats_read" "$lab_tmp/crc.txt" ||
    { failed "kmx does not predict the refusal for dev_lstats_read: $(cat "$lab_tmp/crc.txt")"; return; }
  local hint
  hint=$(grep -m1 "^  hint: dev_lstats_read: 6.1.0-53-amd64 -> 6.1.0-54-amd64: " "$lab_tmp/crc.txt") ||
    { failed "no type-change hint: $(cat "$lab_tmp/crc.txt")"; return; }
  echo "kmx:$hint"
  local st
  st=$(sed -n 's/.*-> 6\.1\.0-54-amd64: struct \([A-Za-z0-9_]*\): .*/\1/p' <<<"$hint")
  [ -n "$st" ] || { failed "the hint names no struct: $hint"; return; }
  # pahole over both kernels' BTF (vmlinux from the bzImage's XZ payload): the struct differs.
  local k
  for k in "$old" "$new"; do
    python3 - "$(ls "$k"/boot/vmlinuz-*)" "$lab_tmp/vmlinux-${k##*/}" <<'PY' || { failed "cannot unpack $k"; return; }
import lzma, sys
b = open(sys.argv[1], "rb").read()
i = b.index(b"\xfd7zXZ\x00")
open(sys.argv[2], "wb").write(lzma.LZMADecompressor().decompress(b[i:]))
PY
    pahole -F btf -C "$st" "$lab_tmp/vmlinux-${k##*/}" >"$lab_tmp/pahole-${k##*/}" 2>&1 ||
      { failed "pahole: $(cat "$lab_tmp/pahole-${k##*/}")"; return; }
  done
  # The member the hint names is in pahole's difference, on both sides.
  local mem
  mem=$(sed -n 's/.*: struct [A-Za-z0-9_]*: member \([A-Za-z0-9_]*\) .*/\1/p' <<<"$hint")
  diff "$lab_tmp/pahole-${old##*/}" "$lab_tmp/pahole-${new##*/}" >"$lab_tmp/pahole.diff"
  [ -s "$lab_tmp/pahole.diff" ] || { failed "pahole shows struct $st the same in both kernels"; return; }
  if [ -n "$mem" ]; then
    grep -Eq "^<.*[^A-Za-z0-9_]$mem[:;]" "$lab_tmp/pahole.diff" && grep -Eq "^>.*[^A-Za-z0-9_]$mem[:;]" "$lab_tmp/pahole.diff" ||
      failed "pahole's difference of struct $st does not touch member $mem: $(cat "$lab_tmp/pahole.diff")"
  fi
  grep -E "[^A-Za-z0-9_]$mem[:;]" "$lab_tmp/pahole.diff"
}
