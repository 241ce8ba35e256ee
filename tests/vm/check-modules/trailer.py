#!/usr/bin/env python3
"""Write a copy of a signed module with its signature trailer edited (struct module_signature:
u8 algo, hash, id_type, signer_len, key_id_len, pad[3]; be32 sig_len; then the marker):
  trailer.py IN OUT id-type N        id_type N (0 PGP, 1 X509: not PKCS#7)
  trailer.py IN OUT algo N           a non-zero algo byte
  trailer.py IN OUT pad              a non-zero __pad byte
  trailer.py IN OUT sig-trunc        the PKCS#7 message cut to half (sig_len follows)
  trailer.py IN OUT sig-junk         the PKCS#7 message replaced by bytes that are no DER
  trailer.py IN OUT sig-len-big      sig_len larger than the file
  trailer.py IN OUT authattrs K C    re-signed by openssl cms with its default signed attributes
                                     (S/MIME capabilities among them; key K, cert C)
  trailer.py IN OUT authattrs-nocap K C   the same with -nosmimecap
"""
import os
import struct
import subprocess
import sys
import tempfile

MARKER = b'~Module signature appended~\n'


def split(data):
    if not data.endswith(MARKER):
        sys.exit('not signed')
    end = len(data) - len(MARKER)
    hdr = bytearray(data[end - 12:end])
    sig_len, = struct.unpack('>I', hdr[8:12])
    body = data[:end - 12 - sig_len]
    return body, hdr, data[end - 12 - sig_len:end - 12]


def join(body, hdr, sig):
    return body + sig + bytes(hdr) + MARKER


def main():
    src, dst, op = sys.argv[1:4]
    body, hdr, sig = split(open(src, 'rb').read())
    if op == 'id-type':
        hdr[2] = int(sys.argv[4])
    elif op == 'algo':
        hdr[0] = int(sys.argv[4])
    elif op == 'pad':
        hdr[7] = 1
    elif op == 'sig-trunc':
        sig = sig[:len(sig) // 2]
        hdr[8:12] = struct.pack('>I', len(sig))
    elif op == 'sig-junk':
        sig = bytes((i * 37 + 11) & 0xff for i in range(len(sig)))
    elif op == 'sig-len-big':
        hdr[8:12] = struct.pack('>I', len(body) + len(sig) + 4096)
    elif op in ('authattrs', 'authattrs-nocap'):
        with tempfile.TemporaryDirectory() as t:
            m = os.path.join(t, 'm')
            open(m, 'wb').write(body)
            subprocess.run(['openssl', 'cms', '-sign', '-binary', '-nocerts', '-md', 'sha256',
                            '-in', m, '-signer', sys.argv[5], '-inkey', sys.argv[4], '-outform', 'DER',
                            '-out', m + '.p7s'] + (['-nosmimecap'] if op == 'authattrs-nocap' else []), check=True)
            sig = open(m + '.p7s', 'rb').read()
        hdr[8:12] = struct.pack('>I', len(sig))
    else:
        sys.exit(f'unknown op {op}')
    open(dst, 'wb').write(join(body, hdr, sig))


main()
