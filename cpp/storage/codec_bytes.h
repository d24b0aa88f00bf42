// Byte-level helpers shared by the key codec and the row codec: big-endian fixed-width
// integers, LEB128 varints and the zigzag mapping of signed integers onto unsigned ones.
//
// Everything here is inline: the Cython binding (src/dsql/_core/codec.pyx) calls these in its
// per-row loops and they must inline there.
//
// Thread-safety: pure functions; callers own the buffers they pass.
// Invariants:
//   1. put_varint writes at most kVarintMax bytes; get_varint reads at most kVarintMax bytes and
//      never reads at or past `end`.
//   2. unzigzag(zigzag(v)) == v for every int64 v.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace dsql::storage::bytes {

inline constexpr size_t kVarintMax = 10;

inline void put_be16(std::string* out, uint16_t v) {
  assert(out != nullptr);
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(b, 2);
}

inline void put_be32(std::string* out, uint32_t v) {
  assert(out != nullptr);
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(b, 4);
}

inline void put_be64(std::string* out, uint64_t v) {
  assert(out != nullptr);
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v);
    v >>= 8;
  }
  out->append(b, 8);
}

inline uint16_t load_be16(const uint8_t* p) {
  assert(p != nullptr);
  return static_cast<uint16_t>((uint16_t{p[0]} << 8) | p[1]);
}

inline uint32_t load_be32(const uint8_t* p) {
  assert(p != nullptr);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

inline uint64_t load_be64(const uint8_t* p) {
  assert(p != nullptr);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// Little-endian fixed 64 bits (row values: timestamps, float8), via memcpy on this
// little-endian target.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the row codec assumes little-endian");

inline void put_le64(std::string* out, uint64_t v) {
  assert(out != nullptr);
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}

inline void put_le32(std::string* out, uint32_t v) {
  assert(out != nullptr);
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}

inline uint64_t load_le64(const uint8_t* p) {
  assert(p != nullptr);
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint32_t load_le32(const uint8_t* p) {
  assert(p != nullptr);
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

inline int64_t unzigzag(uint64_t u) {
  return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
}

// LEB128: 7 bits per byte, low groups first, high bit set on every byte but the last.
inline void put_varint(std::string* out, uint64_t v) {
  assert(out != nullptr);
  char b[kVarintMax];
  size_t n = 0;
  while (v >= 0x80) {  // bounded: v loses 7 bits per round, so at most 9 rounds
    b[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  assert(n <= kVarintMax);
  out->append(b, n);
}

// Reads one varint from [p, end). Returns the byte after it, or nullptr if the varint is
// truncated or longer than 64 bits.
inline const uint8_t* get_varint(const uint8_t* p, const uint8_t* end, uint64_t* v) {
  assert(v != nullptr);
  assert(p != nullptr && p <= end);
  if (p < end && *p < 0x80) {  // the common one-byte case
    *v = *p;
    return p + 1;
  }
  uint64_t result = 0;
  for (size_t i = 0; i < kVarintMax; ++i) {
    if (p >= end) return nullptr;
    const uint64_t byte = *p++;
    if (i == kVarintMax - 1 && byte > 1) return nullptr;  // would overflow 64 bits
    result |= (byte & 0x7F) << (7 * i);
    if (byte < 0x80) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

}  // namespace dsql::storage::bytes
