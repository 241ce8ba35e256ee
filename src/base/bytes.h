// ByteView (bounds-checked borrowed bytes) and Cursor (sequential reader, sticky error).
//
// Every range check is done in integer space (`off > size || len > size - off`), never by
// forming `data + off` first. A Cursor that runs past its end returns zeros / empty views,
// stops advancing and remembers the failure, so a whole record can be read and then checked
// once with ok() (LLVM DataExtractor::Cursor).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/endian.h"
#include "base/types.h"

namespace kmx {

using Bytes = std::vector<u8>;

class ByteView {
public:
  ByteView() = default;
  ByteView(const u8 *data, size_t size) : data_(data), size_(size) {}
  ByteView(std::span<const u8> s) : data_(s.data()), size_(s.size()) {}
  ByteView(const Bytes &b) : data_(b.data()), size_(b.size()) {}
  explicit ByteView(std::string_view s) : data_(reinterpret_cast<const u8 *>(s.data())), size_(s.size()) {}

  const u8 *data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const u8 *begin() const { return data_; }
  const u8 *end() const { return data_ + size_; }
  u8 operator[](size_t i) const { return data_[i]; }

  bool contains(u64 off, u64 len) const { return off <= size_ && len <= size_ - off; }

  // The sub-range [off, off+len), or nullopt if it does not fit.
  std::optional<ByteView> sub(u64 off, u64 len) const {
    if (!contains(off, len)) return std::nullopt;
    return ByteView(data_ + off, static_cast<size_t>(len));
  }
  // The bytes from off to the end, or nullopt.
  std::optional<ByteView> from(u64 off) const {
    if (off > size_) return std::nullopt;
    return ByteView(data_ + off, size_ - static_cast<size_t>(off));
  }

  std::string_view as_string() const { return {reinterpret_cast<const char *>(data_), size_}; }
  bool starts_with(ByteView p) const { return p.size_ <= size_ && std::equal(p.begin(), p.end(), data_); }
  bool ends_with(std::string_view s) const {
    return s.size() <= size_ && as_string().substr(size_ - s.size()) == s;
  }

  template <typename T, bool IsLE>
  std::optional<T> read(u64 off) const {
    if (!contains(off, sizeof(T))) return std::nullopt;
    return load<T, IsLE>(data_ + off);
  }

private:
  const u8 *data_ = nullptr;
  size_t size_ = 0;
};

class Cursor {
public:
  explicit Cursor(ByteView v, u64 pos = 0) : v_(v), pos_(pos) {
    if (pos > v.size()) ok_ = false;
  }

  bool ok() const { return ok_; }
  u64 pos() const { return pos_; }
  u64 remaining() const { return ok_ ? v_.size() - pos_ : 0; }
  bool at_end() const { return !ok_ || pos_ >= v_.size(); }

  template <typename T, bool IsLE>
  T read() {
    if (!ok_ || !v_.contains(pos_, sizeof(T))) {
      ok_ = false;
      return T{};
    }
    T v = load<T, IsLE>(v_.data() + pos_);
    pos_ += sizeof(T);
    return v;
  }
  u8 u8v() { return read<u8, true>(); }
  u32 be32() { return read<u32, false>(); }
  u32 le32() { return read<u32, true>(); }

  ByteView bytes(u64 n) {
    if (!ok_ || !v_.contains(pos_, n)) {
      ok_ = false;
      return {};
    }
    ByteView r(v_.data() + pos_, static_cast<size_t>(n));
    pos_ += n;
    return r;
  }

  // A NUL-terminated string; the terminator is consumed but not returned.
  std::string_view cstr() {
    if (!ok_) return {};
    for (u64 i = pos_; i < v_.size(); i++) {
      if (v_[i] == 0) {
        std::string_view s(reinterpret_cast<const char *>(v_.data() + pos_), i - pos_);
        pos_ = i + 1;
        return s;
      }
    }
    ok_ = false;
    return {};
  }

  void seek(u64 pos) {
    if (pos > v_.size()) ok_ = false;
    else pos_ = pos;
  }
  void skip(u64 n) {
    if (!ok_ || !v_.contains(pos_, n)) ok_ = false;
    else pos_ += n;
  }

private:
  ByteView v_;
  u64 pos_ = 0;
  bool ok_ = true;
};

// Append big-endian integers to a byte buffer (index files are always big-endian).
inline void put_be32(Bytes &out, u32 v) {
  u8 b[4];
  store<u32, false>(b, v);
  out.insert(out.end(), b, b + 4);
}

std::string hex(ByteView v);

// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3): checksums and cache
// file names, not security.
u64 fnv1a64(ByteView v);

}  // namespace kmx
