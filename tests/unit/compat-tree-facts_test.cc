// The cache of a module tree's facts (compat/tree-facts.h): a second learn of the same tree
// reads the cache and gives exactly the same profile; touching, adding or removing a module
// or a corrupt cache file makes it read the modules again.
#include "compat/tree-facts.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>

#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

bool cached(const KernelProfile &p) {
  for (const auto &s : p.sources)
    if (s.find("(cached)") != std::string::npos) return true;
  return false;
}

void expect_same(const KernelProfile &a, const KernelProfile &b) {
  EXPECT_EQ(a.vermagic, b.vermagic);
  EXPECT_EQ(a.module_layout_crc, b.module_layout_crc);
  EXPECT_EQ(a.this_module_size, b.this_module_size);
  EXPECT_EQ(a.trusted_key_ids, b.trusted_key_ids);
  EXPECT_EQ(a.proprietary_modules, b.proprietary_modules);
  ASSERT_EQ(a.exports.size(), b.exports.size());
  for (const auto &[name, e] : a.exports) {
    auto it = b.exports.find(name);
    ASSERT_NE(it, b.exports.end()) << name;
    EXPECT_EQ(e.owner, it->second.owner) << name;
    EXPECT_EQ(e.license, it->second.license) << name;
    EXPECT_EQ(e.ns, it->second.ns) << name;
    EXPECT_EQ(e.crc, it->second.crc) << name;
  }
}

}  // namespace

TEST(TreeFacts, CachedLearnEqualsFullReadAndInvalidates) {
  const char *c = std::getenv("KMX_CACHE");
  std::string src = std::string(c ? c : "/var/cache/kmx-test") +
                    "/trees/linux-image-6.1.0-54-amd64-unsigned/lib/modules/6.1.0-54-amd64/kernel";
  if (!fs::exists(src + "/net")) GTEST_SKIP() << "skipped: amd64-6.1 tree not fetched (tests/data/fetch-trees.sh amd64-6.1)";
  test::TempDir tmp("kmx-treefacts");
  std::string tree = tmp.path + "/lib/modules/6.1.0-54-amd64";
  fs::create_directories(tree + "/kernel");
  fs::copy(src + "/net/bridge", tree + "/kernel/bridge", fs::copy_options::recursive);
  fs::copy(src + "/net/802", tree + "/kernel/802", fs::copy_options::recursive);
  fs::copy(src + "/net/llc", tree + "/kernel/llc", fs::copy_options::recursive);
  std::string cache = tmp.path + "/cache";

  KernelProfile full, again, after_touch, after_corrupt, nocache;
  ASSERT_TRUE(learn_module_tree(tree, true, full, cache));
  EXPECT_FALSE(cached(full));
  EXPECT_GT(full.exports.size(), 20u);
  ASSERT_TRUE(full.vermagic.has_value());
  ASSERT_TRUE(learn_module_tree(tree, true, again, cache));
  EXPECT_TRUE(cached(again));
  expect_same(full, again);

  // A touched module: read again (and the result is still the same facts).
  std::string victim = tree + "/kernel/llc/llc.ko";
  struct utimbuf t{1000000000, 1000000000};
  ASSERT_EQ(::utime(victim.c_str(), &t), 0);
  ASSERT_TRUE(learn_module_tree(tree, true, after_touch, cache));
  EXPECT_FALSE(cached(after_touch));
  expect_same(full, after_touch);

  // A corrupt cache file: ignored, rewritten.
  for (const auto &e : fs::directory_iterator(cache))
    if (e.path().filename().string().starts_with("tree-facts-")) std::ofstream(e.path()) << "{\"format\":1,\"identity\":";
  ASSERT_TRUE(learn_module_tree(tree, true, after_corrupt, cache));
  EXPECT_FALSE(cached(after_corrupt));
  expect_same(full, after_corrupt);

  // A removed module: its exports go away.
  fs::remove(tree + "/kernel/802/stp.ko");
  KernelProfile removed;
  ASSERT_TRUE(learn_module_tree(tree, true, removed, cache));
  EXPECT_FALSE(cached(removed));
  EXPECT_EQ(removed.exports.count("stp_proto_register"), 0u);
  EXPECT_EQ(full.exports.count("stp_proto_register"), 1u);

  // Cache off.
  ASSERT_TRUE(learn_module_tree(tree, true, nocache, ""));
  EXPECT_FALSE(cached(nocache));
}
