#include "base/mapped-file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace kmx {

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status read_all(int fd, Bytes &out) {
  u8 chunk[65536];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, std::string("read failed: ") + std::strerror(errno));
    }
    if (n == 0) return {};
    out.insert(out.end(), chunk, chunk + n);
  }
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::string &path) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) return fail_errno(errno, std::strerror(errno));
  struct stat st;
  if (::fstat(f.fd, &st) < 0) return fail_errno(errno, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return fail_errno(EISDIR, std::strerror(EISDIR));

  MappedFile m;
  m.path_ = path;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void *p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, f.fd, 0);
    if (p != MAP_FAILED) {
      m.map_ = p;
      m.size_ = static_cast<size_t>(st.st_size);
      return m;
    }
  }
  TRY(read_all(f.fd, m.buf_));
  return m;
}

MappedFile::MappedFile(MappedFile &&o) noexcept
    : path_(std::move(o.path_)), map_(o.map_), size_(o.size_), buf_(std::move(o.buf_)) {
  o.map_ = nullptr;
  o.size_ = 0;
}

MappedFile &MappedFile::operator=(MappedFile &&o) noexcept {
  if (this != &o) {
    reset();
    path_ = std::move(o.path_);
    map_ = o.map_;
    size_ = o.size_;
    buf_ = std::move(o.buf_);
    o.map_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() { reset(); }

void MappedFile::reset() {
  if (map_) ::munmap(map_, size_);
  map_ = nullptr;
  size_ = 0;
}

Result<std::string> read_file(const std::string &path) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) return fail_errno(errno, std::strerror(errno));
  Bytes b;
  TRY(read_all(f.fd, b));
  return std::string(b.begin(), b.end());
}

}  // namespace kmx
