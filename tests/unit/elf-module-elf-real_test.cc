// The module reader against real Debian trees: every export of every module (name,
// licence, namespace, CRC) must equal what kbuild recorded in the matching headers'
// Module.symvers, an independent record of the same build. Skipped when the trees are not
// fetched (tests/data/fetch-trees.sh).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "base/parallel.h"
#include "elf/module-elf.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

std::string cache_dir() {
  const char *c = std::getenv("KMX_CACHE");
  return c ? c : "/var/cache/kmx-test";
}

struct Tree {
  const char *image_pkg, *headers_pkg, *version;
};

struct Export {
  std::string license, ns;
  u64 crc;
  bool operator==(const Export &) const = default;
};

std::string license_name(ExportLicense l) {
  switch (l) {
  case ExportLicense::plain: return "EXPORT_SYMBOL";
  case ExportLicense::gpl: return "EXPORT_SYMBOL_GPL";
  case ExportLicense::gpl_future: return "EXPORT_SYMBOL_GPL_FUTURE";
  }
  return "?";
}

// module path (relative, without .ko*) -> symbol -> export
using Table = std::map<std::string, std::map<std::string, Export>>;

Table load_symvers(const fs::path &p) {
  Table t;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, '\t')) f.push_back(x);
    if (f.size() < 4 || f[2] == "vmlinux") continue;
    t[f[2]][f[1]] = Export{f[3], f.size() > 4 ? f[4] : "", std::stoull(f[0], nullptr, 16)};
  }
  return t;
}

void check_tree(const Tree &tr) {
  fs::path root = fs::path(cache_dir()) / "trees" / tr.image_pkg / "lib/modules" / tr.version;
  fs::path symvers = fs::path(cache_dir()) / "trees" / tr.headers_pkg / "usr/src" /
                     (std::string("linux-headers-") + tr.version) / "Module.symvers";
  if (!fs::exists(root) || !fs::exists(symvers)) GTEST_SKIP() << "skipped: " << root << " or " << symvers << " not fetched";

  Table expected = load_symvers(symvers);
  std::vector<fs::path> files;
  for (auto &e : fs::recursive_directory_iterator(root / "kernel"))
    if (e.is_regular_file() && e.path().string().find(".ko") != std::string::npos) files.push_back(e.path());
  ASSERT_GT(files.size(), 1000u);

  std::vector<std::string> errors(files.size());
  std::vector<Table::mapped_type> got(files.size());
  parallel_for_each(files.size(), [&](size_t i) {
    auto mi = read_module(files[i].string());
    if (!mi) {
      errors[i] = mi.error().msg;
      return;
    }
    for (const ExportedSymbol &e : mi->exports)
      got[i][e.name] = Export{license_name(e.license), e.ns, e.crc.value_or(~0ull)};
  });

  size_t checked = 0, symbols = 0;
  for (size_t i = 0; i < files.size(); i++) {
    ASSERT_EQ(errors[i], "") << files[i];
    std::string rel = fs::relative(files[i], root).string();
    rel = rel.substr(0, rel.find(".ko"));
    if (rel.starts_with("kernel/")) rel = rel.substr(7);
    auto it = expected.find(rel);
    const Table::mapped_type empty;
    EXPECT_EQ(got[i], it == expected.end() ? empty : it->second) << rel;
    checked++;
    symbols += got[i].size();
  }
  std::printf("%zu modules, %zu exports match Module.symvers\n", checked, symbols);
}

}  // namespace

TEST(ModuleElfReal, ExportsMatchModuleSymvers_6_1) {
  check_tree({"linux-image-6.1.0-54-amd64-unsigned", "linux-headers-6.1.0-54-amd64", "6.1.0-54-amd64"});
}

TEST(ModuleElfReal, ExportsMatchModuleSymvers_6_12) {
  check_tree({"linux-image-6.12.117+deb12-amd64-unsigned", "linux-headers-6.12.117+deb12-amd64", "6.12.117+deb12-amd64"});
}
