// The order-preserving ("memcomparable") key codec: keys whose bytewise order (memcmp, a
// shorter prefix first) is PostgreSQL's order of the SQL values they hold.
//
// Format (also in docs/encodings.md). Every column encoding is self-delimiting, so columns
// simply follow each other:
//
//   key      := prefix column*
//   prefix   := uint32 big-endian, 4 bytes: the table or index id, 0 .. 0xFFFFFFFE
//               (0xFFFFFFFF is reserved so that every key range has an upper bound)
//   column   := 0x00            NULL in a NULLS FIRST column
//             | 0x02            NULL in a NULLS LAST column
//             | 0x01 body       a value: the ASC body below; in a DESC column every byte of
//                               the body is inverted (b -> 0xFF - b). The marker is never
//                               inverted: it places NULLs as the column asks.
//   body (ASC), by type:
//     bool                       0x00 | 0x01
//     int2 | int4 | int8         two's complement with the sign bit flipped, big-endian, 2/4/8
//     date                       as int4: days since 2000-01-01 (infinities: INT32_MIN/MAX)
//     time | timestamp | timestamptz   as int8: microseconds (since midnight / since
//                                2000-01-01 00:00, UTC for timestamptz; infinities INT64_MIN/MAX)
//     float4 | float8            IEEE bits after -0 -> +0 and every NaN -> the quiet NaN
//                                (0x7FC00000 / 0x7FF8000000000000); negative: all bits
//                                inverted, else sign bit set; big-endian, 4/8 bytes
//     text | varchar | bytea     escaped 0x00 0x01, escaped = the bytes with each 0x00 written
//                                as 0x00 0xFF
//     bpchar                     as text, after removing trailing spaces (PostgreSQL compares
//                                character(n) without them, so 'a' and 'a  ' are one key)
//     uuid                       the 16 bytes
//     interval                   span months days: span = (months*30 + days) * 86400e6 + µs as
//                                int128 (sign flipped, big-endian, 16 bytes), then months and
//                                days as int4. PostgreSQL's order is span order; '1 mon' and
//                                '30 days' are equal there but are adjacent, distinct keys
//                                here (months then days break the tie), so decode is exact.
//     numeric                    0x01 (-Infinity) | 0x02 ~magnitude (negative; the bytes after
//                                0x02 inverted) | 0x03 (zero) | 0x04 magnitude (positive)
//                                | 0x05 (Infinity) | 0x06 (NaN)
//       magnitude  := E digits, for |x| = 0.d1 d2 .. dn x 10^E with d1 != 0 and dn != 0
//                     (trailing zeros removed, so 1.0 and 1.00 are one key)
//       E          := as int4
//       digits     := pair* last; each byte holds two digits p = 10*d(2i-1) + d(2i) (an odd
//                     count is padded with a 0 digit): 2p+1 for a pair that is followed by
//                     another, 2p for the last pair
//
// Decoding gives back equal values: bpchar without trailing spaces, numeric with the smallest
// scale >= 0 (1.50 -> 1.5, 1E+2 -> 100), floats with -0 as 0 and NaN canonical.
//
// KeyWriter and KeyReader are the primitives (inline: the Cython binding calls them per value);
// KeyLayout is the Datum-level API built on them.
//
// Thread-safety: KeyWriter / KeyReader are single-threaded views over caller-owned buffers.
// KeyLayout is immutable after construction; concurrent calls are safe.
// Invariants:
//   1. For values a, b of a column: encode(a) < encode(b) bytewise iff a < b in PostgreSQL's
//      order with the column's direction and NULL placement; equal values encode identically
//      (except intervals with the same span and different months/days, see above).
//   2. No column encoding is a proper prefix of another encoding of the same column type.
//   3. decode(encode(v)) equals v in PostgreSQL's sense.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/codec_bytes.h"
#include "storage/datum.h"

