// Module file compression: detection by magic bytes and capped decompression.
//
// Formats (as kmod and the kernel's MODULE_INIT_COMPRESSED_FILE recognise them):
//   zstd  28 b5 2f fd           (libzstd, frames may omit the content size)
//   xz    fd 37 7a 58 5a 00     (liblzma stream decoder, multi-stream, any check)
//   gzip  1f 8b                 (zlib inflate with gzip header)
// Anything else is treated as uncompressed. The file name (.ko.xz etc.) is never consulted.
// Every decoder stops with Errc::too_large once the output would exceed `limit`, so a
// hostile "zip bomb" costs at most `limit` bytes of memory.
#pragma once

#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace kmx {

enum class Compression { none, gzip, xz, zstd };

Compression detect_compression(ByteView data);
std::string_view compression_name(Compression c);  // "none", "gzip", "xz", "zstd"

// Default cap on a decompressed module: larger than any real module (amdgpu is ~40 MB
// decompressed with debug info stripped), small enough to refuse bombs.
constexpr u64 default_decompress_limit = 1ull << 30;

// Decompress `data` of the given format into an owned buffer (at most `limit` bytes).
Result<Bytes> decompress(Compression c, ByteView data, u64 limit = default_decompress_limit);

}  // namespace kmx
