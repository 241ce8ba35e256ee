// Unit tests for the kernel profile parsers (compat/kernel-profile.cc) and abi-diff.
#include <gtest/gtest.h>

#include "compat/abi-diff.h"
#include "compat/kernel-profile.h"

using namespace kmx;

TEST(KernelProfile, ModuleSymvers) {
  KernelProfile p;
  ASSERT_TRUE(parse_module_symvers("0x0000abcd\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n"
                                   "0x00001234\tbar\tdrivers/x/bar-mod\tEXPORT_SYMBOL_GPL\tNS\n",
                                   "S", p));
  ASSERT_EQ(p.exports.size(), 2u);
  EXPECT_EQ(p.exports["foo"].owner, "vmlinux");
  EXPECT_EQ(*p.exports["foo"].crc, 0xabcdu);
  EXPECT_EQ(p.exports["bar"].owner, "bar_mod");
  EXPECT_EQ(p.exports["bar"].license, ExportLicense::gpl);
  EXPECT_EQ(p.exports["bar"].ns, "NS");
  auto bad = parse_module_symvers("0x1\tfoo\n", "Module.symvers", p);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find("Module.symvers:1:"), std::string::npos);
}

TEST(KernelProfile, SystemMapAndDebianPlaceholder) {
  KernelProfile p;
  ASSERT_TRUE(parse_system_map("ffffffff81000000 T _stext\nffffffff82000000 r __ksymtab_foo\n", "M", p));
  EXPECT_TRUE(p.exports.contains("foo"));
  EXPECT_FALSE(p.exports["foo"].crc);
  KernelProfile q;
  EXPECT_TRUE(parse_system_map("ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n", "M", q));
  EXPECT_TRUE(q.exports.empty());
  EXPECT_FALSE(parse_system_map("hello\n", "M", q));
}

TEST(KernelProfile, Config) {
  KernelProfile p;
  ASSERT_TRUE(parse_kernel_config("CONFIG_MODVERSIONS=y\n# CONFIG_MODULE_SIG_FORCE is not set\n", "C", p));
  EXPECT_EQ(p.config_on("CONFIG_MODVERSIONS"), true);
  EXPECT_EQ(p.config_on("CONFIG_MODULE_SIG_FORCE"), false);
  EXPECT_EQ(p.config_on("CONFIG_OTHER"), false);
  EXPECT_FALSE(parse_kernel_config("nothing\n", "C", p));
  KernelProfile none;
  EXPECT_FALSE(none.config_on("CONFIG_MODVERSIONS").has_value());
}

TEST(KernelProfile, Release) {
  int a, b;
  parse_release("6.12.117+deb12-amd64", a, b);
  EXPECT_EQ(a, 6);
  EXPECT_EQ(b, 12);
}

TEST(AbiDiff, Changes) {
  KernelProfile a, b;
  ASSERT_TRUE(parse_module_symvers("0x1\tgone\tvmlinux\tEXPORT_SYMBOL\t\n0x2\tcrc\tvmlinux\tEXPORT_SYMBOL\t\n"
                                   "0x3\tlic\tvmlinux\tEXPORT_SYMBOL\t\n0x4\tns\tvmlinux\tEXPORT_SYMBOL\t\n",
                                   "a", a));
  ASSERT_TRUE(parse_module_symvers("0x9\tcrc\tvmlinux\tEXPORT_SYMBOL\t\n0x3\tlic\tvmlinux\tEXPORT_SYMBOL_GPL\t\n"
                                   "0x4\tns\tvmlinux\tEXPORT_SYMBOL\tX\n0x5\tnew\tvmlinux\tEXPORT_SYMBOL\t\n",
                                   "b", b));
  AbiDiff d = abi_diff(a, b);
  std::vector<std::string> got;
  for (const auto &e : d.exports) got.push_back(e.symbol + ":" + e.kind);
  EXPECT_EQ(got, (std::vector<std::string>{"crc:crc", "gone:removed", "lic:licence", "new:added", "ns:namespace"}));
  EXPECT_TRUE(abi_diff(a, a).empty());
}