namespace dsql::storage {

inline constexpr uint32_t kMaxKeyPrefix = 0xFFFF'FFFE;
inline constexpr uint8_t kKeyNullFirst = 0x00;
inline constexpr uint8_t kKeyValue = 0x01;
inline constexpr uint8_t kKeyNullLast = 0x02;

// Numeric class bytes.
inline constexpr uint8_t kNumNegInf = 0x01;
inline constexpr uint8_t kNumNegative = 0x02;
inline constexpr uint8_t kNumZero = 0x03;
inline constexpr uint8_t kNumPositive = 0x04;
inline constexpr uint8_t kNumPosInf = 0x05;
inline constexpr uint8_t kNumNaN = 0x06;

// Appends key pieces to a caller-owned string.
class KeyWriter {
 public:
  KeyWriter() = default;  // reset() gives it a string to append to
  explicit KeyWriter(std::string* out) { reset(out); }
  void reset(std::string* out) {
    assert(out != nullptr);
    out_ = out;
  }

  // REQUIRES: id <= kMaxKeyPrefix.
  void prefix(uint32_t id) {
    assert(id <= kMaxKeyPrefix);
    bytes::put_be32(out_, id);
  }
  void null(bool nulls_first) {
    out_->push_back(static_cast<char>(nulls_first ? kKeyNullFirst : kKeyNullLast));
  }
  // The marker of a present value; the body follows.
  void value() { out_->push_back(static_cast<char>(kKeyValue)); }

  void boolean(bool v, bool desc) {
    out_->push_back(static_cast<char>((v ? 1 : 0) ^ (desc ? 0xFF : 0)));
  }
  void int16(int16_t v, bool desc) {
    const uint16_t u = static_cast<uint16_t>(static_cast<uint16_t>(v) ^ 0x8000u);
    bytes::put_be16(out_, desc ? static_cast<uint16_t>(~u) : u);
  }
  void int32(int32_t v, bool desc) {
    const uint32_t u = static_cast<uint32_t>(v) ^ 0x8000'0000u;
    bytes::put_be32(out_, desc ? ~u : u);
  }
  void int64(int64_t v, bool desc) {
    const uint64_t u = static_cast<uint64_t>(v) ^ 0x8000'0000'0000'0000ull;
    bytes::put_be64(out_, desc ? ~u : u);
  }
  void float4(float v, bool desc) {
    uint32_t bits;
    if (v != v) {
      bits = 0x7FC0'0000u;
    } else {
      if (v == 0.0f) v = 0.0f;  // -0 -> +0
      std::memcpy(&bits, &v, 4);
    }
    bits = (bits & 0x8000'0000u) ? ~bits : (bits | 0x8000'0000u);
    bytes::put_be32(out_, desc ? ~bits : bits);
  }
  void float8(double v, bool desc) {
    uint64_t bits;
    if (v != v) {
      bits = 0x7FF8'0000'0000'0000ull;
    } else {
      if (v == 0.0) v = 0.0;  // -0 -> +0
      std::memcpy(&bits, &v, 8);
    }
    bits = (bits >> 63) ? ~bits : (bits | 0x8000'0000'0000'0000ull);
    bytes::put_be64(out_, desc ? ~bits : bits);
  }
  // text, varchar and bytea.
  void text(const char* data, size_t size, bool desc) {
    assert(data != nullptr || size == 0);
    const size_t start = out_->size();
    const char* p = data;
    const char* const end = data + size;
    while (p < end) {  // bounded: every round consumes at least one byte
      const void* z = std::memchr(p, 0, static_cast<size_t>(end - p));
      if (z == nullptr) {
        out_->append(p, static_cast<size_t>(end - p));
        break;
      }
      const char* zc = static_cast<const char*>(z);
      out_->append(p, static_cast<size_t>(zc - p));
      out_->append("\x00\xff", 2);
      p = zc + 1;
    }
    out_->append("\x00\x01", 2);
    if (desc) invert_from(start);
    assert(out_->size() >= start + size + 2);
  }
  void bpchar(const char* data, size_t size, bool desc) {
    while (size > 0 && data[size - 1] == ' ') --size;  // bounded by size
    text(data, size, desc);
  }
  void uuid(const uint8_t* data16, bool desc) {
    assert(data16 != nullptr);
    const size_t start = out_->size();
    out_->append(reinterpret_cast<const char*>(data16), 16);
    if (desc) invert_from(start);
  }
  void interval(int32_t months, int32_t days, int64_t microseconds, bool desc);
  // REQUIRES: n.well_formed().
  void numeric(const Numeric& n, bool desc);

 private:
  void invert_from(size_t start) {
    assert(start <= out_->size());
    char* p = out_->data();
    for (size_t i = start; i < out_->size(); ++i) p[i] = static_cast<char>(~p[i]);
  }

  std::string* out_ = nullptr;
};

// Reads key pieces from a caller-owned buffer. Every read returns false (and the reader is
// then unusable) if the bytes are not a valid encoding.
class KeyReader {
 public:
  KeyReader() = default;  // empty; reset() points it at a key
  KeyReader(const char* data, size_t size) { reset(data, size); }
  void reset(const char* data, size_t size) {
    assert(data != nullptr || size == 0);
    p_ = reinterpret_cast<const uint8_t*>(data);
    end_ = p_ + size;
  }

