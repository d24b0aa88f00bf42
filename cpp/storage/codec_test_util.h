// Shared helpers of the codec tests: a seeded generator of random Datums for every column type,
// weighted towards the edge values that break encodings (type limits, NaN, -0, infinities,
// embedded NULs, prefixes of each other), and bit-exact Datum identity.
//
// Thread-safety: a ValueGen is used by one thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "storage/datum.h"
#include "testing/unit.h"

// CHECK that `expr` throws CodecError (and nothing else).
#define CHECK_THROW_CODEC(expr)                                                      \
  do {                                                                               \
    bool dsql_threw_ = false;                                                        \
    try {                                                                            \
      (void)(expr);                                                                  \
    } catch (const ::dsql::storage::CodecError&) {                                   \
      dsql_threw_ = true;                                                            \
    }                                                                                \
    if (!dsql_threw_)                                                                \
      ::dsql::testing::report_failure(__FILE__, __LINE__, "no CodecError: " #expr);  \
  } while (0)

namespace dsql::storage::testutil {

inline const std::vector<TypeId>& all_types() {
  static const std::vector<TypeId> types = [] {
    std::vector<TypeId> t;
    for (int i = kTypeIdMin; i <= kTypeIdMax; ++i) t.push_back(static_cast<TypeId>(i));
    return t;
  }();
  return types;
}

// Identity: the same alternative and the same bits (NaN payloads and -0 included).
inline bool identical(const Datum& a, const Datum& b) {
  if (a.index() != b.index()) return false;
  if (const float* fa = std::get_if<float>(&a)) {
    return std::memcmp(fa, &std::get<float>(b), sizeof(float)) == 0;
  }
  if (const double* da = std::get_if<double>(&a)) {
    return std::memcmp(da, &std::get<double>(b), sizeof(double)) == 0;
  }
  return a == b;
}

class ValueGen {
 public:
  explicit ValueGen(uint64_t seed) : rng_(seed) {}

  uint64_t bits() { return rng_(); }
  int64_t range(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool one_in(int n) { return range(0, n - 1) == 0; }

  // A value of `type`, never NULL.
  Datum value(TypeId type) {
    switch (type) {
      case TypeId::kBool: return one_in(2);
      case TypeId::kInt2: return static_cast<int16_t>(integer(16));
      case TypeId::kInt4: return static_cast<int32_t>(integer(32));
      case TypeId::kInt8: return integer(64);
      case TypeId::kFloat4: return float4();
      case TypeId::kFloat8: return float8();
      case TypeId::kNumeric: return numeric();
      case TypeId::kText:
      case TypeId::kVarchar:
      case TypeId::kBpchar: return text();
      case TypeId::kBytea: return Bytes{text()};
      case TypeId::kDate: return Date{static_cast<int32_t>(integer(32))};
      case TypeId::kTime: return Time{one_in(8) ? (one_in(2) ? 0 : 86'400'000'000)
                                                 : range(0, 86'400'000'000)};
      case TypeId::kTimestamp: return Timestamp{integer(64)};
      case TypeId::kTimestampTz: return TimestampTz{integer(64)};
      case TypeId::kInterval: return interval();
      case TypeId::kUuid: {
        Uuid u;
        static constexpr uint8_t kBytes[] = {0x00, 0x01, 0x7F, 0x80, 0xFF};
        for (uint8_t& b : u.bytes) {
          b = one_in(2) ? kBytes[range(0, 4)] : static_cast<uint8_t>(bits());
        }
        return u;
      }
    }
    return Null{};
  }

  // A value, or NULL one time in `null_one_in`.
  Datum maybe_null(TypeId type, int null_one_in = 8) {
    if (one_in(null_one_in)) return Null{};
    return value(type);
  }

 private:
  // Signed integer of `width` bits: limits, small values, or anything.
  int64_t integer(int width) {
    const int64_t max = width == 64 ? std::numeric_limits<int64_t>::max()
                                    : (int64_t{1} << (width - 1)) - 1;
    const int64_t min = -max - 1;
    switch (range(0, 5)) {
      case 0: return one_in(2) ? min : max;
      case 1: return one_in(2) ? min + range(0, 2) : max - range(0, 2);
      case 2: return range(-3, 3);
      case 3: return range(-1000, 1000);
      default: return range(min, max);
    }
  }

  float float4() {
    static const float kEdges[] = {-std::numeric_limits<float>::infinity(),
                                   std::numeric_limits<float>::infinity(),
                                   std::numeric_limits<float>::quiet_NaN(),
                                   -std::numeric_limits<float>::quiet_NaN(),
                                   std::numeric_limits<float>::max(),
                                   -std::numeric_limits<float>::max(),
                                   std::numeric_limits<float>::denorm_min(),
                                   -std::numeric_limits<float>::denorm_min(),
                                   0.0f, -0.0f, 1.0f, -1.0f, 0.5f};
    if (one_in(3)) return kEdges[range(0, std::size(kEdges) - 1)];
    if (one_in(2)) return static_cast<float>(range(-50, 50)) / 4.0f;
    const uint32_t b = static_cast<uint32_t>(bits());  // any bit pattern, NaN payloads included
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }

  double float8() {
    static const double kEdges[] = {-std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::quiet_NaN(),
                                    -std::numeric_limits<double>::quiet_NaN(),
                                    std::numeric_limits<double>::max(),
                                    -std::numeric_limits<double>::max(),
                                    std::numeric_limits<double>::denorm_min(),
                                    -std::numeric_limits<double>::denorm_min(),
                                    0.0, -0.0, 1.0, -1.0, 0.1};
    if (one_in(3)) return kEdges[range(0, std::size(kEdges) - 1)];
    if (one_in(2)) return static_cast<double>(range(-50, 50)) / 4.0;
    const uint64_t b = bits();
    double d;
    std::memcpy(&d, &b, 8);
    return d;
  }

  Numeric numeric() {
    switch (range(0, 9)) {
      case 0: return Numeric::nan();
      case 1: return Numeric::infinity(one_in(2));
      case 2: return Numeric{Numeric::Kind::kFinite, false, "0",
                             static_cast<int32_t>(range(-5, 5))};
      default: break;
    }
    Numeric n;
    n.negative = one_in(2);
    const int64_t len = one_in(20) ? range(1, 400) : range(1, 12);
    n.digits.clear();
    n.digits.push_back(static_cast<char>('1' + range(0, 8)));
    for (int64_t i = 1; i < len; ++i) {
      // Few distinct digits, so values share prefixes; trailing zeros are common.
      n.digits.push_back(static_cast<char>('0' + (one_in(3) ? 0 : range(0, 9))));
    }
    n.exponent = static_cast<int32_t>(one_in(10) ? range(-16'000, 100'000) : range(-20, 20));
    if (n.exponent < -Numeric::kMaxScale) n.exponent = -Numeric::kMaxScale;
    if (static_cast<int64_t>(n.digits.size()) + n.exponent > Numeric::kMaxIntegerDigits) {
      n.exponent = static_cast<int32_t>(Numeric::kMaxIntegerDigits - n.digits.size());
    }
    return n;
  }

  // Bytes from a small alphabet (so strings are often prefixes of each other), including the
  // escape byte 0x00 and the terminator's second byte 0x01, 0xFF and a trailing-space mix.
  std::string text() {
    static constexpr char kAlphabet[] = {'\0', '\x01', '\xff', '\xfe', ' ', 'a', 'b'};
    const int64_t len = one_in(10) ? range(0, 40) : range(0, 4);
    std::string s;
    for (int64_t i = 0; i < len; ++i) s.push_back(kAlphabet[range(0, std::size(kAlphabet) - 1)]);
    return s;
  }

  Interval interval() {
    Interval iv;
    if (one_in(3)) {  // values with equal spans and different components
      iv.months = static_cast<int32_t>(range(-2, 2));
      iv.days = static_cast<int32_t>(range(-60, 60));
      iv.microseconds = range(-2, 2) * 86'400'000'000;
      return iv;
    }
    iv.months = static_cast<int32_t>(integer(32));
    iv.days = static_cast<int32_t>(integer(32));
    iv.microseconds = integer(64);
    return iv;
  }

  std::mt19937_64 rng_;
};

}  // namespace dsql::storage::testutil
