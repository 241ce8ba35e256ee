// Differential test of the trie writer/reader against kmod's own depmod on real Debian
// trees: every .bin kmod writes is decoded with IndexReader, rebuilt with IndexBuilder and
// must come out byte-identical; the decoded content must match kmod's text files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "test-support.h"
#include "base/mapped-file.h"
#include "index/trie-index.h"

using namespace kmx;
using namespace kmx::test;
namespace fs = std::filesystem;

namespace {

std::set<std::string> lines_of(const std::string &text, const std::string &strip_prefix = "") {
  std::set<std::string> s;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l.empty() || l[0] == '#') continue;
    if (!strip_prefix.empty()) {
      if (l.rfind(strip_prefix, 0) != 0) continue;
      l = l.substr(strip_prefix.size());
    }
    s.insert(l);
  }
  return s;
}

class IndexVsKmod : public ::testing::TestWithParam<const char *> {};

}  // namespace

TEST_P(IndexVsKmod, RebuildIsByteIdentical) {
  if (!executable(kmod_depmod)) GTEST_SKIP() << "kmod's /usr/sbin/depmod not installed";
  std::string script = std::string(KMX_TEST_DIR) + "/data/fetch-trees.sh";
  std::string pkgroot = run_cmd(script + " path " + GetParam() + " 2>/dev/null");
  while (!pkgroot.empty() && pkgroot.back() == '\n') pkgroot.pop_back();
  if (pkgroot.empty() || !fs::exists(pkgroot + "/.done") || !fs::exists(pkgroot + "/lib/modules"))
    GTEST_SKIP() << "tree " << GetParam() << " not fetched (tests/data/fetch-trees.sh " << GetParam() << ")";
  std::string version;
  for (auto &e : fs::directory_iterator(pkgroot + "/lib/modules")) version = e.path().filename();
  ASSERT_FALSE(version.empty());

  test::TempDir tmp("kmx-index-kmod");  // removed however the test ends
  ASSERT_FALSE(tmp.path.empty());
  std::string root = tmp.path;
  fs::create_directories(root + "/lib/modules");
  std::string dir = root + "/lib/modules/" + version;
  ASSERT_EQ(std::system(("cp -al '" + pkgroot + "/lib/modules/" + version + "' '" + dir + "'").c_str()), 0);
  // Outputs must not be hard links into the cache: remove any index files first.
  for (auto &e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("modules.", 0) == 0 && e.path().filename() != "modules.order" &&
        e.path().filename() != "modules.builtin" && e.path().filename() != "modules.builtin.modinfo")
      fs::remove(e.path());
  ASSERT_EQ(std::system((std::string(kmod_depmod) + " -b '" + root + "' " + version).c_str()), 0);

  int checked = 0;
  for (const char *name : {"modules.dep.bin", "modules.alias.bin", "modules.symbols.bin", "modules.builtin.bin",
                           "modules.builtin.alias.bin"}) {
    std::string path = dir + "/" + name;
    if (!fs::exists(path)) continue;
    auto file = MappedFile::open(path);
    ASSERT_TRUE(file);
    auto r = IndexReader::parse(file->view());
    ASSERT_TRUE(r) << path << ": " << r.error().msg;
    auto entries = r->entries();
    ASSERT_TRUE(entries) << path << ": " << entries.error().msg;
    IndexBuilder b;
    for (auto it = entries->rbegin(); it != entries->rend(); ++it)
      ASSERT_TRUE(b.insert(it->first, it->second.value, it->second.priority));
    auto bytes = b.serialize();
    ASSERT_TRUE(bytes);
    ByteView want = file->view();
    ASSERT_EQ(bytes->size(), want.size()) << path;
    EXPECT_TRUE(std::equal(want.begin(), want.end(), bytes->begin())) << path << " differs";
    checked++;

    // Exact lookup finds every key's first value.
    size_t probe = 0;
    for (const auto &[k, v] : *entries) {
      if (probe++ % 97) continue;
      auto got = r->lookup(k);
      ASSERT_TRUE(got && got->has_value()) << k;
    }
  }
  EXPECT_GE(checked, 4);

  // The reader's view agrees with kmod's text files.
  auto text = [&](const char *n) { return *read_file(dir + "/" + n); };
  auto dump = [&](const char *n) { return *IndexReader::parse(MappedFile::open(dir + "/" + n)->view())->entries(); };
  std::set<std::string> sym_bin;
  for (auto &[k, v] : dump("modules.symbols.bin")) sym_bin.insert(k + " " + v.value);
  EXPECT_EQ(sym_bin, lines_of(text("modules.symbols"), "alias "));
  std::set<std::string> dep_bin;
  for (auto &[k, v] : dump("modules.dep.bin")) dep_bin.insert(v.value);
  std::set<std::string> dep_txt;
  for (auto l : lines_of(text("modules.dep"))) {
    dep_txt.insert(l);
  }
  EXPECT_EQ(dep_bin, dep_txt);
  // kmod's own dump of the alias index (modprobe -c prints "alias KEY VALUE" from it).
  std::string kdump = run_cmd(std::string(kmod_modprobe) + " -c -d '" + root + "' -S " + version + " -C /nonexistent 2>/dev/null");
  std::set<std::string> alias_bin;
  for (auto &[k, v] : dump("modules.alias.bin")) alias_bin.insert(k + " " + v.value);
  std::set<std::string> kmod_alias = lines_of(kdump, "alias ");
  std::set<std::string> missing;
  for (auto &a : alias_bin)
    if (!kmod_alias.count(a)) missing.insert(a);
  EXPECT_TRUE(missing.empty()) << missing.size() << " alias entries not in modprobe -c, e.g. " << *missing.begin();

}

