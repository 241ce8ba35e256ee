// Helpers shared by the unit tests: a scratch directory removed at scope exit, whole-file
// writes and reads, shell quoting for commands that run the reference tools, and whether this
// machine lets a test replace /proc/cmdline inside a user+mount namespace.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mapped-file.h"
#include "index/trie-index.h"

namespace kmx::test {

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
