// PostgreSQL's representation of dates and times, which the codecs store unchanged:
//
//   date                     int32 days since 2000-01-01; INT32_MIN = -infinity,
//                            INT32_MAX = infinity
//   time                     int64 microseconds since midnight, 0 .. 86'400'000'000 (24:00:00)
//   timestamp, timestamptz   int64 microseconds since 2000-01-01 00:00:00 (UTC for
//                            timestamptz); INT64_MIN = -infinity, INT64_MAX = infinity
//
// so a value crosses to and from PostgreSQL's binary wire format without arithmetic. The
// calendar is the proleptic Gregorian one (Howard Hinnant's days_from_civil algorithms).
//
// Thread-safety: pure constexpr functions.
// Invariants:
//   1. civil_from_days(days_from_civil(y, m, d)) == (y, m, d) for every valid date.
//   2. floor_div / floor_mod round towards negative infinity, so times before 2000 split into
//      a day and a non-negative time of day.
#pragma once

#include <cassert>
#include <cstdint>
#include <limits>

namespace dsql::storage::pg {

inline constexpr int32_t kDateNegInfinity = std::numeric_limits<int32_t>::min();
inline constexpr int32_t kDatePosInfinity = std::numeric_limits<int32_t>::max();
inline constexpr int64_t kTimestampNegInfinity = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kTimestampPosInfinity = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kUsecsPerDay = 86'400'000'000;
inline constexpr int64_t kUsecsPerSecond = 1'000'000;
// Days from 1970-01-01 to 2000-01-01.
inline constexpr int64_t kUnixToPgEpochDays = 10'957;

inline constexpr int64_t floor_div(int64_t a, int64_t b) {
  assert(b > 0);
  const int64_t q = a / b;
  return (a % b < 0) ? q - 1 : q;
}

inline constexpr int64_t floor_mod(int64_t a, int64_t b) {
  assert(b > 0);
  const int64_t r = a % b;
  return r < 0 ? r + b : r;
}

// Days since 2000-01-01 of the proleptic Gregorian date y-m-d.
// REQUIRES: 1 <= m <= 12, 1 <= d <= 31, |y| < 2^40.
inline constexpr int64_t days_from_civil(int64_t y, int m, int d) {
  assert(m >= 1 && m <= 12);
  assert(d >= 1 && d <= 31);
  y -= m <= 2;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;                                        // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;      // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                // [0, 146096]
  return era * 146'097 + doe - 719'468 - kUnixToPgEpochDays;
}

struct Civil {
  int64_t year;
  int month;
  int day;
};

// The proleptic Gregorian date `days` after 2000-01-01.
inline constexpr Civil civil_from_days(int64_t days) {
  const int64_t z = days + kUnixToPgEpochDays + 719'468;
  const int64_t era = floor_div(z, 146'097);
  const int64_t doe = z - era * 146'097;                                    // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                   // [0, 11]
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  assert(day >= 1 && day <= 31);
  assert(month >= 1 && month <= 12);
  return Civil{yoe + era * 400 + (month <= 2), month, day};
}

static_assert(days_from_civil(2000, 1, 1) == 0);
static_assert(days_from_civil(1970, 1, 1) == -kUnixToPgEpochDays);
static_assert(civil_from_days(-1).year == 1999 && civil_from_days(-1).day == 31);

}  // namespace dsql::storage::pg
