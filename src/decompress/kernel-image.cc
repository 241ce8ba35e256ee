#include "decompress/kernel-image.h"

#include <fmt/core.h>

#include "decompress/decompress.h"

namespace kmx {

namespace {

std::string hex4(ByteView b) {
  std::string s;
  for (size_t i = 0; i < b.size() && i < 4; i++) s += fmt::format("{:02x}", b[i]);
  return s;
}

bool lzma_alone(ByteView b) { return b.size() > 13 && b[0] == 0x5d; }

}  // namespace

bool looks_like_kernel_image(ByteView d) {
  return (d.size() >= 0x250 && d.as_string().substr(0x202, 4) == "HdrS") ||
         (d.size() >= 2 && d[0] == 'M' && d[1] == 'Z');
}

Result<Buffer> kernel_image_payload(ByteView file, std::string &how) {
  if (file.size() >= 0x250 && file.as_string().substr(0x202, 4) == "HdrS") {
    u16 version = *file.read<u16, true>(0x206);
    if (version < 0x208)
      return fail(Errc::unsupported, fmt::format("bzImage boot protocol {:#x} has no payload fields (need 2.08+)", version));
    u32 setup_sects = file[0x1f1] ? file[0x1f1] : 4;
    u64 base = (u64(setup_sects) + 1) * 512;
    u32 po = *file.read<u32, true>(0x248), pl = *file.read<u32, true>(0x24c);
    auto payload = file.sub(base + po, pl);
    if (!payload || pl < 8)
      return fail(Errc::invalid_format,
                  fmt::format("bzImage payload at {:#x}+{:#x} ({} bytes) does not fit the {} byte file", base, po, pl, file.size()));
    // The payload ends with the decompressed size (LE u32) that the decompressor stub reads.
    ByteView body = *payload->sub(0, payload->size() - 4);
    Compression c = detect_compression(body);
    if (c != Compression::none) {
      how = std::string(compression_name(c)) + " payload of the bzImage";
      return decompress(c, body, kernel_image_limit);
    }
    if (lzma_alone(body)) {
      how = "lzma payload of the bzImage";
      return decompress_lzma_alone(body, kernel_image_limit);
    }
    return fail(Errc::unsupported,
                fmt::format("bzImage payload compression not supported (magic {}): kmx reads xz, zstd, gzip and lzma",
                            hex4(body)));
  }
  if (file.size() >= 0x40 && file.as_string().substr(0, 2) == "MZ" && file.as_string().substr(4, 4) == "zimg") {
    u32 po = *file.read<u32, true>(8), pl = *file.read<u32, true>(12);
    auto payload = file.sub(po, pl);
    std::string type(file.as_string().substr(0x18, 32));
    type = type.substr(0, type.find('\0'));
    if (!payload) return fail(Errc::invalid_format, fmt::format("zboot payload at {:#x} ({} bytes) does not fit the {} byte file", po, pl, file.size()));
    Compression c = detect_compression(*payload);
    if (c == Compression::none && !lzma_alone(*payload))
      return fail(Errc::unsupported, "zboot payload compression '" + type + "' not supported: kmx reads xz, zstd, gzip and lzma");
    how = (c == Compression::none ? std::string("lzma") : std::string(compression_name(c))) + " payload of the EFI zboot image";
    return c == Compression::none ? decompress_lzma_alone(*payload, kernel_image_limit) : decompress(c, *payload, kernel_image_limit);
  }
  if (file.size() >= 0x40 && file.as_string().substr(0, 2) == "MZ") {
    how = "uncompressed image";
    return Buffer::copy_of(file);
  }
  Compression c = detect_compression(file);
  if (c != Compression::none) {
    how = std::string(compression_name(c)) + "-compressed image";
    return decompress(c, file, kernel_image_limit);
  }
  if (file.size() >= 4 && file.as_string().substr(0, 4) == "\x7f" "ELF") {
    how = "ELF image";
    return Buffer::copy_of(file);
  }
  return fail(Errc::invalid_format, "not a kernel image (no bzImage header, no gzip/xz/zstd magic, not ELF)");
}

}  // namespace kmx
