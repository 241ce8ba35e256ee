# Hostile module files cost bounded memory. The bombs are made here: zstd and xz streams of
# 400 MiB of zeros (past the 256 MiB decompression limit, src/decompress/decompress.h), and
# a module whose .symtab holds 4 M undefined symbols (96 MB unpacked, under the
# decompression limit, past the 512 Ki symbol limit, src/elf/module-elf.h) in a 10 KB
# .ko.zst. Peak RSS is measured with /usr/bin/time and held to a bound:
#   one bomb:         at most the limit plus the process's baseline;
#   four, -j4:        the same bound: past 64 MiB only one decoder writes at a time;
#   the symtab bomb:  at most its unpacked size plus the baseline (nothing is allocated for
#                     the symbols).
# Each bomb is reported as bad input with a clear message, the rest of the tree is indexed
# exactly as kmod indexes it, and a failed file is opened (and so decompressed) once.
source "$(dirname "$0")/common.sh"
need_kmod depmod
for t in zstd xz strace; do command -v $t > /dev/null || skip "$t not installed (scripts/setup.sh)"; done
[ -x /usr/bin/time ] || skip "/usr/bin/time not installed (apt-get install time)"

src=$(tree_moddir amd64-6.1)
ver=$(basename "$src")
R=$TMP/root
D=$R/lib/modules/$ver
mkdir -p "$D/kernel/drivers/net" "$D/extra"
for m in mii dummy; do cp "$src/kernel/drivers/net/$m.ko" "$D/kernel/drivers/net/"; done

head -c $((400 << 20)) /dev/zero | zstd -q -3 -c > "$TMP/zeros.zst"
head -c $((400 << 20)) /dev/zero | xz -0 -T1 -c > "$TMP/zeros.xz"
for i in 1 2 3; do cp "$TMP/zeros.zst" "$D/extra/bomb$i.ko.zst"; done
cp "$TMP/zeros.xz" "$D/extra/bomb4.ko.xz"
ls -l "$TMP"/zeros.*

# An ELF64 relocatable whose .symtab has 4 Mi undefined symbols all named "a".
python3 - "$TMP/syms.ko" <<'PY'
import struct, sys
n = 4 << 20
sym = struct.pack('<IBBHQQ', 1, 0x10, 0, 0, 0, 0)  # st_name=1 "a", GLOBAL NOTYPE, SHN_UNDEF
symtab = bytes(24) + sym * (n - 1)
strtab = b'\0a\0'
modinfo = b'license=GPL\0name=syms\0'
shstr = b'\0.symtab\0.strtab\0.modinfo\0.shstrtab\0'
def name(s): return shstr.index(s.encode() + b'\0')
parts, off = [], 64
secs = []
for nm, typ, data, link, entsize in [('.modinfo', 1, modinfo, 0, 0), ('.symtab', 2, symtab, 3, 24),
                                      ('.strtab', 3, strtab, 0, 0), ('.shstrtab', 3, shstr, 0, 0)]:
    secs.append((name(nm), typ, off, len(data), link, entsize))
    parts.append(data)
    off += len(data)
shoff = off
eh = b'\x7fELF\x02\x01\x01' + bytes(9) + struct.pack('<HHIQQQIHHHHHH', 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 5, 4)
sh = bytes(64) + b''.join(struct.pack('<IIQQQQIIQQ', nm, typ, 0, 0, o, sz, link, 1 if typ == 2 else 0, 8, es)
                          for nm, typ, o, sz, link, es in secs)
with open(sys.argv[1], 'wb') as f:
    f.write(eh + b''.join(parts) + sh)
PY
zstd -q -3 --rm "$TMP/syms.ko" -o "$D/extra/syms.ko.zst"
ls -l "$D/extra/syms.ko.zst"

# peak_kb CMD...: peak RSS in KB of one run.
peak_kb() {
  /usr/bin/time -f '%M' -o "$TMP/rss" "$@" > /dev/null 2> "$TMP/err" || true
  tail -n 1 "$TMP/rss"
}
mb() { echo $(($1 / 1024)); }

