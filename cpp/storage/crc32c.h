// CRC-32C (Castagnoli), the checksum of checkpoint blocks.
//
// Software slicing-by-8 over the reflected polynomial 0x82F63B78; tables are built at compile
// time. crc32c("123456789") == 0xE3069283.
//
// Thread-safety: pure functions over constant tables.
// Invariants:
//   1. crc32c_extend(crc32c(a), b) == crc32c(a ++ b).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dsql::storage {

// Continues a CRC over `data` (pass 0 to start).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n) noexcept;
inline uint32_t crc32c(const void* data, size_t n) noexcept { return crc32c_extend(0, data, n); }

}  // namespace dsql::storage
