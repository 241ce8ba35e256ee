#!/usr/bin/env python3
"""Edit a built test module in place (ELF64 little-endian relocatable), same-length edits only:
  patch.py FILE versions-crc SYM          flip the low bit of SYM's CRC in __versions
  patch.py FILE versions-rename SYM NEW   rename SYM's __versions entry (len(NEW) == len(SYM))
  patch.py FILE section-rename OLD NEW    rename a section (same length)
  patch.py FILE modinfo OLD NEW           replace the .modinfo string OLD by NEW (same length)
  patch.py FILE flip SECTION              invert the first byte of SECTION (breaks a signature)
"""
import struct
import sys


def sections(data):
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3a)
    hdrs = []
    for i in range(shnum):
        name, typ, flags, addr, off, size = struct.unpack_from('<IIQQQQ', data, shoff + i * shentsize)
        hdrs.append((name, off, size))
    stroff = hdrs[shstrndx][1]
    out = {}
    for name, off, size in hdrs:
        end = data.index(b'\0', stroff + name)
        out[data[stroff + name:end].decode()] = (off, size, stroff + name)
    return out


def main():
    path, op = sys.argv[1], sys.argv[2]
    data = bytearray(open(path, 'rb').read())
    secs = sections(data)
    if op in ('versions-crc', 'versions-rename'):
        off, size, _ = secs['__versions']
        sym = sys.argv[3].encode()
        for e in range(off, off + size, 64):
            name = bytes(data[e + 8:e + 64]).split(b'\0')[0]
            if name == sym:
                if op == 'versions-crc':
                    data[e] ^= 1
                else:
                    new = sys.argv[4].encode()
                    assert len(new) == len(sym)
                    data[e + 8:e + 8 + len(new)] = new
                break
        else:
            sys.exit(f'{path}: {sys.argv[3]} not in __versions')
    elif op == 'section-rename':
        old, new = sys.argv[3].encode(), sys.argv[4].encode()
        assert len(old) == len(new)
        _, _, nameoff = secs[sys.argv[3]]
        data[nameoff:nameoff + len(new)] = new
    elif op == 'modinfo':
        old, new = sys.argv[3].encode() + b'\0', sys.argv[4].encode() + b'\0'
        assert len(old) == len(new)
        off, size, _ = secs['.modinfo']
        at = data.find(old, off, off + size)
        if at < 0:
            sys.exit(f'{path}: {sys.argv[3]!r} not in .modinfo')
        data[at:at + len(new)] = new
    elif op == 'flip':
        off, size, _ = secs[sys.argv[3]]
        if size == 0:
            sys.exit(f'{path}: {sys.argv[3]} is empty')
        data[off] ^= 0xff
    else:
        sys.exit(f'unknown op {op}')
    open(path, 'wb').write(data)


main()
