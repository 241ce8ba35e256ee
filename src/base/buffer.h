// Buffer: an owned byte buffer that grows in place up to a capacity fixed at creation.
//
// It lives in its own anonymous mapping: the whole capacity is reserved as address space
// (MAP_NORESERVE) and a page becomes resident only when it is written. Growing therefore
// never copies, and the memory a buffer costs is the bytes written, never more: a
// std::vector that doubles holds the old and the new array at once, 1.5x to 2x its
// content at the moment of the copy. Decompressors write into it (decompress/).
//
// Each thread keeps the mapping of its last released buffer, with at most its first 8 MiB
// still resident, for its next reserve(): reading thousands of modules in a row then
// rewrites pages it already has instead of faulting in fresh ones for every file.
#pragma once

#include <cstddef>

#include "base/bytes.h"
#include "base/result.h"

namespace kmx {

class Buffer {
public:
  Buffer() = default;
  // Reserves `capacity` bytes of address space; nothing is resident yet.
  static Result<Buffer> reserve(size_t capacity);
  // A buffer holding a copy of `v`.
  static Result<Buffer> copy_of(ByteView v);

  Buffer(Buffer &&o) noexcept;
  Buffer &operator=(Buffer &&o) noexcept;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer();

  u8 *data() { return data_; }
  const u8 *data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  const u8 *begin() const { return data_; }
  const u8 *end() const { return data_ + size_; }
  operator ByteView() const { return ByteView(data_, size_); }

  // Sets how many bytes (at most capacity()) hold data.
  void set_size(size_t n) { size_ = n <= capacity_ ? n : capacity_; }

private:
  void release();
  static constexpr size_t kept_resident = 8u << 20;

  u8 *data_ = nullptr;
  size_t size_ = 0, capacity_ = 0, mapped_ = 0;
};

}  // namespace kmx
