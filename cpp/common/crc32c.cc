#include "common/crc32c.h"

#include <array>
#include <cassert>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define DSQL_CRC32C_X86 1
#else
#define DSQL_CRC32C_X86 0
#endif

namespace dsql::crc32c {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // reflected Castagnoli

// tables[0] is the classic byte table; tables[k][b] is the crc of byte b followed by k zero
// bytes, which lets the portable loop fold eight bytes per step (slicing-by-8).
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? (c >> 1) ^ kPolynomial : c >> 1;
    t[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  }
  return t;
}

constexpr Tables kTables = make_tables();
static_assert(kTables[0][1] == 0xF26B8303u, "CRC32C table entry 1");

uint64_t load_le64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);  // the journal is little-endian only (see format.h)
  return v;
}

#if DSQL_CRC32C_X86
__attribute__((target("sse4.2"))) uint32_t hardware_loop(uint32_t crc, const unsigned char* p,
                                                          size_t n) {
  uint64_t c = crc;
  // Head bytes up to 8-byte alignment, then 8 bytes per instruction, then the tail.
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7u) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  while (n >= 8) {
    c = _mm_crc32_u64(c, load_le64(p));
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  return static_cast<uint32_t>(c);
}
#endif

bool detect_hardware() noexcept {
#if DSQL_CRC32C_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

}  // namespace

bool hardware_available() noexcept {
  static const bool available = detect_hardware();
  return available;
}

const char* implementation() noexcept { return hardware_available() ? "sse4.2" : "table"; }

uint32_t extend_portable(uint32_t crc, const void* data, size_t n) noexcept {
  assert(data != nullptr || n == 0);
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  while (n >= 8) {
    const uint64_t word = load_le64(p) ^ c;
    c = kTables[7][word & 0xFF] ^ kTables[6][(word >> 8) & 0xFF] ^
        kTables[5][(word >> 16) & 0xFF] ^ kTables[4][(word >> 24) & 0xFF] ^
        kTables[3][(word >> 32) & 0xFF] ^ kTables[2][(word >> 40) & 0xFF] ^
        kTables[1][(word >> 48) & 0xFF] ^ kTables[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xFFu];
    --n;
  }
  return ~c;
}

uint32_t extend_hardware(uint32_t crc, const void* data, size_t n) noexcept {
  assert(hardware_available());
  assert(data != nullptr || n == 0);
#if DSQL_CRC32C_X86
  return ~hardware_loop(~crc, static_cast<const unsigned char*>(data), n);
#else
  return extend_portable(crc, data, n);
#endif
}

uint32_t extend(uint32_t crc, const void* data, size_t n) noexcept {
  return hardware_available() ? extend_hardware(crc, data, n) : extend_portable(crc, data, n);
}

}  // namespace dsql::crc32c
