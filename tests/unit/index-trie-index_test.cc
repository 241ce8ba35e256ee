// Unit tests for the .bin trie index (trie-writer.cc, trie-reader.cc).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "base/mapped-file.h"
#include "index/trie-index.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

Bytes build(const std::vector<std::tuple<std::string, std::string, u32>> &items) {
  IndexBuilder b;
  for (const auto &[k, v, p] : items) EXPECT_TRUE(b.insert(k, v, p));
  auto bytes = b.serialize();
  EXPECT_TRUE(bytes);
  return *bytes;
}

IndexReader reader(const Bytes &b) {
  auto r = IndexReader::parse(ByteView(b));
  EXPECT_TRUE(r) << (r ? "" : r.error().msg);
  return *r;
}

}  // namespace

TEST(IndexBuilder, EmptyIndexIsHeaderOnly) {
  Bytes b = build({});
  // magic, version, root word pointing at offset 12 with no flags (kmod writes the same).
  Bytes want = {0xb0, 0x07, 0xf4, 0x57, 0, 2, 0, 1, 0, 0, 0, 12};
  EXPECT_EQ(b, want);
}

TEST(IndexBuilder, SingleKeyLayout) {
  Bytes b = build({{"ab", "v", 7}});
  // Root (no prefix) has one child 'a' whose prefix is "b" and holds value "v"/7.
  // Child written first at 12: "b\0" + count 1 + prio 7 + "v\0" = 12 bytes.
  // Root at 24: first 'a', last 'a', child word 0xC000000C.
  Bytes want = {0xb0, 0x07, 0xf4, 0x57, 0, 2, 0, 1, 0x20, 0, 0, 24,
                'b', 0, 0, 0, 0, 1, 0, 0, 0, 7, 'v', 0,
                'a', 'a', 0xc0, 0, 0, 12};
  EXPECT_EQ(b, want);
}

TEST(IndexBuilder, EqualPrioritiesGoInReverseInsertionOrder) {
  IndexBuilder b;
  ASSERT_FALSE(*b.insert("k", "first", 0));
  ASSERT_FALSE(*b.insert("k", "second", 0));
  ASSERT_FALSE(*b.insert("k", "early", 0 + 0));
  ASSERT_TRUE(*b.insert("k", "second", 5));  // duplicate value reported
  ASSERT_FALSE(*b.insert("k", "low", 1));
  Bytes bytes = *b.serialize();
  auto e = *reader(bytes).entries();
  std::vector<std::string> vals;
  for (auto &[k, v] : e) vals.push_back(v.value + "/" + std::to_string(v.priority));
  EXPECT_EQ(vals, (std::vector<std::string>{"early/0", "second/0", "first/0", "low/1", "second/5"}));
}

TEST(IndexBuilder, RejectsNonAscii) {
  IndexBuilder b;
  EXPECT_FALSE(b.insert("caf\xc3\xa9", "x", 0));
  EXPECT_FALSE(b.insert("ok", "v\x80", 0));
}

TEST(IndexReader, LookupAndDumpRoundTrip) {
  std::vector<std::tuple<std::string, std::string, u32>> items = {
      {"ask", "1", 0}, {"ate", "2", 1}, {"on", "3", 2}, {"once", "4", 3}, {"one", "5", 4}, {"o", "6", 5}};
  Bytes bytes = build(items);
  IndexReader r = reader(bytes);
  for (const auto &[k, v, p] : items) {
    auto got = r.lookup(k);
    ASSERT_TRUE(got) << got.error().msg;
    ASSERT_TRUE(got->has_value()) << k;
    EXPECT_EQ(**got, v);
  }
  EXPECT_FALSE(r.lookup("as")->has_value());
  EXPECT_FALSE(r.lookup("onces")->has_value());
  EXPECT_FALSE(r.lookup("x")->has_value());
  EXPECT_EQ(*r.dump("p:"), "p:ask 1\np:ate 2\np:o 6\np:on 3\np:once 4\np:one 5\n");
}

