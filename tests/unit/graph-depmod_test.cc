// Unit tests for graph/: kmod's hash order helper, alias normalisation, module facts and
// the metadata cache format.
#include <gtest/gtest.h>

#include <algorithm>

#include "graph/depmod.h"
#include "graph/kmod-hash.h"
#include "graph/module-facts.h"

using namespace kmx;

TEST(KmodHash, BucketCountIsAlignedToPowerOfTwo) {
  EXPECT_EQ(kmod_hash_buckets(512), 512u);
  EXPECT_EQ(kmod_hash_buckets(2048), 2048u);
  EXPECT_EQ(kmod_hash_buckets(500), 512u);
  EXPECT_EQ(kmod_hash_buckets(16), 16u);
}

TEST(KmodHash, OrderIsBucketThenStrcmp) {
  KmodHashOrder order(4);
  std::vector<std::string> keys = {"a", "b", "ab", "abc", "abcd", "abcde", "zz", "snd_hda_intel", "e1000e"};
  std::sort(keys.begin(), keys.end(), [&](const std::string &x, const std::string &y) { return order(x, y); });
  for (size_t i = 1; i < keys.size(); i++) {
    u32 b0 = order.bucket(keys[i - 1]), b1 = order.bucket(keys[i]);
    EXPECT_LE(b0, b1);
    if (b0 == b1) {
      EXPECT_LT(keys[i - 1], keys[i]);
    }
  }
  // Every length class of the tail switch is exercised and deterministic.
  EXPECT_EQ(kmod_hash_superfast("abc"), kmod_hash_superfast(std::string("abc")));
  EXPECT_NE(kmod_hash_superfast("abc"), kmod_hash_superfast("abd"));
}

TEST(AliasNormalize, DashesOutsideBrackets) {
  EXPECT_EQ(kmod_alias_normalize("usb:v-1p[0-9]*-x"), "usb:v_1p[0-9]*_x");
  EXPECT_EQ(kmod_alias_normalize("plain"), "plain");
  EXPECT_FALSE(kmod_alias_normalize("a]b"));
  EXPECT_FALSE(kmod_alias_normalize("a[bc"));
}

TEST(ModuleFacts, KmodViewOfExportsAndImports) {
  ModuleInfo mi;
  mi.exports = {{"with_crc", ExportLicense::plain, "", 0x1234}, {"no_crc", ExportLicense::gpl, "", std::nullopt}};
  mi.ksymtab_strings = {"with_crc", "no_crc", "NS"};
  mi.versions = {{"module_layout", 1}, {"printk", 2}, {"printk", 3}};
  mi.imports = {{"printk", false, 2}, {"weak_one", true, std::nullopt}};
  mi.modinfo = {{"alias", "pci:v*"}, {"license", "GPL"}, {"softdep", "pre: foo"}, {"weakdep", "bar"}};
  ModuleFacts f = facts_from_module_info(mi);
  // With any CRC present kmod lists exactly the __crc_ symbols.
  ASSERT_EQ(f.exports.size(), 1u);
  EXPECT_EQ(f.exports[0].first, "with_crc");
  // Undefined symbols first, then unmatched __versions entries (module_layout and the
  // second printk, which kmod's first-match lookup never visits).
  ASSERT_EQ(f.dep_symbols.size(), 4u);
  EXPECT_EQ(f.dep_symbols[0].name, "printk");
  EXPECT_EQ(f.dep_symbols[0].crc, 2u);
  EXPECT_TRUE(f.dep_symbols[1].weak);
  EXPECT_EQ(f.dep_symbols[1].crc, 0u);
  EXPECT_EQ(f.dep_symbols[2].name, "module_layout");
  EXPECT_EQ(f.dep_symbols[3].crc, 3u);
  ASSERT_EQ(f.info.size(), 3u);
  EXPECT_EQ(f.info[1].first, "softdep");

  mi.exports = {{"no_crc", ExportLicense::gpl, "", std::nullopt}};
  f = facts_from_module_info(mi);
  // Without CRCs: the raw __ksymtab_strings, namespace strings included.
  ASSERT_EQ(f.exports.size(), 3u);
  EXPECT_EQ(f.exports[2].first, "NS");
}

TEST(FactsCache, RoundTripAndRejectsDamage) {
  FactsCacheEntry e;
  e.path = "/lib/modules/x/a.ko";
  e.stamp = {10, 20, 30, 40};
  e.facts.exports = {{"sym", 7}};
  e.facts.dep_symbols = {{"dep", 8, true}};
  e.facts.info = {{"alias", "x"}};
  FactsCacheEntry bad;
  bad.path = "/b.ko";
  bad.facts.error = 8;
  bad.facts.reason = "not ELF";
  Bytes blob = encode_facts_cache({e, bad});
  auto back = decode_facts_cache(ByteView(blob));
  ASSERT_TRUE(back) << back.error().msg;
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].path, e.path);
  EXPECT_EQ((*back)[0].stamp, e.stamp);
  EXPECT_EQ((*back)[0].facts.exports, e.facts.exports);
  EXPECT_TRUE((*back)[0].facts.dep_symbols[0].weak);
  EXPECT_EQ((*back)[1].facts.error, 8);

  for (size_t cut = 0; cut < blob.size(); cut += 7) EXPECT_FALSE(decode_facts_cache(ByteView(blob.data(), cut))) << cut;
  for (size_t i = 0; i < blob.size(); i++) {
    Bytes flip = blob;
    flip[i] ^= 0x10;
    EXPECT_FALSE(decode_facts_cache(ByteView(flip))) << i;
  }
  Bytes extra = blob;
  extra.push_back(0);
  EXPECT_FALSE(decode_facts_cache(ByteView(extra)));
}

TEST(ModuleFacts, OddSizedVersionsAreIgnoredLikeKmodDepmod) {
  ModuleInfo mi;
  mi.versions = {{"printk", 5}, {"module_layout", 6}};
  mi.versions_problem = "section [7] __versions size 100 is not a multiple of 64";
  mi.imports = {{"printk", false, 5}};
  ModuleFacts f = facts_from_module_info(mi);
  ASSERT_EQ(f.dep_symbols.size(), 1u);
  EXPECT_EQ(f.dep_symbols[0].crc, 0u);
  mi.versions_problem = "section [7] __versions entry 1 has an unterminated name";
  f = facts_from_module_info(mi);
  ASSERT_EQ(f.dep_symbols.size(), 2u);
  EXPECT_EQ(f.dep_symbols[0].crc, 5u);
}
