# kmx check reads each module file once: the one read (decompressed when compressed) gives the
# bytes that are parsed and the image whose signature is verified. Counted with strace as the
# opens of the module file in a whole run, for an uncompressed signed module, an xz-compressed
# one and a file that is not a module; each verdict shows the signature was judged.
source "$(dirname "$0")/common.sh"
need strace xz python3
strace -f -qq -e trace=none true 2>/dev/null || skip "strace cannot trace here (ptrace not permitted)"
r=$(tree_root signed-6.1)
rel=$(ls "$r/lib/modules")
sym=$(tree_symvers headers-6.1)
mod=$(find "$r/lib/modules/$rel" -name dummy.ko | head -n1)
export KMX_CACHE_DIR=$TMP/cache
cp "$mod" "$TMP/dummy.ko"
xz -C crc32 -c "$mod" >"$TMP/dummyx.ko.xz"
cp /bin/true "$TMP/true.ko"

# once FILE SIGNATURE-STEP: one open of FILE in the run, and the signature step's id.
once() {
  local f=$1 want=$2 n step
  strace -f -qq -e trace=open,openat -o "$TMP/trace" "$KMX" check --json -t "$r,$sym" "$f" >"$TMP/j" || true
  n=$(grep -cF "\"$f\"" "$TMP/trace" || true)
  [ "$n" = 1 ] || fail "$f opened $n times: $(grep -F "\"$f\"" "$TMP/trace")"
  step=$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[0]; print(" ".join(c["id"] for c in v["checks"] if c["id"].startswith("B")))' "$TMP/j")
  [ "$step" = "$want" ] || fail "$f: signature step '$step', want '$want': $(head -c 2000 "$TMP/j")"
}
once "$TMP/dummy.ko" B1      # verified against the certificate in boot/vmlinuz
once "$TMP/dummyx.ko.xz" B1
once "$TMP/true.ko" B2       # unsigned, then the ELF header checks
echo ok