# The baseline: the same tree without the bombs.
mkdir -p "$TMP/aside"
mv "$D/extra" "$TMP/aside/"
base=$(peak_kb "$KMX" depmod --no-cache -j1 -b "$R" "$ver")
mv "$TMP/aside/extra" "$D/"
limit_kb=$((256 << 10))
echo "baseline peak RSS $(mb "$base") MB"

# Only the symtab bomb.
mkdir -p "$TMP/aside/extra"
mv "$D"/extra/bomb* "$TMP/aside/extra/"
syms=$(peak_kb "$KMX" depmod --no-cache -j1 -b "$R" "$ver")
grep -q "syms.ko.zst': section \[2\] .symtab has 4194304 symbols, more than the limit of 524288 for a module" "$TMP/err" ||
  fail "no clear message for the symtab bomb: $(cat "$TMP/err")"
echo "symtab bomb (4 Mi undefined symbols): peak RSS $(mb "$syms") MB"
[ "$syms" -le $((base + (96 << 10) + (16 << 10))) ] || fail "symtab bomb: peak RSS $(mb "$syms") MB > baseline + 96 MB unpacked + 16 MB"
mv "$TMP"/aside/extra/bomb* "$D/extra/"
rm "$D/extra/syms.ko.zst"

# One decompression bomb, then four with four workers.
mkdir -p "$TMP/aside2"
mv "$D"/extra/bomb[234]* "$TMP/aside2/"
one=$(peak_kb "$KMX" depmod --no-cache -j1 -b "$R" "$ver")
grep -q "bomb1.ko.zst': zstd: decompressed size exceeds the limit of 268435456 bytes" "$TMP/err" ||
  fail "no clear message for the zstd bomb: $(cat "$TMP/err")"
echo "one zstd bomb (400 MiB of zeros), -j1: peak RSS $(mb "$one") MB"
[ "$one" -le $((base + limit_kb + (16 << 10))) ] || fail "one bomb: peak RSS $(mb "$one") MB > baseline + limit + 16 MB"
mv "$TMP"/aside2/* "$D/extra/"
four=$(peak_kb "$KMX" depmod --no-cache -j4 -b "$R" "$ver")
grep -q "bomb4.ko.xz': xz: decompressed size exceeds the limit of 268435456 bytes" "$TMP/err" ||
  fail "no clear message for the xz bomb: $(cat "$TMP/err")"
echo "four bombs (3 zstd, 1 xz), -j4: peak RSS $(mb "$four") MB"
[ "$four" -le $((base + limit_kb + 3 * (64 << 10) + (32 << 10))) ] ||
  fail "four bombs: peak RSS $(mb "$four") MB > baseline + limit + 3 x 64 MiB + 32 MB"

# The bombs are reported the way kmod reports a module it cannot read, and the rest of the
# tree is kmod's.
"$KMX" depmod --no-cache -b "$R" "$ver" 2> "$TMP/err"
for i in 1 2 3; do grep -q "ERROR: failed to load symbols from $D/extra/bomb$i.ko.zst: Invalid argument" "$TMP/err" || fail "bomb$i not reported"; done
mkdir -p "$TMP/ref/lib/modules/$ver/kernel/drivers/net"
cp "$D"/kernel/drivers/net/*.ko "$TMP/ref/lib/modules/$ver/kernel/drivers/net/"
/usr/sbin/depmod -b "$TMP/ref" "$ver"
for f in modules.alias modules.symbols; do same "$f" "$TMP/ref/lib/modules/$ver/$f" "$D/$f"; done
grep -q '^kernel/drivers/net/mii.ko:' "$D/modules.dep" || fail "mii.ko missing from modules.dep"

# A failed file is opened once: its failure is not classified by reading it again.
strace -f -qq -e trace=openat -o "$TMP/strace" "$KMX" depmod --no-cache -j1 -b "$R" "$ver" 2> /dev/null
opens=$(grep -c 'bomb1.ko.zst' "$TMP/strace")
[ "$opens" -eq 1 ] || fail "bomb1.ko.zst opened $opens times"
echo "ok: bombs bounded (baseline $(mb "$base") MB, one $(mb "$one") MB, four at -j4 $(mb "$four") MB, symtab $(mb "$syms") MB)"
