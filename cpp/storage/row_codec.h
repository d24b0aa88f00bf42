// The row codec: a compact binary tuple for a row's non-key columns. Unlike keys, row values
// need not sort; they must be small, fast to decode, and give back exactly what was stored
// (-0.0, NaN payloads, numeric scale and trailing spaces of bpchar included).
//
// Format (also in docs/encodings.md):
//
//   row     := ncols:varint nulls:byte[ceil(ncols / 8)] value*
//   nulls   := bit (i mod 8) of byte (i div 8) is 1 iff column i is NULL; bits >= ncols are 0
//   value   := one per non-NULL column, in column order, by the column's type:
//     bool                               0x00 | 0x01
//     int2 | int4 | int8 | date | time   zigzag varint (LEB128 of (v << 1) ^ (v >> 63))
//     timestamp | timestamptz            int64 little-endian, 8 bytes (µs since 2000-01-01)
//     float4 | float8                    IEEE 754 bits little-endian, 4 | 8 bytes
//     text | varchar | bpchar | bytea    length:varint bytes[length]
//     uuid                               16 bytes
//     interval                           months:zigzag days:zigzag microseconds:zigzag
//     numeric                            0x02 (NaN) | 0x03 (Infinity) | 0x04 (-Infinity)
//                                      | sign:(0x00 | 0x01 negative) exponent:zigzag
//                                        ndigits:varint packed:byte[ceil(ndigits / 2)]
//       value = sign * digits * 10^exponent; packed holds digit 2k in the high nibble and
//       digit 2k+1 in the low nibble of byte k (an odd count leaves the last low nibble 0).
//
// A row with fewer columns than its layout (written before ALTER TABLE ADD COLUMN) decodes
// with NULL in the missing trailing columns; a row with more columns is an error.
//
// RowWriter and RowReader are the primitives (inline: the Cython binding calls them per value);
// RowLayout is the Datum-level, batch API built on them.
//
// Thread-safety: RowWriter / RowReader are single-threaded views over caller-owned buffers;
// RowLayout is immutable after construction and safe to share.
// Invariants:
//   1. A RowWriter writes exactly ncols values or NULLs, in column order.
//   2. RowReader reads never go past the end of the row; a false return means corrupt input.
//   3. decode(encode(v)) == v exactly (bit-exact floats, the same Numeric digits and exponent).
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/codec_bytes.h"
#include "storage/datum.h"

namespace dsql::storage {

// PostgreSQL's limit on the columns of a table.
inline constexpr uint32_t kMaxRowColumns = 1600;

inline constexpr uint8_t kRowNumPositive = 0x00;
inline constexpr uint8_t kRowNumNegative = 0x01;
inline constexpr uint8_t kRowNumNaN = 0x02;
inline constexpr uint8_t kRowNumPosInf = 0x03;
inline constexpr uint8_t kRowNumNegInf = 0x04;

// Appends one row to a caller-owned string.
class RowWriter {
 public:
  RowWriter() = default;  // begin() starts a row
  RowWriter(std::string* out, uint32_t ncols) { begin(out, ncols); }
  // Starts a row of `ncols` columns at the end of *out.
  // REQUIRES: ncols <= kMaxRowColumns; the previous row, if any, is finished.
  void begin(std::string* out, uint32_t ncols) {
    assert(out != nullptr);
    assert(ncols <= kMaxRowColumns);
    out_ = out;
    ncols_ = ncols;
    col_ = 0;
    bytes::put_varint(out_, ncols_);
    nulls_at_ = out_->size();
    out_->append((ncols_ + 7) / 8, '\0');
  }
  RowWriter(const RowWriter&) = delete;
  RowWriter& operator=(const RowWriter&) = delete;

  uint32_t column() const { return col_; }
  void null() {
    assert(col_ < ncols_);
    char& bits = (*out_)[nulls_at_ + col_ / 8];
    bits = static_cast<char>(bits | (1 << (col_ % 8)));
    ++col_;
  }
  void boolean(bool v) {
    next();
    out_->push_back(v ? 1 : 0);
  }
  // int2, int4, int8, date and time.
  void integer(int64_t v) {
    next();
    bytes::put_varint(out_, bytes::zigzag(v));
  }
  // timestamp and timestamptz.
  void fixed64(int64_t v) {
    next();
    bytes::put_le64(out_, static_cast<uint64_t>(v));
  }
  void float4(float v) {
    next();
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    bytes::put_le32(out_, bits);
  }
  void float8(double v) {
    next();
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    bytes::put_le64(out_, bits);
  }
  // text, varchar, bpchar and bytea.
  void text(const char* data, size_t size) {
    assert(data != nullptr || size == 0);
    next();
    bytes::put_varint(out_, size);
    out_->append(data, size);
  }
  void uuid(const uint8_t* data16) {
    assert(data16 != nullptr);
    next();
    out_->append(reinterpret_cast<const char*>(data16), 16);
  }
  void interval(int32_t months, int32_t days, int64_t microseconds) {
    next();
    bytes::put_varint(out_, bytes::zigzag(months));
    bytes::put_varint(out_, bytes::zigzag(days));
    bytes::put_varint(out_, bytes::zigzag(microseconds));
  }
  // REQUIRES: n.well_formed() and n.fits_pg().
  void numeric(const Numeric& n);
  // REQUIRES: every column was written.
  void finish() const { assert(col_ == ncols_); }