TEST(IndexReader, WildcardSearchFollowsKmodOrder) {
  Bytes bytes = build({{"pci:v00008086d*", "intel", 3},
                       {"pci:v*d*", "generic", 1},
                       {"pci:v00008086d0000[12]*", "range", 2},
                       {"pci:v00008086d00001234", "exact", 0},
                       {"usb:*", "usb", 0}});
  IndexReader r = reader(bytes);
  auto got = r.search_wild("pci:v00008086d00001234");
  ASSERT_TRUE(got);
  std::vector<std::string> names;
  for (auto &v : *got) names.push_back(v.value);
  EXPECT_EQ(names, (std::vector<std::string>{"exact", "generic", "range", "intel"}));
  EXPECT_TRUE(r.search_wild("nothing")->empty());
}

TEST(IndexReader, RejectsMalformedFiles) {
  Bytes good = build({{"ab", "v", 7}, {"ac", "w", 1}});
  EXPECT_FALSE(IndexReader::parse(ByteView(good.data(), 11)));
  Bytes bad_magic = good;
  bad_magic[0] = 0;
  auto r = IndexReader::parse(ByteView(bad_magic));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find("bad index magic"), std::string::npos);
  Bytes bad_version = good;
  bad_version[5] = 3;
  EXPECT_FALSE(IndexReader::parse(ByteView(bad_version)));

  // Every truncation either parses to an error or reads only within bounds.
  for (size_t n = 12; n < good.size(); n++) {
    Bytes t(good.begin(), good.begin() + n);
    auto tr = IndexReader::parse(ByteView(t));
    if (!tr) continue;
    EXPECT_FALSE(tr->dump()) << n;
  }

  // A child word pointing at its own parent: the walk budget stops it.
  Bytes loop = good;
  u32 root = load<u32, false>(loop.data() + 8);
  u32 root_off = root & INDEX_NODE_MASK;
  store<u32, false>(loop.data() + root_off + 2, root);  // first child -> root
  auto lr = reader(loop);
  auto d = lr.dump();
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().msg.find("cycle"), std::string::npos);
  EXPECT_TRUE(lr.search_wild("aaaaaaaa"));  // bounded by the key length

  // Bad child range.
  Bytes range = good;
  range[root_off] = 'z';
  range[root_off + 1] = 'a';
  auto rr = reader(range);
  ASSERT_FALSE(rr.dump());
  EXPECT_NE(rr.dump().error().msg.find("bad child range"), std::string::npos);
}

TEST(IndexReader, RandomisedRoundTrip) {
  std::mt19937 rng(42);
  std::vector<std::tuple<std::string, std::string, u32>> items;
  for (int i = 0; i < 2000; i++) {
    std::string k;
    int len = 1 + rng() % 12;
    for (int j = 0; j < len; j++) k.push_back("abc_:*?[]019"[rng() % 12]);
    items.emplace_back(k, "v" + std::to_string(i % 37), rng() % 5);
  }
  Bytes b = build(items);
  IndexReader r = reader(b);
  auto e = r.entries();
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), items.size());
  // Rebuilding from the decoded entries (inserted in reverse, which restores the order of
  // equal priorities) gives the same bytes.
  IndexBuilder again;
  for (auto it = e->rbegin(); it != e->rend(); ++it) ASSERT_TRUE(again.insert(it->first, it->second.value, it->second.priority));
  EXPECT_EQ(*again.serialize(), b);
}

TEST(IndexFile, OpensAndReportsPath) {
  Bytes b = build({{"snd_hda_intel", "kernel/sound/x.ko:", 0}});
  char path[] = "/tmp/kmx-index-file-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  ::close(fd);
  auto f = IndexFile::open(path);
  ASSERT_TRUE(f) << f.error().msg;
  EXPECT_EQ(**(*f)->lookup("snd_hda_intel"), "kernel/sound/x.ko:");
  std::ofstream(path, std::ios::trunc) << "not an index";
  auto bad = IndexFile::open(path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find(path), std::string::npos);
  ::unlink(path);
}
