#!/usr/bin/env bash
# The largest real modules, from which kmx's limits on hostile module files are set
# (src/decompress/decompress.h default_decompress_limit, src/elf/module-elf.h
# default_max_sections and default_max_symbols): for every module of the cached Debian trees,
# its unpacked size, section count, .symtab entries, undefined symbols, __versions entries,
# .modinfo strings and __ksymtab_strings; the largest of each with its module.
#
#   bench/module-limits.sh [TREE-KEY...]   (default: the five image trees)
#
# Measured on amd64-6.1, i386-6.1, arm64-6.1, signed-6.1 and amd64-6.12 (20,096 modules):
#   unpacked size   29,305,335 B  amdgpu (6.12)     19,440,041 B on 6.1
#   sections                94    kvm (6.12)
#   .symtab entries     45,092    amdgpu (6.12)     25,991 on 6.1
#   undefined symbols    1,231    i915 (6.12)
#   __versions           1,231    i915 (6.12)
#   .modinfo strings     1,607    option (6.12)     76,255 B of .modinfo
#   __ksymtab_strings      518    drm (6.12)
# A large out-of-tree module such as NVIDIA's proprietary nvidia.ko is about 100 MB unpacked
# (its nv-kernel.o blob cannot be built here: Debian ships it in non-free, which this
# machine's sources do not carry). Limits chosen from these numbers:
#   decompressed size   256 MiB  = 9x amdgpu, 2.5x an NVIDIA-sized module
#   sections             65,536  = 697x kvm (and the most a header without extended numbering
#                                  can name is 65,279)
#   entries per table   524,288  = 11.6x amdgpu's .symtab (every other table is far smaller)
# Past a limit a module is bad input: depmod reports it as kmod reports an unreadable module
# and prints why as a warning (tests/cli/depmod-bombs.sh).
source "$(dirname "$0")/lib.sh"
keys=("$@")
[ ${#keys[@]} -gt 0 ] || keys=(amd64-6.1 i386-6.1 arm64-6.1 signed-6.1 amd64-6.12)
dirs=()
for k in "${keys[@]}"; do dirs+=("$("$bench_src/tests/data/fetch-trees.sh" path "$k")"); done
python3 - "${dirs[@]}" <<'PY'
import lzma, os, struct, subprocess, sys
best, count = {}, 0
def note(key, value, path):
    if value > best.get(key, (-1, ''))[0]:
        best[key] = (value, path)
def unpack(data):
    if data[:6] == b'\xfd7zXZ\x00':
        return lzma.decompress(data)
    if data[:4] == b'\x28\xb5\x2f\xfd':
        return subprocess.run(['zstd', '-dc'], input=data, capture_output=True, check=True).stdout
    if data[:2] == b'\x1f\x8b':
        import gzip
        return gzip.decompress(data)
    return data
def strings(b):
    return len([s for s in b.split(b'\0') if s])
for tree in sys.argv[1:]:
    for dirpath, _, files in os.walk(tree):
        for f in files:
            if not any(f.endswith(e) for e in ('.ko', '.ko.xz', '.ko.zst', '.ko.gz')):
                continue
            path = os.path.join(dirpath, f)
            d = unpack(open(path, 'rb').read())
            if d[:4] != b'\x7fELF':
                continue
            count += 1
            is64, e = d[4] == 2, '<' if d[5] == 1 else '>'
            if is64:
                shoff = struct.unpack_from(e + 'Q', d, 0x28)[0]
                shentsize, shnum, shstrndx = struct.unpack_from(e + 'HHH', d, 0x3a)
                fmt, undef_off = e + 'IIQQQQIIQQ', 6
            else:
                shoff = struct.unpack_from(e + 'I', d, 0x20)[0]
                shentsize, shnum, shstrndx = struct.unpack_from(e + 'HHH', d, 0x2e)
                fmt, undef_off = e + 'IIIIIIIIII', 14
            secs = [struct.unpack_from(fmt, d, shoff + i * shentsize) for i in range(shnum)]
            names = secs[shstrndx][4]
            rel = os.path.relpath(path, os.path.dirname(tree))
            note('unpacked bytes', len(d), rel)
            note('sections', shnum, rel)
            for name_off, typ, _, _, off, size, _, _, _, entsize in secs:
                name = d[names + name_off:d.index(b'\0', names + name_off)]
                body = d[off:off + size]
                if typ == 2 and entsize:
                    n = size // entsize
                    note('.symtab entries', n, rel)
                    und = sum(1 for k in range(n) if struct.unpack_from(e + 'H', d, off + k * entsize + undef_off)[0] == 0)
                    note('undefined symbols', und, rel)
                elif name == b'.modinfo':
                    note('.modinfo strings', strings(body), rel)
                elif name == b'__versions':
                    note('__versions entries', size // 64, rel)
                elif name == b'__ksymtab_strings':
                    note('__ksymtab_strings', strings(body), rel)
print(f'{count} modules')
for k, (v, p) in best.items():
    print(f'{k:20} {v:>12,}  {p}')
PY
