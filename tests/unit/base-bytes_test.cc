#include "base/bytes.h"

#include <gtest/gtest.h>

using namespace kmx;

TEST(ByteView, SubRejectsOverflowingRanges) {
  u8 buf[8] = {};
  ByteView v(buf, sizeof buf);
  EXPECT_TRUE(v.sub(0, 8));
  EXPECT_TRUE(v.sub(8, 0));
  EXPECT_FALSE(v.sub(9, 0));
  EXPECT_FALSE(v.sub(4, 5));
  EXPECT_FALSE(v.sub(1, UINT64_MAX));
  EXPECT_FALSE(v.sub(UINT64_MAX, 2));
}

TEST(Cursor, ReadPastEndIsSticky) {
  u8 buf[6] = {0, 0, 0, 7, 0xaa, 0xbb};
  Cursor c(ByteView(buf, sizeof buf));
  EXPECT_EQ(c.be32(), 7u);
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.be32(), 0u);  // only 2 bytes left
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.pos(), 4u);   // a failed read does not advance
  EXPECT_EQ(c.u8v(), 0u);   // and the error sticks
  EXPECT_FALSE(c.ok());
}

TEST(Cursor, CstrNeedsTerminator) {
  const char s[] = {'a', 'b', 0, 'c'};
  Cursor c(ByteView(reinterpret_cast<const u8 *>(s), sizeof s));
  EXPECT_EQ(c.cstr(), "ab");
  EXPECT_EQ(c.cstr(), "");
  EXPECT_FALSE(c.ok());
}

TEST(Endian, LoadsBothOrders) {
  u8 b[4] = {1, 2, 3, 4};
  EXPECT_EQ((load<u32, true>(b)), 0x04030201u);
  EXPECT_EQ((load<u32, false>(b)), 0x01020304u);
  Bytes out;
  put_be32(out, 0xB007F457);
  EXPECT_EQ(out, (Bytes{0xB0, 0x07, 0xF4, 0x57}));
}