INSTANTIATE_TEST_SUITE_P(Trees, IndexVsKmod, ::testing::Values("amd64-6.1", "i386-6.1"));

// Wildcard search against kmod's own alias resolution: `modprobe -R ALIAS` resolves a
// device alias through index_mm_searchwild() on modules.alias.bin and prints the modules
// in its result order. Keys are made from the index's own patterns (wildcards filled in),
// so each matches at least one pattern and usually several generic ones.
TEST(IndexVsKmodModprobe, WildcardSearchOrderMatchesModprobeResolveAlias) {
  if (!executable(kmod_depmod) || !executable(kmod_modprobe))
    GTEST_SKIP() << "kmod's depmod/modprobe not installed";
  std::string script = std::string(KMX_TEST_DIR) + "/data/fetch-trees.sh";
  std::string pkgroot = run_cmd(script + " path amd64-6.1 2>/dev/null");
  while (!pkgroot.empty() && pkgroot.back() == '\n') pkgroot.pop_back();
  if (pkgroot.empty() || !fs::exists(pkgroot + "/.done")) GTEST_SKIP() << "tree amd64-6.1 not fetched";
  std::string version;
  for (auto &e : fs::directory_iterator(pkgroot + "/lib/modules")) version = e.path().filename();
  test::TempDir tmp("kmx-index-wild");
  ASSERT_FALSE(tmp.path.empty());
  std::string root = tmp.path, dir = root + "/lib/modules/" + version;
  fs::create_directories(root + "/lib/modules");
  ASSERT_EQ(std::system(("cp -al '" + pkgroot + "/lib/modules/" + version + "' '" + dir + "'").c_str()), 0);
  ASSERT_EQ(std::system((std::string(kmod_depmod) + " -b '" + root + "' " + version).c_str()), 0);

  auto file = MappedFile::open(dir + "/modules.alias.bin");
  ASSERT_TRUE(file);
  auto r = IndexReader::parse(file->view());
  ASSERT_TRUE(r);
  auto entries = r->entries();
  ASSERT_TRUE(entries);
  std::vector<std::string> keys;
  for (size_t i = 0; i < entries->size(); i += 151) {
    std::string k;
    const std::string &pat = (*entries)[i].first;
    for (size_t j = 0; j < pat.size(); j++) {
      if (pat[j] == '*') continue;
      if (pat[j] == '?') k.push_back('0');
      else if (pat[j] == '[') {
        k.push_back(pat[j + 1] == '!' || pat[j + 1] == '^' ? 'Z' : pat[j + 1]);
        j = pat.find(']', j + 1);
        if (j == std::string::npos) break;
      } else k.push_back(pat[j]);
    }
    if (k.find_first_of("'\\\" ") == std::string::npos && k.find(':') != std::string::npos) keys.push_back(k);
  }
  ASSERT_GT(keys.size(), 50u);
  int multi = 0;
  for (const std::string &k : keys) {
    auto got = r->search_wild(k);
    ASSERT_TRUE(got) << k;
    std::string mine;
    for (const IndexValue &v : *got) mine += v.value + "\n";
    std::string theirs =
        run_cmd(std::string(kmod_modprobe) + " -C /nonexistent -d '" + root + "' -S " + version + " -R '" + k + "' 2>/dev/null");
    EXPECT_EQ(mine, theirs) << "alias " << k;
    multi += got->size() > 1;
  }
  EXPECT_GT(multi, 5) << "too few keys with several matches to check the order";
}
