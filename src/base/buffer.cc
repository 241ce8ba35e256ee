#include "base/buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kmx {

namespace {

size_t page_round(size_t n) {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

// This thread's spare mapping (see buffer.h); unmapped when the thread ends.
struct Spare {
  u8 *data = nullptr;
  size_t mapped = 0;
  ~Spare() {
    if (data) ::munmap(data, mapped);
  }
};
thread_local Spare spare;

}  // namespace

Result<Buffer> Buffer::reserve(size_t capacity) {
  Buffer b;
  b.capacity_ = capacity;
  if (capacity == 0) return b;
  if (spare.data && spare.mapped >= page_round(capacity)) {
    b.data_ = spare.data;
    b.mapped_ = spare.mapped;
    spare.data = nullptr;
    spare.mapped = 0;
    return b;
  }
  b.mapped_ = page_round(capacity);
  void *p = ::mmap(nullptr, b.mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    b.mapped_ = 0;
    return fail_errno(e, "cannot reserve " + std::to_string(capacity) + " bytes: " + std::strerror(e));
  }
  b.data_ = static_cast<u8 *>(p);
  return b;
}

Result<Buffer> Buffer::copy_of(ByteView v) {
  TRY_ASSIGN(Buffer b, reserve(v.size()));
  if (!v.empty()) std::memcpy(b.data(), v.data(), v.size());
  b.set_size(v.size());
  return b;
}

Buffer::Buffer(Buffer &&o) noexcept : data_(o.data_), size_(o.size_), capacity_(o.capacity_), mapped_(o.mapped_) {
  o.data_ = nullptr;
  o.size_ = o.capacity_ = o.mapped_ = 0;
}

Buffer &Buffer::operator=(Buffer &&o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_;
    size_ = o.size_;
    capacity_ = o.capacity_;
    mapped_ = o.mapped_;
    o.data_ = nullptr;
    o.size_ = o.capacity_ = o.mapped_ = 0;
  }
  return *this;
}

Buffer::~Buffer() { release(); }

void Buffer::release() {
  if (data_ && !spare.data && mapped_ > kept_resident) {
    // Keep the mapping for this thread's next buffer, its pages past the first 8 MiB freed.
    ::madvise(data_ + kept_resident, mapped_ - kept_resident, MADV_DONTNEED);
    spare.data = data_;
    spare.mapped = mapped_;
  } else if (data_) {
    ::munmap(data_, mapped_);
  }
  data_ = nullptr;
  size_ = capacity_ = mapped_ = 0;
}

}  // namespace kmx
