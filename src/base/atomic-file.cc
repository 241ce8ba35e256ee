#include "base/atomic-file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "base/mapped-file.h"

namespace kmx {

Result<bool> write_file_atomic(const std::string &path, std::string_view content, unsigned mode,
                               IfUnchanged policy) {
  if (policy == IfUnchanged::keep) {
    auto old = MappedFile::open(path);
    if (old && old->view().as_string() == content) return false;
  }

  std::string tmp = path + ".kmx-tmp-XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, "cannot create temporary file for '" + path + "': " + std::strerror(errno));

  const char *p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail_errno(e, "cannot write '" + tmp + "': " + std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) < 0 || ::close(fd) < 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return fail_errno(e, "cannot finish '" + tmp + "': " + std::strerror(e));
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return fail_errno(e, "cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(e));
  }
  return true;
}

}  // namespace kmx
