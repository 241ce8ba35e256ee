#include "base/proc-modules.h"

#include <gtest/gtest.h>

using namespace kmx;

TEST(ProcModules, ParsesUsersStateAndTaints) {
  const char *text =
      "kmx_lab_b 16384 0 - Live 0xffffffffc0a20000 (OE)\n"
      "kmx_lab_a 16384 1 kmx_lab_b, Live 0x0000000000000000 (OE)\n"
      "parport 73728 2 ppdev,lp, Loading 0xffffffffc0900000\n";
  auto r = parse_proc_modules(text);
  ASSERT_TRUE(r) << r.error().msg;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].name, "kmx_lab_b");
  EXPECT_TRUE((*r)[0].users.empty());
  EXPECT_EQ((*r)[0].taints, "OE");
  EXPECT_EQ((*r)[1].refcnt, 1);
  EXPECT_EQ((*r)[1].users, std::vector<std::string>{"kmx_lab_b"});
  EXPECT_EQ((*r)[2].users, (std::vector<std::string>{"ppdev", "lp"}));
  EXPECT_EQ((*r)[2].state, "Loading");
  EXPECT_EQ((*r)[2].size, 73728);
  EXPECT_EQ((*r)[2].taints, "");
}

TEST(ProcModules, RefcountDashMeansNoUnload) {
  auto r = parse_proc_modules("foo 100 - - Live 0x0\n");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].refcnt, -1);
}

TEST(ProcModules, EmptyAndLastLineWithoutNewline) {
  auto r = parse_proc_modules("");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  r = parse_proc_modules("foo 1 0 - Live 0x0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 1u);
}

TEST(ProcModules, MalformedLinesNameTheLine) {
  struct Case {
    const char *text, *msg;
  } cases[] = {
      {"ok 1 0 - Live 0x0\nshort 1 0\n", "/proc/modules:2: expected at least 6 fields, found 3"},
      {"foo big 0 - Live 0x0\n", "/proc/modules:1: size 'big' is not a number"},
      {"foo 1 x - Live 0x0\n", "/proc/modules:1: refcount 'x' is not a number"},
  };
  for (const Case &c : cases) {
    auto r = parse_proc_modules(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().msg, c.msg);
    EXPECT_EQ(r.error().code, Errc::invalid_format);
  }
}
