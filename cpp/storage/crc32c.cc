#include "storage/crc32c.h"

#include <array>
#include <cassert>
#include <cstring>

namespace dsql::storage {

namespace {

constexpr uint32_t kPoly = 0x82F63B78u;

constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (size_t s = 1; s < 8; ++s) {
    for (uint32_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
  return t;
}

constexpr auto kTables = make_tables();
static_assert(kTables[0][1] == 0xF26B8303u);

}  // namespace

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n) noexcept {
  assert(data != nullptr || n == 0);
  const unsigned char* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  while (n >= 8) {  // bounded by n / 8
    uint64_t w;
    std::memcpy(&w, p, 8);  // little-endian host (checked in checkpoint.cc)
    w ^= c;
    c = kTables[7][w & 0xFF] ^ kTables[6][(w >> 8) & 0xFF] ^ kTables[5][(w >> 16) & 0xFF] ^
        kTables[4][(w >> 24) & 0xFF] ^ kTables[3][(w >> 32) & 0xFF] ^
        kTables[2][(w >> 40) & 0xFF] ^ kTables[1][(w >> 48) & 0xFF] ^ kTables[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {  // bounded: fewer than 8 bytes
    c = kTables[0][(c ^ *p) & 0xFF] ^ (c >> 8);
    ++p;
    --n;
  }
  return ~c;
}

}  // namespace dsql::storage
