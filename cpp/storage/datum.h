// SQL values as the storage codecs see them: the column types, one C++ value type per column
// type, and PostgreSQL's ordering of values of each type.
//
// A Datum is a std::variant; which alternative holds a given column type:
//
//   NULL (any type) Null            bool         bool          int2        int16_t
//   int4            int32_t         int8         int64_t       float4      float
//   float8          double          numeric      Numeric       bytea       Bytes
//   text, varchar, bpchar  std::string (UTF-8 bytes; C collation = bytewise order)
//   date  Date   time  Time   timestamp  Timestamp   timestamptz  TimestampTz
//   interval  Interval   uuid  Uuid
//
// Date, time and timestamps are PostgreSQL's own integers (storage/pg_calendar.h).
//
// Thread-safety: values are plain data; functions are pure.
// Invariants of a well-formed Numeric (Numeric::well_formed()):
//   1. digits is non-empty, all '0'..'9', and has no leading '0' unless it is exactly "0".
//   2. Zero is never negative; NaN and the infinities carry digits "0", exponent 0.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace dsql::storage {

enum class TypeId : uint8_t {
  kBool = 1,
  kInt2,
  kInt4,
  kInt8,
  kFloat4,
  kFloat8,
  kNumeric,
  kText,
  kVarchar,
  kBpchar,
  kBytea,
  kDate,
  kTime,
  kTimestamp,
  kTimestampTz,
  kInterval,
  kUuid,
};
inline constexpr int kTypeIdMin = 1;
inline constexpr int kTypeIdMax = 17;

// PostgreSQL's internal type names: bool, int2, int4, int8, float4, float8, numeric, text,
// varchar, bpchar, bytea, date, time, timestamp, timestamptz, interval, uuid.
std::optional<TypeId> type_from_name(std::string_view name);
const char* type_name(TypeId type);
// type_from_name as an int for the Cython binding: the TypeId's value, or -1 if unknown.
int type_code_from_name(std::string_view name);

// Raised by the Datum-level codec APIs for a value of the wrong type or out of range, and for
// byte strings that are not valid encodings.
class CodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Null {
  bool operator==(const Null&) const = default;
};

// An arbitrary-precision decimal, like Python's decimal.Decimal: value = (-1)^negative *
// digits * 10^exponent, plus NaN and the infinities (PostgreSQL 14+). 1.0 and 1.00 are
// different Numerics (digits "10" exp -1, "100" exp -2) that compare equal.
struct Numeric {
  enum class Kind : uint8_t { kFinite = 0, kNaN = 1, kPosInf = 2, kNegInf = 3 };
  // PostgreSQL's limits: digits before and after the decimal point.
  static constexpr int64_t kMaxIntegerDigits = 131'072;
  static constexpr int64_t kMaxScale = 16'383;

  Kind kind = Kind::kFinite;
  bool negative = false;
  std::string digits = "0";
  int32_t exponent = 0;

  // Parses [+-]digits[.digits][(e|E)[+-]digits], [+-]NaN, [+-]Infinity, [+-]Inf (any case),
  // which covers str(decimal.Decimal) and PostgreSQL's numeric output. Returns nullopt for
  // anything else, including sNaN and exponents beyond int32.
  static std::optional<Numeric> parse(std::string_view text);
  static Numeric nan() { return Numeric{Kind::kNaN, false, "0", 0}; }
  static Numeric infinity(bool negative_inf) {
    return Numeric{negative_inf ? Kind::kNegInf : Kind::kPosInf, false, "0", 0};
  }

  // "[-]digits[E<exponent>]", "NaN", "Infinity" or "-Infinity": readable by Python's
  // decimal.Decimal and by PostgreSQL's numeric input.
  std::string to_string() const;
  bool is_zero() const { return kind == Kind::kFinite && digits == "0"; }
  bool well_formed() const;
  // Within PostgreSQL's limits (finite values only; NaN and infinities always fit).
  bool fits_pg() const;
  // Identity (same digits and exponent), not numeric equality; see compare_numeric.
  bool operator==(const Numeric&) const = default;
};

// PostgreSQL's order: -Infinity < negative < 0 < positive < Infinity < NaN; NaN == NaN;
// 1.0 == 1.00. Returns <0, 0, >0. REQUIRES: both well_formed().
int compare_numeric(const Numeric& a, const Numeric& b);

struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t microseconds = 0;
  // PostgreSQL's comparison value: (months * 30 + days) * 86'400'000'000 + microseconds.
  __int128 span() const;
  bool operator==(const Interval&) const = default;
};

struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};
struct Date {
  int32_t days = 0;  // since 2000-01-01; INT32_MIN / INT32_MAX = -infinity / infinity
  bool operator==(const Date&) const = default;
};
struct Time {
  int64_t microseconds = 0;  // since midnight, 0 .. 86'400'000'000
  bool operator==(const Time&) const = default;
};
struct Timestamp {
  int64_t microseconds = 0;  // since 2000-01-01; INT64_MIN / INT64_MAX = -infinity / infinity
  bool operator==(const Timestamp&) const = default;
};
struct TimestampTz {
  int64_t microseconds = 0;  // since 2000-01-01 00:00 UTC; infinities as for Timestamp
  bool operator==(const TimestampTz&) const = default;
};
struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const Uuid&) const = default;
};

using Datum = std::variant<Null, bool, int16_t, int32_t, int64_t, float, double, Numeric,
                           std::string, Bytes, Date, Time, Timestamp, TimestampTz, Interval, Uuid>;

inline bool is_null(const Datum& d) { return std::holds_alternative<Null>(d); }
// Whether d may be stored in a column of `type` (NULL may be stored in any column).
bool datum_matches(TypeId type, const Datum& d);
// Whether a non-NULL d of a matching type is within the type's domain (int ranges are
// enforced by the C++ types themselves; this checks numeric limits and time of day).
bool datum_in_domain(TypeId type, const Datum& d);

// PostgreSQL's comparison of two non-NULL values of `type`: <0, 0, >0.
// REQUIRES: datum_matches(type, a) and datum_matches(type, b), neither is NULL.
int pg_compare(TypeId type, const Datum& a, const Datum& b);

std::string debug_string(const Datum& d);
std::ostream& operator<<(std::ostream& os, const Datum& d);

}  // namespace dsql::storage
