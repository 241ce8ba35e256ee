#include "decompress/decompress.h"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
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

std::string too_large_msg(u64 limit) {
  return "decompressed size exceeds the limit of " + std::to_string(limit) + " bytes";
}

// Output past this size is held by one decoder at a time in the whole process, so N workers
// cost at most N x large_output + limit, not N x limit. It is above every real module
// (the largest, amdgpu on 6.12, is 29 MB unpacked), so real trees never wait on it.
constexpr size_t large_output = 64ull << 20;

std::mutex &large_output_gate() {
  static std::mutex m;
  return m;
}

// Where a decoder writes: one Buffer reserved at limit + 1 bytes (a stream that reaches the
// extra byte is too large), handed out in windows so that a decoder passing large_output
// first takes the gate.
class Sink {
public:
  static Result<Sink> make(u64 limit) {
    Sink s;
    s.limit_ = limit;
    TRY_ASSIGN(s.buf_, Buffer::reserve(static_cast<size_t>(std::min<u64>(limit, SIZE_MAX - 1) + 1)));
    return s;
  }
  ~Sink() {
    if (gated_) large_output_gate().unlock();
  }
  Sink(Sink &&o) noexcept : buf_(std::move(o.buf_)), used_(o.used_), limit_(o.limit_), gated_(o.gated_) { o.gated_ = false; }
  Sink &operator=(Sink &&) = delete;

  // The next window to write into (never empty unless the capacity is used up).
  u8 *next() { return buf_.data() + used_; }
  size_t room() {
    if (!gated_ && used_ >= large_output) {
      large_output_gate().lock();
      gated_ = true;
    }
    size_t end = gated_ ? buf_.capacity() : std::min<size_t>(buf_.capacity(), large_output);
    return end - used_;
  }
  void wrote(size_t n) { used_ += n; }
  size_t used() const { return used_; }
  bool over_limit() const { return used_ > limit_; }
  Result<Buffer> finish() {
    if (over_limit()) return fail(Errc::too_large, too_large_msg(limit_));
    buf_.set_size(used_);
    return std::move(buf_);
  }

private:
  Sink() = default;
  Buffer buf_;
  size_t used_ = 0;
  u64 limit_ = 0;
  bool gated_ = false;
};

Result<Buffer> too_large(const char *what, u64 limit) { return fail(Errc::too_large, std::string(what) + ": " + too_large_msg(limit)); }

// xz, or (`alone`) the legacy .lzma format: one liblzma loop, two decoders.
Result<Buffer> unxz(ByteView in, u64 limit, bool alone = false) {
  const char *name = alone ? "lzma" : "xz";
  TRY_ASSIGN(Sink out, Sink::make(limit));
  lzma_stream s = LZMA_STREAM_INIT;
  lzma_ret init = alone ? lzma_alone_decoder(&s, UINT64_MAX) : lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED);
  if (init != LZMA_OK) return fail(Errc::io, std::string(name) + ": cannot initialise decoder");
  s.next_in = in.data();
  s.avail_in = in.size();
  lzma_ret r;
  for (;;) {
    size_t room = out.room();
    if (room == 0 || out.over_limit()) {
      lzma_end(&s);
      return too_large(name, limit);
    }
    s.next_out = out.next();
    s.avail_out = room;
    r = lzma_code(&s, LZMA_FINISH);
    out.wrote(room - s.avail_out);
    if (r == LZMA_STREAM_END) break;
    if (r != LZMA_OK) {
      lzma_end(&s);
      const char *why = r == LZMA_DATA_ERROR   ? "corrupt data"
                        : r == LZMA_BUF_ERROR  ? "truncated input"
                        : r == LZMA_FORMAT_ERROR ? (alone ? "not an lzma stream" : "not an xz stream")
                        : r == LZMA_MEM_ERROR  ? "out of memory"
                                               : "decoder error";
      return bad_stream(std::string(name) + ": " + why + " (lzma_ret " + std::to_string(r) + ")");
    }
  }
  lzma_end(&s);
  if (out.over_limit()) return too_large(name, limit);
  return out.finish();
}

Result<Buffer> unzstd(ByteView in, u64 limit) {
  TRY_ASSIGN(Sink out, Sink::make(limit));
  ZSTD_DStream *z = ZSTD_createDStream();
  if (!z) return fail(Errc::io, "zstd: cannot initialise decoder");
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t ret = 1;
  // Until the input is consumed, then until the decoder has flushed a complete final frame.
  while (ib.pos < ib.size || ret != 0) {
    size_t room = out.room();
    if (room == 0 || out.over_limit()) {
      ZSTD_freeDStream(z);
      return too_large("zstd", limit);
    }
    ZSTD_outBuffer ob{out.next(), room, 0};
    size_t in_before = ib.pos;
    ret = ZSTD_decompressStream(z, &ob, &ib);
    out.wrote(ob.pos);
    if (ZSTD_isError(ret)) {
      std::string why = ZSTD_getErrorName(ret);
      ZSTD_freeDStream(z);
      return bad_stream("zstd: " + why);
    }
    if (ret != 0 && ib.pos == ib.size && ib.pos == in_before && ob.pos < ob.size) {
      ZSTD_freeDStream(z);
      return bad_stream("zstd: truncated input");
    }
  }
  ZSTD_freeDStream(z);
  if (out.over_limit()) return too_large("zstd", limit);
  return out.finish();
}

Result<Buffer> gunzip(ByteView in, u64 limit) {
  TRY_ASSIGN(Sink out, Sink::make(limit));
  z_stream s{};
  if (inflateInit2(&s, 15 + 16) != Z_OK) return fail(Errc::io, "gzip: cannot initialise decoder");
  s.next_in = const_cast<Bytef *>(in.data());
  size_t in_left = in.size();
  for (;;) {
    size_t room = out.room();
    if (room == 0 || out.over_limit()) {
      inflateEnd(&s);
      return too_large("gzip", limit);
    }
    uInt in_chunk = static_cast<uInt>(std::min<size_t>(in_left, 1u << 30));
    s.avail_in = in_chunk;
    uInt out_chunk = static_cast<uInt>(std::min<size_t>(room, 1u << 30));
    s.next_out = out.next();
    s.avail_out = out_chunk;
    int r = inflate(&s, Z_NO_FLUSH);
    in_left -= in_chunk - s.avail_in;
    out.wrote(out_chunk - s.avail_out);
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
  if (out.over_limit()) return too_large("gzip", limit);
  return out.finish();
}

}  // namespace

Result<Buffer> decompress_lzma_alone(ByteView data, u64 limit) { return unxz(data, limit, true); }

Result<Buffer> decompress(Compression c, ByteView data, u64 limit) {
  switch (c) {
  case Compression::xz: return unxz(data, limit);
  case Compression::zstd: return unzstd(data, limit);
  case Compression::gzip: return gunzip(data, limit);
  case Compression::none:
    if (data.size() > limit) return fail(Errc::too_large, too_large_msg(limit));
    return Buffer::copy_of(data);
  }
  return fail(Errc::unsupported, "unknown compression");
}

}  // namespace kmx
