#include "base/mapped-file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace kmx {

namespace {

constexpr off_t small_file_limit = 1 << 20;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// A growable byte buffer whose new bytes are left uninitialised: read() fills them.
struct ReadBuffer {
  std::unique_ptr<u8[]> data;
  size_t cap = 0, used = 0;

  void reserve(size_t n) {
    if (n <= cap) return;
    std::unique_ptr<u8[]> bigger(new u8[n]);  // default-initialised: no memset
    if (used) std::memcpy(bigger.get(), data.get(), used);
    data = std::move(bigger);
    cap = n;
  }
};

// Read to end of file straight into `out` (no intermediate copy), growing it as needed.
Status read_all(int fd, ReadBuffer &out) {
  for (;;) {
    if (out.cap - out.used < 4096) out.reserve(std::max<size_t>(out.cap * 2, out.used + 65536));
    ssize_t n = ::read(fd, out.data.get() + out.used, out.cap - out.used);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      return fail_errno(e, std::string("read failed: ") + std::strerror(e));
    }
    if (n == 0) return {};
    out.used += static_cast<size_t>(n);
  }
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::string &path, Access access) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) return fail_errno(errno, std::strerror(errno));
  struct stat st;
  if (::fstat(f.fd, &st) < 0) return fail_errno(errno, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return fail_errno(EISDIR, std::strerror(EISDIR));

  MappedFile m;
  m.path_ = path;
  // Small files are read, not mapped: for thousands of ~100 KB modules read() is cheaper than
  // mmap's page faults plus munmap's TLB shootdowns across threads.
  if (S_ISREG(st.st_mode) && st.st_size > (access == Access::sparse ? 0 : small_file_limit)) {
    void *p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, f.fd, 0);
    if (p != MAP_FAILED) {
      m.map_ = p;
      m.size_ = static_cast<size_t>(st.st_size);
      return m;
    }
  }
  // Slack so that the read() which sees end of file needs no reallocation.
  ReadBuffer b;
  if (S_ISREG(st.st_mode)) b.reserve(static_cast<size_t>(st.st_size) + 4096);
  TRY(read_all(f.fd, b));
  m.buf_ = std::move(b.data);
  m.size_ = b.used;
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
  buf_.reset();
  size_ = 0;
}

Result<std::string> read_file(const std::string &path) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) return fail_errno(errno, std::strerror(errno));
  struct stat st;
  ReadBuffer b;
  if (::fstat(f.fd, &st) == 0 && S_ISREG(st.st_mode)) b.reserve(static_cast<size_t>(st.st_size) + 4096);
  TRY(read_all(f.fd, b));
  return std::string(reinterpret_cast<const char *>(b.data.get()), b.used);
}

}  // namespace kmx
