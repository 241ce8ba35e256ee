#include "base/dirs.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

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

}  // namespace kmx
