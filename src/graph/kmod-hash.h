// The iteration order of kmod's shared/hash.c, which decides the order of depmod's module
// list (before modules.order sorting) and of modules.symbols.
//
// kmod's hash has a power-of-two number of buckets indexed by Paul Hsieh's SuperFastHash of
// the key; each bucket keeps its entries sorted by strcmp(). Iteration walks buckets in
// index order and entries in bucket order, so the order is a pure function of the key set
// and the bucket count -- insertions, replacements and deletions do not affect it.
#pragma once

#include <cstring>
#include <string_view>

#include "base/types.h"

namespace kmx {

// hash_superfast() as kmod computes it on little-endian hosts (16-bit loads in host order;
// the two single-byte reads go through plain, signed `char`).
inline u32 kmod_hash_superfast(std::string_view s) {
  const char *key = s.data();
  u32 len = static_cast<u32>(s.size());
  u32 tmp, hash = len, rem = len & 3;
  auto get16 = [](const char *p) {
    u16 v;
    std::memcpy(&v, p, 2);
    return static_cast<u32>(v);
  };
  len /= 4;
  for (; len > 0; len--) {
    hash += get16(key);
    tmp = (get16(key + 2) << 11) ^ hash;
    hash = (hash << 16) ^ tmp;
    key += 4;
    hash += hash >> 11;
  }
  switch (rem) {
    case 3:
      hash += get16(key);
      hash ^= hash << 16;
      hash ^= static_cast<u32>(static_cast<int>(static_cast<signed char>(key[2])) << 18);
      hash += hash >> 11;
      break;
    case 2:
      hash += get16(key);
      hash ^= hash << 11;
      hash += hash >> 17;
      break;
    case 1:
      hash += static_cast<u32>(static_cast<int>(static_cast<signed char>(*key)));
      hash ^= hash << 10;
      hash += hash >> 1;
      break;
  }
  hash ^= hash << 3;
  hash += hash >> 5;
  hash ^= hash << 4;
  hash += hash >> 17;
  hash ^= hash << 25;
  hash += hash >> 6;
  return hash;
}

// kmod's ALIGN_POWER2 of the requested bucket count.
inline u32 kmod_hash_buckets(u32 requested) {
  u32 n = 1;
  while (n < requested) n <<= 1;
  return n;
}

// Strict weak order equal to kmod's hash iteration order for a table of `buckets` buckets.
struct KmodHashOrder {
  u32 mask;
  explicit KmodHashOrder(u32 requested_buckets) : mask(kmod_hash_buckets(requested_buckets) - 1) {}
  u32 bucket(std::string_view k) const { return kmod_hash_superfast(k) & mask; }
  bool operator()(std::string_view a, std::string_view b) const {
    u32 ba = bucket(a), bb = bucket(b);
    if (ba != bb) return ba < bb;
    return a < b;  // strcmp order on bytes
  }
};

}  // namespace kmx
