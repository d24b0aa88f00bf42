// A fast 64-bit hash of a byte string, for the store's point-lookup index.
//
// Not cryptographic and not stable across versions: it is only ever used in memory. Words of 8
// bytes are folded with a multiply-xorshift step, the tail is read as one short word, and the
// result goes through a murmur3-style finaliser so that both the low bits (the slot) and the
// high 16 bits (the tag stored in the slot) are well mixed.
//
// Thread-safety: pure function.
// Invariants:
//   1. Equal byte strings hash equal.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace dsql::storage {

inline uint64_t hash_key(std::string_view key) noexcept {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = 0x243F6A8885A308D3ULL ^ (n * kMul);
  while (n >= 8) {  // bounded by key.size() / 8 iterations
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w ^ (uint64_t{n} << 56)) * kMul;
    h ^= h >> 29;
  }
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace dsql::storage
