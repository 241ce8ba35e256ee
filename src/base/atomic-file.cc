#include "base/atomic-file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "base/mapped-file.h"

namespace kmx {

namespace {

constexpr std::string_view tmp_marker = ".kmx-tmp-";

// Writes `content` to a new temporary beside `path`; returns its name.
Result<std::string> write_temporary(const std::string &path, std::string_view content, unsigned mode) {
  std::string tmp = path + std::string(tmp_marker) + "XXXXXX";
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
  return tmp;
}

bool unchanged(const std::string &path, std::string_view content) {
  auto old = MappedFile::open(path);
  return old && old->view().as_string() == content;
}

}  // namespace

Result<bool> write_file_atomic(const std::string &path, std::string_view content, unsigned mode,
                               IfUnchanged policy) {
  if (policy == IfUnchanged::keep && unchanged(path, content)) return false;
  TRY_ASSIGN(std::string tmp, write_temporary(path, content, mode));
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return fail_errno(e, "cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(e));
  }
  return true;
}

Status FileSet::stage(const std::string &path, std::string_view content, unsigned mode, IfUnchanged policy) {
  if (policy == IfUnchanged::keep && unchanged(path, content)) return {};
  auto tmp = write_temporary(path, content, mode);
  if (!tmp) {
    abort();
    return fail(std::move(tmp).error());
  }
  staged_.push_back({std::move(*tmp), path});
  return {};
}

Status FileSet::commit() {
  for (size_t i = 0; i < staged_.size(); i++) {
    if (::rename(staged_[i].tmp.c_str(), staged_[i].path.c_str()) < 0) {
      int e = errno;
      std::string msg = "cannot rename '" + staged_[i].tmp + "' to '" + staged_[i].path + "': " + std::strerror(e);
      staged_.erase(staged_.begin(), staged_.begin() + static_cast<std::ptrdiff_t>(i));
      abort();
      return fail_errno(e, msg);
    }
  }
  staged_.clear();
  return {};
}

void FileSet::abort() {
  for (const Staged &s : staged_) ::unlink(s.tmp.c_str());
  staged_.clear();
}

Result<DirLock> DirLock::acquire(const std::string &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, "cannot open directory '" + dir + "': " + std::strerror(errno));
  while (::flock(fd, LOCK_EX) < 0) {
    if (errno == EINTR) continue;
    int e = errno;
    ::close(fd);
    return fail_errno(e, "cannot lock directory '" + dir + "': " + std::strerror(e));
  }
  return DirLock(fd);
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

size_t DirLock::remove_stale_temporaries() const {
  int fd = ::dup(fd_);
  if (fd < 0) return 0;
  DIR *d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return 0;
  }
  std::vector<std::string> stale;
  while (struct dirent *de = ::readdir(d)) {
    std::string_view name = de->d_name;
    size_t at = name.rfind(tmp_marker);
    // mkostemp's six characters follow the marker.
    if (at != std::string_view::npos && at > 0 && name.size() == at + tmp_marker.size() + 6) stale.emplace_back(name);
  }
  size_t n = 0;
  for (const std::string &name : stale)
    if (::unlinkat(::dirfd(d), name.c_str(), 0) == 0) n++;
  ::closedir(d);
  return n;
}

}  // namespace kmx
