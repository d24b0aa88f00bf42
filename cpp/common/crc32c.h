// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of journal records and
// checkpoint blocks.
//
// Two implementations give identical results: the SSE4.2 `crc32` instruction, used when the CPU
// reports SSE4.2 at run time, and a portable slicing-by-8 table walk. extend() picks one once per
// process; both are exported so that tests can check each against known vectors.
//
// Conventions: a crc value is the finished (post-inverted) checksum, as in RFC 3720, so
//   value(ab) == extend(value(a), b)   and   value("") == 0.
//
// Thread-safety: every function is pure and may be called concurrently. The dispatch choice is a
// function-local static, initialised once.
// Invariants:
//   1. extend_portable(c, p, n) == extend_hardware(c, p, n) for all inputs (when hardware exists).
//   2. extend(c, p, 0) == c.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dsql::crc32c {

// True when the CPU running this process has the SSE4.2 crc32 instruction.
bool hardware_available() noexcept;
// "sse4.2" or "table": which implementation extend() uses.
const char* implementation() noexcept;

// The crc of (bytes whose crc is `crc`) followed by data[0, n).
uint32_t extend(uint32_t crc, const void* data, size_t n) noexcept;
uint32_t extend_portable(uint32_t crc, const void* data, size_t n) noexcept;
// REQUIRES: hardware_available().
uint32_t extend_hardware(uint32_t crc, const void* data, size_t n) noexcept;

inline uint32_t value(const void* data, size_t n) noexcept { return extend(0, data, n); }
inline uint32_t value(std::string_view s) noexcept { return extend(0, s.data(), s.size()); }

}  // namespace dsql::crc32c
