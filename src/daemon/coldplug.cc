#include "daemon/coldplug.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

namespace kmx {
namespace {

// sysfs device trees are a few dozen levels deep at most; a loop (only possible on a fake tree
// with bind mounts) must not run away.
constexpr int kMaxDepth = 64;
constexpr size_t kMaxModaliasSize = 4096;  // one page: what a sysfs show() can return

struct Walker {
  ColdplugScan &out;

  void problem(const std::string &path, int err) {
    out.problems.push_back("'" + path + "': " + std::strerror(err));
  }

  void read_modalias(int dirfd, const std::string &devpath, const std::string &path) {
    int fd = openat(dirfd, "modalias", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      problem(path + "/modalias", errno);
      return;
    }
    char buf[kMaxModaliasSize];
    size_t len = 0;
    for (;;) {
      ssize_t n = ::read(fd, buf + len, sizeof buf - len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        problem(path + "/modalias", errno);
        ::close(fd);
        return;
      }
      if (n == 0 || (len += static_cast<size_t>(n)) == sizeof buf) break;
    }
    ::close(fd);
    std::string alias(buf, len);
    auto nl = alias.find_first_of("\n");
    if (nl != std::string::npos) alias.resize(nl);
    if (alias.find('\0') != std::string::npos || alias.empty()) return;
    out.devices.push_back({devpath, std::move(alias)});
  }

  void walk(int dirfd, const std::string &devpath, const std::string &path, int depth) {
    DIR *d = fdopendir(dirfd);
    if (!d) {
      problem(path, errno);
      ::close(dirfd);
      return;
    }
    std::vector<std::string> subdirs;
    bool has_modalias = false;
    errno = 0;
    while (struct dirent *e = readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
      }
      if (type == DT_DIR) subdirs.emplace_back(name);
      else if (type == DT_REG && name == "modalias") has_modalias = true;
    }
    if (has_modalias) read_modalias(dirfd, devpath, path);
    std::sort(subdirs.begin(), subdirs.end());
    if (depth < kMaxDepth) {
      for (const std::string &s : subdirs) {
        int fd = openat(dirfd, s.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
          problem(path + "/" + s, errno);
          continue;
        }
        walk(fd, devpath + "/" + s, path + "/" + s, depth + 1);
      }
    } else if (!subdirs.empty()) {
      out.problems.push_back("'" + path + "': deeper than " + std::to_string(kMaxDepth) + " levels, not descended");
    }
    closedir(d);
  }
};

}  // namespace

Result<ColdplugScan> scan_modaliases(const std::string &sys_root) {
  std::string top = sys_root + "/devices";
  int fd = ::open(top.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, "cannot open '" + top + "': " + std::strerror(errno));
  ColdplugScan scan;
  Walker w{scan};
  w.walk(fd, "/devices", top, 0);
  return scan;
}

std::vector<std::string> distinct_aliases(const std::vector<DeviceAlias> &devices) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const DeviceAlias &d : devices)
    if (seen.insert(d.modalias).second) out.push_back(d.modalias);
  return out;
}

}  // namespace kmx
