// Helpers shared by the unit tests: a scratch directory removed at scope exit, whole-file
// writes and reads, where the reference tools (Debian's kmod) and the kmod testsuite's
// fixtures are, shell quoting and running of their commands, and whether this machine lets a
// test replace /proc/cmdline inside a user+mount namespace.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mapped-file.h"
#include "index/trie-index.h"

namespace kmx::test {

// Debian's kmod, the reference implementation, and the kmod testsuite's fixtures.
inline constexpr const char *kmod_modinfo = "/usr/sbin/modinfo";
inline constexpr const char *kmod_modprobe = "/usr/sbin/modprobe";
inline constexpr const char *kmod_depmod = "/usr/sbin/depmod";
inline constexpr const char *peer_fixtures = "/work/shared/peer/kmod-testsuite/fixtures";
inline const std::string peer_modules = std::string(peer_fixtures) + "/modules";  // test modules
inline const std::string peer_rootfs = std::string(peer_fixtures) + "/rootfs";    // test roots

inline bool executable(const char *path) { return ::access(path, X_OK) == 0; }

struct TempDir {
  std::string path;
  explicit TempDir(const char *tag = "kmx-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(tag) + "-XXXXXX")).string();
    char *p = ::mkdtemp(tmpl.data());
    path = p ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
};

// A scratch root for code that reads the kernel's /sys: root_/sys/module exists.
struct FakeSysfs {
  TempDir tmp_;
  std::filesystem::path root_{tmp_.path};
  explicit FakeSysfs(const char *tag) : tmp_(tag) { std::filesystem::create_directories(root_ / "sys/module"); }
  std::string sys() const { return (root_ / "sys").string(); }
  // sys/module/MOD/parameters/NAME holding `value`, with permissions `mode`.
  void param(const std::string &mod, const std::string &name, const std::string &value, mode_t mode = 0644) {
    std::filesystem::path p = root_ / "sys/module" / mod / "parameters" / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << value;
    ASSERT_EQ(::chmod(p.c_str(), mode), 0) << p;
  }
};

// A test fixture over a FakeSysfs.
class FakeSysfsTest : public ::testing::Test, public FakeSysfs {
protected:
  FakeSysfsTest() : FakeSysfs("kmx-sysfs") {}
};

// Writes `content` to `path`, creating its parent directories.
inline void write_file(const std::string &path, std::string_view content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

// The whole file, or "" when it cannot be read.
// An index file (kmod's trie format) at `path` holding `kv` in order, for fixture module
// directories; false when it could not be built or written.
inline bool write_index(const std::string &path, const std::vector<std::pair<std::string, std::string>> &kv) {
  IndexBuilder b;
  u32 prio = 0;
  for (const auto &[k, v] : kv)
    if (!b.insert(k, v, prio++)) return false;
  auto bytes = b.serialize();
  if (!bytes) return false;
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char *>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
  return static_cast<bool>(f);
}

inline std::string slurp(const std::string &path) {
  Result<std::string> r = read_file(path);
  return r ? *r : std::string();
}

// 'text' for sh, with embedded single quotes escaped.
inline std::string shell_quote(const std::string &s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// stdout of a shell command (stderr is discarded unless the command redirects it).
inline std::string run_cmd(const std::string &cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE *)> p(::popen(cmd.c_str(), "r"), ::pclose);
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p.get())) > 0) out.append(buf, n);
  return out;
}

// A shell command prefix: what follows it runs with `file` bound over /proc/cmdline, inside a
// user+mount namespace (see can_fake_cmdline).
inline std::string fake_cmdline_prefix(const std::string &file) {
  return "unshare -rm sh -c 'mount --bind \"$0\" /proc/cmdline && exec \"$@\"' " + shell_quote(file) + " ";
}

// Whether `unshare -rm` lets a test bind a file over /proc/cmdline (user namespaces on).
inline bool can_fake_cmdline() {
  static int ok = -1;
  if (ok < 0) {
    TempDir t;
    write_file(t.path + "/cl", "kmx.probe=1\n");
    std::string cmd = "unshare -rm sh -c 'mount --bind \"$0\" /proc/cmdline && grep -q kmx.probe /proc/cmdline' " +
                      shell_quote(t.path + "/cl") + " >/dev/null 2>&1";
    ok = std::system(cmd.c_str()) == 0;
  }
  return ok == 1;
}

}  // namespace kmx::test
