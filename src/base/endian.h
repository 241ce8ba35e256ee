// Byte-order-safe integers (the mold integers.h pattern).
//
// Integer<T, LE> stores the bytes exactly as they are in the file and converts on access,
// so a struct of these can describe an on-disk layout for either byte order without
// alignment or host-endianness assumptions. Values are always read via memcpy.
#pragma once

#include <cstring>

#include "base/types.h"

namespace kmx {

constexpr bool host_is_le = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

template <typename T>
inline T bswap(T v) {
  if constexpr (sizeof(T) == 1) return v;
  else if constexpr (sizeof(T) == 2) return static_cast<T>(__builtin_bswap16(static_cast<u16>(v)));
  else if constexpr (sizeof(T) == 4) return static_cast<T>(__builtin_bswap32(static_cast<u32>(v)));
  else return static_cast<T>(__builtin_bswap64(static_cast<u64>(v)));
}

template <typename T, bool IsLE>
inline T load(const void *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (IsLE != host_is_le) v = bswap(v);
  return v;
}

template <typename T, bool IsLE>
inline void store(void *p, T v) {
  if constexpr (IsLE != host_is_le) v = bswap(v);
  std::memcpy(p, &v, sizeof(T));
}

template <typename T, bool IsLE>
class Integer {
public:
  Integer() = default;
  Integer(T v) { *this = v; }
  operator T() const { return load<T, IsLE>(bytes_); }
  Integer &operator=(T v) {
    store<T, IsLE>(bytes_, v);
    return *this;
  }

private:
  u8 bytes_[sizeof(T)];
};

using ul16 = Integer<u16, true>;
using ul32 = Integer<u32, true>;
using ul64 = Integer<u64, true>;
using ub16 = Integer<u16, false>;
using ub32 = Integer<u32, false>;
using ub64 = Integer<u64, false>;

static_assert(sizeof(ul64) == 8 && alignof(ul64) == 1);

}  // namespace kmx
