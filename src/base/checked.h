// Overflow-checked arithmetic for sizes and offsets read from untrusted files.
#pragma once

#include <optional>

#include "base/types.h"

namespace kmx {

template <typename T>
inline std::optional<T> checked_add(T a, T b) {
  T r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

template <typename T>
inline std::optional<T> checked_mul(T a, T b) {
  T r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// True when [off, off+len) lies inside [0, size), computed without overflow.
inline bool range_ok(u64 off, u64 len, u64 size) { return off <= size && len <= size - off; }

}  // namespace kmx
