#include "kernel/sysfs-module.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

class FakeKernel : public ::testing::Test {
protected:
  void SetUp() override {
    roots_.proc = root_ / "proc";
    roots_.sys = root_ / "sys";
    roots_.modules = root_ / "lib/modules";
    fs::create_directories(roots_.proc);
    fs::create_directories(fs::path(roots_.sys) / "module");
  }

  void put(const fs::path &p, const std::string &text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  fs::path mod(const std::string &name) { return fs::path(roots_.sys) / "module" / name; }

  test::TempDir tmp_{"kmx-sysfs"};
  fs::path root_{tmp_.path};
  KernelRoots roots_;
};

}  // namespace

TEST_F(FakeKernel, InitstateFollowsKmod) {
  put(mod("a") / "initstate", "live\n");
  put(mod("g") / "initstate", "going\n");
  fs::create_directories(mod("c"));  // directory without initstate: coming (or builtin)
  put(mod("x") / "initstate", "weird\n");
  EXPECT_EQ(*module_initstate(roots_, "a"), InitState::live);
  EXPECT_EQ(*module_initstate(roots_, "g"), InitState::going);
  EXPECT_EQ(*module_initstate(roots_, "c"), InitState::coming);
  auto none = module_initstate(roots_, "nothere");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::not_found);
  EXPECT_FALSE(module_initstate(roots_, "x"));
}

TEST_F(FakeKernel, RefcntCoresizeHolders) {
  put(mod("a") / "refcnt", "2\n");
  put(mod("a") / "coresize", "16384\n");
  fs::create_directories(mod("a") / "holders" / "b");
  fs::create_directories(mod("a") / "holders" / "c");
  put(mod("bad") / "refcnt", "two\n");
  EXPECT_EQ(*module_refcnt(roots_, "a"), 2);
  EXPECT_EQ(*module_coresize(roots_, "a"), 16384);
  auto h = module_holders(roots_, "a");
  ASSERT_TRUE(h);
  std::vector<std::string> sorted = *h;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::string>{"b", "c"}));
  auto bad = module_refcnt(roots_, "bad");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find("not an integer: 'two'"), std::string::npos) << bad.error().msg;
  EXPECT_FALSE(module_holders(roots_, "nothere"));
}

TEST_F(FakeKernel, DecompressionProbe) {
  EXPECT_TRUE(sysfs_available(roots_));
  KernelRoots nosys = roots_;
  nosys.sys = (root_ / "nosys").string();
  EXPECT_FALSE(sysfs_available(nosys));
  EXPECT_EQ(kernel_decompression(roots_), std::nullopt);
  put(fs::path(roots_.sys) / "module/compression", "xz\n");
  EXPECT_EQ(kernel_decompression(roots_), Compression::xz);
  put(fs::path(roots_.sys) / "module/compression", "zstd\n");
  EXPECT_EQ(kernel_decompression(roots_), Compression::zstd);
  put(fs::path(roots_.sys) / "module/compression", "lz4\n");
  EXPECT_EQ(kernel_decompression(roots_), std::nullopt);
}

TEST_F(FakeKernel, LoadedModulesAndErrors) {
  EXPECT_FALSE(loaded_modules(roots_));  // no /proc/modules
  put(fs::path(roots_.proc) / "modules", "b 1 0 - Live 0x0\na 2 1 b, Live 0x0\n");
  auto m = loaded_modules(roots_);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[1].users, std::vector<std::string>{"b"});
}
