#include "decompress/decompress.h"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <string>

namespace kmx {

Compression detect_compression(ByteView d) {
  static const u8 zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};
  static const u8 xz_magic[] = {0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00};
  static const u8 gz_magic[] = {0x1f, 0x8b};
  if (d.starts_with(ByteView(zstd_magic, sizeof zstd_magic))) return Compression::zstd;
  if (d.starts_with(ByteView(xz_magic, sizeof xz_magic))) return Compression::xz;
  if (d.starts_with(ByteView(gz_magic, sizeof gz_magic))) return Compression::gzip;
  return Compression::none;
}

std::string_view compression_name(Compression c) {
  switch (c) {
  case Compression::none: return "none";
  case Compression::gzip: return "gzip";
  case Compression::xz: return "xz";
  case Compression::zstd: return "zstd";
  }
  return "none";
}

namespace {

// A corrupt or truncated stream. kmod's decoders report EINVAL for these; keep its errno.
Failure bad_stream(std::string msg) { return Failure{Error{Errc::invalid_format, std::move(msg), EINVAL}}; }

// Grow `out` geometrically, never past `limit`; false once the limit is reached.
bool grow(Bytes &out, size_t used, u64 limit) {
  if (used < out.size()) return true;
  if (out.size() >= limit) return false;
  u64 next = std::max<u64>(out.size() * 2, 1 << 16);
  out.resize(static_cast<size_t>(std::min<u64>(next, limit)));
  return true;
}

std::string too_large_msg(u64 limit) {
  return "decompressed size exceeds the limit of " + std::to_string(limit) + " bytes";
}

Result<Bytes> unxz(ByteView in, u64 limit) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
    return fail(Errc::io, "xz: cannot initialise decoder");
  Bytes out(std::min<u64>(in.size() * 4 + 4096, limit));
  s.next_in = in.data();
  s.avail_in = in.size();
  size_t used = 0;
  lzma_ret r;
  for (;;) {
    if (!grow(out, used, limit)) {
      lzma_end(&s);
      return fail(Errc::too_large, "xz: " + too_large_msg(limit));
    }
    s.next_out = out.data() + used;
    s.avail_out = out.size() - used;
    r = lzma_code(&s, LZMA_FINISH);
    used = out.size() - s.avail_out;
    if (r == LZMA_STREAM_END) break;
    if (r != LZMA_OK) {
      lzma_end(&s);
      const char *why = r == LZMA_DATA_ERROR   ? "corrupt data"
                        : r == LZMA_BUF_ERROR  ? "truncated input"
                        : r == LZMA_FORMAT_ERROR ? "not an xz stream"
                        : r == LZMA_MEM_ERROR  ? "out of memory"
                                               : "decoder error";
      return bad_stream(std::string("xz: ") + why + " (lzma_ret " + std::to_string(r) + ")");
    }
  }
  lzma_end(&s);
  out.resize(used);
  return out;
}

Result<Bytes> unzstd(ByteView in, u64 limit) {
  ZSTD_DStream *z = ZSTD_createDStream();
  if (!z) return fail(Errc::io, "zstd: cannot initialise decoder");
  Bytes out(std::min<u64>(in.size() * 4 + 4096, limit));
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t used = 0;
  size_t ret = 1;
  while (ib.pos < ib.size) {
    if (!grow(out, used, limit)) {
      ZSTD_freeDStream(z);
      return fail(Errc::too_large, "zstd: " + too_large_msg(limit));
    }
    ZSTD_outBuffer ob{out.data(), out.size(), used};
    ret = ZSTD_decompressStream(z, &ob, &ib);
    used = ob.pos;
    if (ZSTD_isError(ret)) {
      std::string why = ZSTD_getErrorName(ret);
      ZSTD_freeDStream(z);
      return bad_stream("zstd: " + why);
    }
  }
  // Flush anything the decoder still holds for a complete final frame.
  while (ret != 0) {
    if (!grow(out, used, limit)) {
      ZSTD_freeDStream(z);
      return fail(Errc::too_large, "zstd: " + too_large_msg(limit));
    }
    ZSTD_outBuffer ob{out.data(), out.size(), used};
    size_t before = used;
    ret = ZSTD_decompressStream(z, &ob, &ib);
    used = ob.pos;
    if (ZSTD_isError(ret)) {
      std::string why = ZSTD_getErrorName(ret);
      ZSTD_freeDStream(z);
      return bad_stream("zstd: " + why);
    }
    if (ret != 0 && used == before && ob.pos < ob.size) {
      ZSTD_freeDStream(z);
      return bad_stream("zstd: truncated input");
    }
  }
  ZSTD_freeDStream(z);
  out.resize(used);
  return out;
}

Result<Bytes> gunzip(ByteView in, u64 limit) {
  z_stream s{};
  if (inflateInit2(&s, 15 + 16) != Z_OK) return fail(Errc::io, "gzip: cannot initialise decoder");
  Bytes out(std::min<u64>(in.size() * 4 + 4096, limit));
  s.next_in = const_cast<Bytef *>(in.data());
  size_t in_left = in.size();
  size_t used = 0;
  for (;;) {
    if (!grow(out, used, limit)) {
      inflateEnd(&s);
      return fail(Errc::too_large, "gzip: " + too_large_msg(limit));
    }
    uInt in_chunk = static_cast<uInt>(std::min<size_t>(in_left, 1u << 30));
    s.avail_in = in_chunk;
    uInt out_chunk = static_cast<uInt>(std::min<size_t>(out.size() - used, 1u << 30));
    s.next_out = out.data() + used;
    s.avail_out = out_chunk;
    int r = inflate(&s, Z_NO_FLUSH);
    in_left -= in_chunk - s.avail_in;
    used += out_chunk - s.avail_out;
    if (r == Z_STREAM_END) break;
    if (r == Z_BUF_ERROR && in_left == 0 && s.avail_out != 0) {
      inflateEnd(&s);
      return bad_stream("gzip: truncated input");
    }
    if (r != Z_OK && r != Z_BUF_ERROR) {
      std::string why = s.msg ? s.msg : "corrupt data";
      inflateEnd(&s);
      return bad_stream("gzip: " + why);
    }
  }
  inflateEnd(&s);
  out.resize(used);
  return out;
}

}  // namespace

Result<Bytes> decompress(Compression c, ByteView data, u64 limit) {
  switch (c) {
  case Compression::xz: return unxz(data, limit);
  case Compression::zstd: return unzstd(data, limit);
  case Compression::gzip: return gunzip(data, limit);
  case Compression::none:
    if (data.size() > limit) return fail(Errc::too_large, too_large_msg(limit));
    return Bytes(data.begin(), data.end());
  }
  return fail(Errc::unsupported, "unknown compression");
}

}  // namespace kmx
