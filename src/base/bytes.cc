#include "base/bytes.h"

namespace kmx {

std::string hex(ByteView v) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(v.size() * 2);
  for (u8 b : v) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 15]);
  }
  return s;
}

u64 fnv1a64(ByteView v) {
  u64 h = 0xcbf29ce484222325ull;
  for (u8 b : v) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace kmx
