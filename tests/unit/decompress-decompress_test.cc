#include "decompress/decompress.h"

#include <gtest/gtest.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <string>

using namespace kmx;

namespace {

// Reference encoders from the same libraries, so the decoder is tested against real streams.
Bytes xz_encode(const Bytes &in) {
  Bytes out(lzma_stream_buffer_bound(in.size()));
  size_t pos = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, in.data(), in.size(), out.data(), &pos, out.size()),
            LZMA_OK);
  out.resize(pos);
  return out;
}

Bytes zstd_encode(const Bytes &in) {
  Bytes out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

Bytes gzip_encode(const Bytes &in) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  Bytes out(deflateBound(&s, in.size()) + 32);
  s.next_in = const_cast<Bytef *>(in.data());
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

Bytes sample(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; i++) b[i] = static_cast<u8>((i * 131) ^ (i >> 7));
  return b;
}

struct Case {
  const char *name;
  Compression c;
  Bytes (*enc)(const Bytes &);
};

const Case cases[] = {
    {"xz", Compression::xz, xz_encode},
    {"zstd", Compression::zstd, zstd_encode},
    {"gzip", Compression::gzip, gzip_encode},
};

}  // namespace

TEST(Decompress, DetectsByMagicNotName) {
  Bytes plain = sample(1000);
  EXPECT_EQ(detect_compression(plain), Compression::none);
  for (const Case &k : cases) EXPECT_EQ(detect_compression(k.enc(plain)), k.c) << k.name;
}

TEST(Decompress, RoundTripsEachFormat) {
  Bytes plain = sample(300000);
  for (const Case &k : cases) {
    auto r = decompress(k.c, k.enc(plain));
    ASSERT_TRUE(r) << k.name << ": " << r.error().msg;
    EXPECT_EQ(Bytes(r->begin(), r->end()), plain) << k.name;
  }
}

TEST(Decompress, OutputIsCapped) {
  Bytes plain(1 << 20, 0);  // compresses extremely well: a miniature bomb
  for (const Case &k : cases) {
    auto r = decompress(k.c, k.enc(plain), 4096);
    ASSERT_FALSE(r) << k.name;
    EXPECT_EQ(r.error().code, Errc::too_large) << k.name;
  }
}

TEST(Decompress, TruncatedInputIsAnError) {
  Bytes plain = sample(100000);
  for (const Case &k : cases) {
    Bytes z = k.enc(plain);
    z.resize(z.size() / 2);
    auto r = decompress(k.c, z);
    ASSERT_FALSE(r) << k.name;
    EXPECT_EQ(r.error().code, Errc::invalid_format) << k.name << ": " << r.error().msg;
  }
}

// The legacy .lzma format of CONFIG_KERNEL_LZMA images: same decoder loop, same cap.
TEST(Decompress, LzmaAloneForKernelImages) {
  Bytes in(300000);
  for (size_t i = 0; i < in.size(); i++) in[i] = static_cast<u8>((i * 7) ^ (i >> 9));
  lzma_stream s = LZMA_STREAM_INIT;
  lzma_options_lzma opt;
  ASSERT_FALSE(lzma_lzma_preset(&opt, 6));
  ASSERT_EQ(lzma_alone_encoder(&s, &opt), LZMA_OK);
  Bytes enc(in.size() + 65536);
  s.next_in = in.data();
  s.avail_in = in.size();
  s.next_out = enc.data();
  s.avail_out = enc.size();
  ASSERT_EQ(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
  enc.resize(enc.size() - s.avail_out);
  lzma_end(&s);
  auto out = decompress_lzma_alone(ByteView(enc));
  ASSERT_TRUE(out) << out.error().msg;
  ASSERT_EQ(out->size(), in.size());
  EXPECT_TRUE(std::equal(in.begin(), in.end(), out->data()));
  auto small = decompress_lzma_alone(ByteView(enc), 1000);
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().code, Errc::too_large);
  Bytes junk(64, 0xff);
  auto bad = decompress_lzma_alone(ByteView(junk));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find("lzma:"), std::string::npos) << bad.error().msg;
}
