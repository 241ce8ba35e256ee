#include "base/buffer.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstring>

namespace kmx {
namespace {

long peak_rss_kb() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

TEST(Buffer, ReservationCostsOnlyWhatIsWritten) {
  long before = peak_rss_kb();
  auto b = Buffer::reserve(size_t(1) << 30);  // 1 GiB of address space
  ASSERT_TRUE(b) << b.error().msg;
  EXPECT_EQ(b->capacity(), size_t(1) << 30);
  EXPECT_EQ(b->size(), 0u);
  std::memset(b->data(), 0xab, 4 << 20);
  b->set_size(4 << 20);
  EXPECT_EQ(ByteView(*b).size(), size_t(4) << 20);
  EXPECT_EQ((*b).begin()[123], 0xab);
  // 4 MiB written: far below the 1 GiB reserved.
  EXPECT_LT(peak_rss_kb() - before, 64 << 10);
}

TEST(Buffer, CopyMoveAndReuse) {
  const u8 text[] = {'k', 'm', 'x'};
  auto c = Buffer::copy_of(ByteView(text, 3));
  ASSERT_TRUE(c);
  EXPECT_EQ(ByteView(*c).as_string(), "kmx");
  Buffer moved = std::move(*c);
  EXPECT_EQ(ByteView(moved).as_string(), "kmx");
  EXPECT_EQ(c->size(), 0u);
  {
    auto big = Buffer::reserve(64 << 20);
    ASSERT_TRUE(big);
    std::memset(big->data(), 1, 1 << 20);
  }
  // The next reservation may reuse the released mapping; its bytes are the caller's to write.
  auto again = Buffer::reserve(64 << 20);
  ASSERT_TRUE(again);
  std::memset(again->data(), 2, 16);
  again->set_size(16);
  EXPECT_EQ(again->data()[15], 2);
  auto empty = Buffer::reserve(0);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace kmx
