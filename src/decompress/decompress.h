// Module file compression: detection by magic bytes and capped decompression.
//
// Formats (as kmod and the kernel's MODULE_INIT_COMPRESSED_FILE recognise them):
//   zstd  28 b5 2f fd           (libzstd, frames may omit the content size)
//   xz    fd 37 7a 58 5a 00     (liblzma stream decoder, multi-stream, any check)
//   gzip  1f 8b                 (zlib inflate with gzip header)
// Anything else is treated as uncompressed. The file name (.ko.xz etc.) is never consulted.
// Every decoder writes into one Buffer (base/buffer.h: reserved address space, resident only
// as written, never copied while it grows) and stops with Errc::too_large once the output
// would exceed `limit`, so a hostile "zip bomb" costs at most `limit` bytes of memory. Output
// past 64 MiB is produced by one decoder at a time in the process: N parallel workers on N
// bombs cost N x 64 MiB + limit, not N x limit.
#pragma once

#include <string_view>

#include "base/buffer.h"
#include "base/bytes.h"
#include "base/result.h"

namespace kmx {

enum class Compression { none, gzip, xz, zstd };

Compression detect_compression(ByteView data);
std::string_view compression_name(Compression c);  // "none", "gzip", "xz", "zstd"

// Default cap on a decompressed module. The largest modules of five Debian trees (6.1 amd64,
// i386, arm64, signed; 6.12 amd64) are amdgpu: 19.4 MB (6.1) and 29.3 MB (6.12) unpacked; a
// large out-of-tree module such as NVIDIA's proprietary nvidia.ko is about 100 MB. 256 MiB
// is 2.5x that and 9x amdgpu (bench/module-limits.sh measures them).
constexpr u64 default_decompress_limit = 256ull << 20;

// Decompress `data` of the given format into an owned buffer (at most `limit` bytes).
Result<Buffer> decompress(Compression c, ByteView data, u64 limit = default_decompress_limit);

// The legacy .lzma ("alone") format: not a module format, but the payload of kernel images
// built with CONFIG_KERNEL_LZMA (kernel-image certificates, compat/kernel-keys.h). Same cap.
Result<Buffer> decompress_lzma_alone(ByteView data, u64 limit = default_decompress_limit);

}  // namespace kmx
