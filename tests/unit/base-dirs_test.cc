#include "base/dirs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace kmx {
namespace {

namespace fs = std::filesystem;

TEST(CacheNameOf, IsTheLastComponent) {
  EXPECT_EQ(cache_name_of("/boot/vmlinuz-6.1.0-54-amd64"), "vmlinuz-6.1.0-54-amd64");
  EXPECT_EQ(cache_name_of("/lib/modules/6.12.117+deb12-amd64/"), "6.12.117+deb12-amd64");
  EXPECT_EQ(cache_name_of("vmlinuz"), "vmlinuz");
  EXPECT_EQ(cache_name_of("/"), "root");
  EXPECT_EQ(cache_name_of("/x/" + std::string(300, 'a')).size(), 128u);
}

// The name of what is cached from a file ends in the real file's name, whatever link reaches
// it, and changes when the file is replaced.
TEST(SourceCachePath, EndsInTheRealFileNameAndFollowsTheFile) {
  fs::path dir = fs::temp_directory_path() / ("kmx-dirs-" + std::to_string(::getpid()));
  fs::create_directories(dir / "boot");
  std::ofstream(dir / "boot/vmlinuz-6.1.0-54-amd64") << "image";
  fs::create_symlink("boot/vmlinuz-6.1.0-54-amd64", dir / "vmlinuz");
  std::string a = source_cache_path("/c", "kernel-certs", (dir / "vmlinuz").string());
  std::string b = source_cache_path("/c", "kernel-certs", (dir / "boot/vmlinuz-6.1.0-54-amd64").string());
  EXPECT_EQ(a, b);
  ASSERT_TRUE(a.starts_with("/c/kernel-certs-")) << a;
  EXPECT_TRUE(a.ends_with("-vmlinuz-6.1.0-54-amd64")) << a;
  EXPECT_EQ(a.size(), std::string("/c/kernel-certs-").size() + 16 + std::string("-vmlinuz-6.1.0-54-amd64").size()) << a;
  fs::remove(dir / "boot/vmlinuz-6.1.0-54-amd64");
  std::ofstream(dir / "boot/vmlinuz-6.1.0-54-amd64") << "another image";
  EXPECT_NE(source_cache_path("/c", "kernel-certs", (dir / "vmlinuz").string()), a);
  EXPECT_EQ(source_cache_path("", "kernel-certs", (dir / "vmlinuz").string()), "");
  EXPECT_EQ(source_cache_path("/c", "kernel-certs", (dir / "missing").string()), "");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kmx