  bool at_end() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  bool prefix(uint32_t* id) {
    assert(id != nullptr);
    if (remaining() < 4) return false;
    *id = bytes::load_be32(p_);
    p_ += 4;
    return *id <= kMaxKeyPrefix;
  }
  // A column's marker: sets *is_null; false if it is not a marker this column can hold.
  bool marker(bool nulls_first, bool* is_null) {
    assert(is_null != nullptr);
    if (p_ >= end_) return false;
    const uint8_t m = *p_++;
    *is_null = m != kKeyValue;
    return m == kKeyValue || m == (nulls_first ? kKeyNullFirst : kKeyNullLast);
  }
  bool boolean(bool desc, bool* v) {
    if (p_ >= end_) return false;
    const uint8_t b = *p_++ ^ (desc ? 0xFF : 0);
    *v = b == 1;
    return b <= 1;
  }
  bool int16(bool desc, int16_t* v) {
    if (remaining() < 2) return false;
    uint16_t u = bytes::load_be16(p_);
    p_ += 2;
    if (desc) u = static_cast<uint16_t>(~u);
    *v = static_cast<int16_t>(static_cast<uint16_t>(u ^ 0x8000u));
    return true;
  }
  bool int32(bool desc, int32_t* v) {
    if (remaining() < 4) return false;
    uint32_t u = bytes::load_be32(p_);
    p_ += 4;
    if (desc) u = ~u;
    *v = static_cast<int32_t>(u ^ 0x8000'0000u);
    return true;
  }
  bool int64(bool desc, int64_t* v) {
    if (remaining() < 8) return false;
    uint64_t u = bytes::load_be64(p_);
    p_ += 8;
    if (desc) u = ~u;
    *v = static_cast<int64_t>(u ^ 0x8000'0000'0000'0000ull);
    return true;
  }
  bool float4(bool desc, float* v) {
    if (remaining() < 4) return false;
    uint32_t bits = bytes::load_be32(p_);
    p_ += 4;
    if (desc) bits = ~bits;
    bits = (bits & 0x8000'0000u) ? (bits & 0x7FFF'FFFFu) : ~bits;
    std::memcpy(v, &bits, 4);
    return true;
  }
  bool float8(bool desc, double* v) {
    if (remaining() < 8) return false;
    uint64_t bits = bytes::load_be64(p_);
    p_ += 8;
    if (desc) bits = ~bits;
    bits = (bits >> 63) ? (bits & 0x7FFF'FFFF'FFFF'FFFFull) : ~bits;
    std::memcpy(v, &bits, 8);
    return true;
  }
  // text, varchar, bpchar and bytea. On success [*data, *data + *size) holds the value: a view
  // into the key when no unescaping is needed, else into *scratch.
  bool text(bool desc, std::string* scratch, const char** data, size_t* size) {
    assert(scratch != nullptr && data != nullptr && size != nullptr);
    const uint8_t esc = desc ? 0xFF : 0x00;
    const uint8_t flip = desc ? 0xFF : 0x00;
    const void* z = std::memchr(p_, esc, remaining());
    if (z == nullptr) return false;
    const uint8_t* zp = static_cast<const uint8_t*>(z);
    if (zp + 1 >= end_) return false;
    if (!desc && zp[1] == 0x01) {  // no escapes in an ASC value: a view into the key
      *data = reinterpret_cast<const char*>(p_);
      *size = static_cast<size_t>(zp - p_);
      p_ = zp + 2;
      return true;
    }
    scratch->clear();
    while (true) {  // bounded: every round consumes at least two bytes of the key
      for (const uint8_t* q = p_; q < zp; ++q) scratch->push_back(static_cast<char>(*q ^ flip));
      const uint8_t next = zp[1] ^ flip;
      p_ = zp + 2;
      if (next == 0x01) break;
      if (next != 0xFF) return false;
      scratch->push_back('\0');
      z = std::memchr(p_, esc, remaining());
      if (z == nullptr) return false;
      zp = static_cast<const uint8_t*>(z);
      if (zp + 1 >= end_) return false;
    }
    *data = scratch->data();
    *size = scratch->size();
    return true;
  }
  bool uuid(bool desc, uint8_t* out16) {
    assert(out16 != nullptr);
    if (remaining() < 16) return false;
    for (int i = 0; i < 16; ++i) out16[i] = p_[i] ^ (desc ? 0xFF : 0);
    p_ += 16;
    return true;
  }
  bool interval(bool desc, int32_t* months, int32_t* days, int64_t* microseconds);
  // On success *out is well_formed() and fits_pg(), with exponent >= 0 only if it is 0.
  bool numeric(bool desc, Numeric* out);

 private:
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
};

struct KeyColumn {
  TypeId type = TypeId::kInt8;
  bool descending = false;
  bool nulls_first = false;  // PostgreSQL's default is nulls_first == descending
};

// The smallest byte string greater than every string that starts with `lo`, i.e. the
// exclusive upper bound of the range of keys with prefix `lo`.
// REQUIRES: lo contains a byte other than 0xFF (true of every key: see kMaxKeyPrefix).
std::string key_successor(std::string_view lo);

// Keys of one table or index: a prefix and typed key columns. Values are Datums.
// A plain value (copyable): it owns nothing but its column list.
class KeyLayout {
 public:
  // REQUIRES: prefix <= kMaxKeyPrefix.
  KeyLayout(uint32_t prefix, std::vector<KeyColumn> columns);

  uint32_t prefix() const { return prefix_; }
  const std::vector<KeyColumn>& columns() const { return columns_; }

  // Appends the key of `values` (one per column) to *out. Throws CodecError for a value of
  // the wrong type or outside its type's domain; *out is then unchanged.
  void encode(std::span<const Datum> values, std::string* out) const;
  std::string encode(std::span<const Datum> values) const;
  std::vector<std::string> encode_batch(std::span<const std::vector<Datum>> rows) const;
  // Throws CodecError if `key` is not a key of this layout.
  std::vector<Datum> decode(std::string_view key) const;
  std::vector<std::vector<Datum>> decode_batch(std::span<const std::string> keys) const;
  // [lo, hi): every key whose leading columns equal `leading` (fewer values than columns,
  // possibly none).
  std::pair<std::string, std::string> prefix_bounds(std::span<const Datum> leading) const;
  // PostgreSQL's order of two rows of values under this layout's directions and NULL
  // placement: the reference the encoding is tested against. <0, 0, >0.
  int compare(std::span<const Datum> a, std::span<const Datum> b) const;

 private:
  void encode_columns(std::span<const Datum> values, std::string* out) const;

  uint32_t prefix_;
  std::vector<KeyColumn> columns_;
};

}  // namespace dsql::storage