 private:
  void next() {
    assert(col_ < ncols_);
    ++col_;
  }

  std::string* out_ = nullptr;
  uint32_t ncols_ = 0;
  uint32_t col_ = 0;
  size_t nulls_at_ = 0;
};

// Reads one row from a caller-owned buffer. Every read returns false if the bytes are not a
// valid encoding (the reader is then unusable).
class RowReader {
 public:
  RowReader() = default;  // empty; reset() points it at a row
  RowReader(const char* data, size_t size) { reset(data, size); }
  void reset(const char* data, size_t size) {
    assert(data != nullptr || size == 0);
    p_ = reinterpret_cast<const uint8_t*>(data);
    end_ = p_ + size;
    nulls_ = nullptr;
    ncols_ = 0;
  }

  // Reads the column count and NULL bitmap. False if corrupt or the row has more than
  // max_columns columns.
  bool header(uint32_t max_columns) {
    uint64_t n = 0;
    const uint8_t* q = bytes::get_varint(p_, end_, &n);
    if (q == nullptr || n > max_columns || n > kMaxRowColumns) return false;
    ncols_ = static_cast<uint32_t>(n);
    const size_t nbytes = (ncols_ + 7) / 8;
    if (static_cast<size_t>(end_ - q) < nbytes) return false;
    nulls_ = q;
    p_ = q + nbytes;
    if (ncols_ % 8 != 0 && (nulls_[nbytes - 1] >> (ncols_ % 8)) != 0) return false;
    return true;
  }
  uint32_t columns() const { return ncols_; }
  // Columns at or past columns() (added to the layout after the row was written) are NULL.
  bool is_null(uint32_t col) const {
    return col >= ncols_ || ((nulls_[col / 8] >> (col % 8)) & 1) != 0;
  }
  bool at_end() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  bool boolean(bool* v) {
    if (p_ >= end_ || *p_ > 1) return false;
    *v = *p_++ == 1;
    return true;
  }
  bool integer(int64_t* v) {
    uint64_t u = 0;
    const uint8_t* q = bytes::get_varint(p_, end_, &u);
    if (q == nullptr) return false;
    p_ = q;
    *v = bytes::unzigzag(u);
    return true;
  }
  bool fixed64(int64_t* v) {
    if (remaining() < 8) return false;
    *v = static_cast<int64_t>(bytes::load_le64(p_));
    p_ += 8;
    return true;
  }
  bool float4(float* v) {
    if (remaining() < 4) return false;
    std::memcpy(v, p_, 4);
    p_ += 4;
    return true;
  }
  bool float8(double* v) {
    if (remaining() < 8) return false;
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }
  // On success [*data, *data + *size) is a view into the row.
  bool text(const char** data, size_t* size) {
    uint64_t n = 0;
    const uint8_t* q = bytes::get_varint(p_, end_, &n);
    if (q == nullptr || n > static_cast<uint64_t>(end_ - q)) return false;
    *data = reinterpret_cast<const char*>(q);
    *size = static_cast<size_t>(n);
    p_ = q + n;
    return true;
  }
  bool uuid(uint8_t* out16) {
    if (remaining() < 16) return false;
    std::memcpy(out16, p_, 16);
    p_ += 16;
    return true;
  }
  bool interval(int32_t* months, int32_t* days, int64_t* microseconds) {
    int64_t m = 0;
    int64_t d = 0;
    if (!integer(&m) || !integer(&d) || !integer(microseconds)) return false;
    if (m < INT32_MIN || m > INT32_MAX || d < INT32_MIN || d > INT32_MAX) return false;
    *months = static_cast<int32_t>(m);
    *days = static_cast<int32_t>(d);
    return true;
  }
  // On success *out is well_formed() and fits_pg().
  bool numeric(Numeric* out);

 private:
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  const uint8_t* nulls_ = nullptr;
  uint32_t ncols_ = 0;
};

// Rows of one table: the types of its non-key columns. Values are Datums.
// A plain value (copyable): it owns nothing but its type list.
class RowLayout {
 public:
  // REQUIRES: types.size() <= kMaxRowColumns.
  explicit RowLayout(std::vector<TypeId> types);

  const std::vector<TypeId>& types() const { return types_; }

  // Appends the row of `values` (one per column) to *out. Throws CodecError for a value of the
  // wrong type or outside its type's domain; *out is then unchanged.
  void encode(std::span<const Datum> values, std::string* out) const;
  std::string encode(std::span<const Datum> values) const;
  std::vector<std::string> encode_batch(std::span<const std::vector<Datum>> rows) const;
  // Throws CodecError if `row` is not a valid row of this layout.
  std::vector<Datum> decode(std::string_view row) const;
  std::vector<std::vector<Datum>> decode_batch(std::span<const std::string> rows) const;

 private:
  std::vector<TypeId> types_;
};

}  // namespace dsql::storage
