#include "kernel/module-load.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

// Only the paths that fail before any load syscall are tested here: the host kernel is never
// asked to load anything (the VM lab does that on real kernels).
namespace {

class LoadFile : public ::testing::Test {
protected:
  void SetUp() override {
    fs::create_directories(dir_ / "sys/module");
    roots_.sys = (dir_ / "sys").string();
    roots_.proc = (dir_ / "proc").string();
  }
  std::string put(const std::string &name, const std::string &bytes) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  test::TempDir tmp_{"kmx-load"};
  fs::path dir_{tmp_.path};
  KernelRoots roots_;
};

}  // namespace

TEST_F(LoadFile, MissingFileKeepsErrno) {
  LoadResult tried;
  auto r = load_module_file(roots_, (dir_ / "nothere.ko").string(), "", {}, &tried);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_errno(), ENOENT);
  EXPECT_FALSE(tried.reached_kernel);
}

TEST_F(LoadFile, CorruptCompressedFileNeverReachesTheKernel) {
  // Magic of each format followed by garbage; this fake kernel has sysfs but no
  // /sys/module/compression, so kmx must decompress itself, and that fails.
  struct {
    const char *name;
    std::string bytes;
    Compression c;
  } cases[] = {
      {"bad.ko.xz", std::string("\xfd\x37\x7a\x58\x5a\x00garbage-garbage", 21), Compression::xz},
      {"bad.ko.zst", std::string("\x28\xb5\x2f\xfdgarbage-garbage", 19), Compression::zstd},
      {"bad.ko.gz", std::string("\x1f\x8bgarbage-garbage", 17), Compression::gzip},
  };
  for (const auto &c : cases) {
    LoadResult tried;
    auto r = load_module_file(roots_, put(c.name, c.bytes), "", {}, &tried);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(tried.compression, c.c) << c.name;
    EXPECT_FALSE(tried.reached_kernel) << c.name;
    EXPECT_EQ(r.error().to_errno(), EINVAL) << c.name;  // as kmod reports it
    EXPECT_NE(r.error().msg.find(c.name), std::string::npos) << r.error().msg;
  }
}

TEST(LoadMethod, Names) {
  EXPECT_STREQ(load_method_name(LoadMethod::finit), "finit_module");
  EXPECT_STREQ(load_method_name(LoadMethod::finit_compressed), "finit_module(MODULE_INIT_COMPRESSED_FILE)");
  EXPECT_STREQ(load_method_name(LoadMethod::init_module), "init_module");
}
