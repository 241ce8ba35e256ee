#include "base/dirs.h"

#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/bytes.h"
#include "base/types.h"

namespace kmx {

Status make_private_dirs(const std::string &dir) {
  for (size_t pos = 1; pos <= dir.size(); pos++) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string part = dir.substr(0, pos);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return fail_errno(errno, "could not create '" + dir + "': " + std::strerror(errno));
  }
  return {};
}

Status check_private_dir(const std::string &dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return fail_errno(errno, "directory '" + dir + "': " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return fail(Errc::invalid_argument, "'" + dir + "' is not a directory");
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return fail(Errc::permission, "directory '" + dir + "' belongs to uid " + std::to_string(st.st_uid) + ", not to root: refusing to keep state in it");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(Errc::permission, "directory '" + dir + "' is writable by " + ((st.st_mode & S_IWOTH) ? "others" : "its group") + " (mode " + mode + "): refusing to keep state in it");
  }
  return {};
}

std::string source_cache_path(const std::string &dir, std::string_view prefix, const std::string &source) {
  struct stat st;
  if (dir.empty() || ::stat(source.c_str(), &st) != 0) return "";
  char real[4096];
  std::string p = ::realpath(source.c_str(), real) ? real : source;
  std::string key = fmt::format("{}\n{}\n{}\n{}\n{}.{}", p, u64(st.st_dev), u64(st.st_ino), u64(st.st_size),
                                i64(st.st_mtim.tv_sec), i64(st.st_mtim.tv_nsec));
  return fmt::format("{}/{}-{:016x}-{}", dir, prefix, fnv1a64(ByteView(key)), cache_name_of(p));
}

std::string cache_name_of(std::string_view real_path) {
  while (real_path.size() > 1 && real_path.back() == '/') real_path.remove_suffix(1);
  size_t slash = real_path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? real_path : real_path.substr(slash + 1);
  if (name.empty()) return "root";
  return std::string(name.substr(0, 128));
}

}  // namespace kmx
