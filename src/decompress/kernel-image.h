// The kernel inside a kernel image file: the decompressed vmlinux (or arm64's Image) that a
// boot loader's image wraps. Kernel-image certificates (compat/kernel-keys.h) and vmlinux BTF
// (btf/btf.h) are both read from it.
//
// Recognised wrappers:
//   x86 bzImage   "HdrS" at 0x202; setup_sects at 0x1f1, payload_offset and payload_length at
//                 0x248/0x24c (LE, boot protocol 2.08+): the payload is the compressed vmlinux
//                 (Debian amd64: xz for 6.1, zstd for 6.12; also gzip, and lzma via liblzma),
//                 followed by its decompressed size as a LE u32.
//   EFI zboot     "MZ" with "zimg" at 4 (arm64/riscv/loongarch): payload offset and size at 8/12,
//                 compression name at 0x18.
//   EFI Image     "MZ" otherwise: an uncompressed EFI-stub image, taken as is.
//   gzip/xz/zstd  a compressed file (arm64's vmlinuz is a gzip'd Image).
//   ELF           a plain vmlinux, taken as is.
#pragma once

#include <string>

#include "base/buffer.h"
#include "base/bytes.h"
#include "base/result.h"

namespace kmx {

// Cap on a decompressed kernel (Debian's 6.12 amd64 vmlinux is about 70 MB).
constexpr u64 kernel_image_limit = 1ull << 30;

// The decompressed kernel of `file`; `how` says how it was found ("xz payload of the bzImage").
Result<Buffer> kernel_image_payload(ByteView file, std::string &how);

// Whether `data` starts like a bzImage or an EFI (MZ) image.
bool looks_like_kernel_image(ByteView data);

}  // namespace kmx
