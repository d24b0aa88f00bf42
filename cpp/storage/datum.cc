// SQL values for the storage codecs: type names, Numeric parsing and printing, and
// PostgreSQL's per-type ordering. See datum.h.
#include "storage/datum.h"

#include <cassert>
#include <cmath>
#include <cstring>
#include <sstream>

namespace dsql::storage {
namespace {

constexpr const char* kTypeNames[] = {
    "",     "bool",    "int2",   "int4",  "int8", "float4", "float8",    "numeric",  "text",
    "varchar", "bpchar", "bytea", "date", "time", "timestamp", "timestamptz", "interval", "uuid",
};
static_assert(sizeof(kTypeNames) / sizeof(kTypeNames[0]) == kTypeIdMax + 1);

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

template <typename T>
int cmp3(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// PostgreSQL's float order: NaNs are equal to each other and above everything else.
template <typename F>
int compare_float(F a, F b) {
  const bool an = std::isnan(a);
  const bool bn = std::isnan(b);
  if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
  return cmp3(a, b);
}

int compare_bytes(std::string_view a, std::string_view b) {
  const int c = a.compare(b);  // char_traits<char> compares as unsigned char
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string_view strip_trailing_spaces(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && s[n - 1] == ' ') --n;  // bounded by s.size()
  return s.substr(0, n);
}

// |a| vs |b| for finite non-zero well-formed numerics.
int compare_magnitude(const Numeric& a, const Numeric& b) {
  const int64_t a_pos = static_cast<int64_t>(a.digits.size()) + a.exponent;
  const int64_t b_pos = static_cast<int64_t>(b.digits.size()) + b.exponent;
  if (a_pos != b_pos) return a_pos < b_pos ? -1 : 1;
  std::string_view ad = a.digits;
  std::string_view bd = b.digits;
  while (!ad.empty() && ad.back() == '0') ad.remove_suffix(1);
  while (!bd.empty() && bd.back() == '0') bd.remove_suffix(1);
  return compare_bytes(ad, bd);
}

// Numeric order rank of the non-finite kinds and the sign classes.
int numeric_rank(const Numeric& n) {
  switch (n.kind) {
    case Numeric::Kind::kNegInf: return 0;
    case Numeric::Kind::kFinite: return n.is_zero() ? 2 : (n.negative ? 1 : 3);
    case Numeric::Kind::kPosInf: return 4;
    case Numeric::Kind::kNaN: return 5;
  }
  assert(false && "unknown numeric kind");
  return 5;
}

}  // namespace

std::optional<TypeId> type_from_name(std::string_view name) {
  for (int i = kTypeIdMin; i <= kTypeIdMax; ++i) {
    if (name == kTypeNames[i]) return static_cast<TypeId>(i);
  }
  return std::nullopt;
}

int type_code_from_name(std::string_view name) {
  const auto t = type_from_name(name);
  return t ? static_cast<int>(*t) : -1;
}

const char* type_name(TypeId type) {
  const int i = static_cast<int>(type);
  assert(i >= kTypeIdMin && i <= kTypeIdMax);
  return kTypeNames[i];
}

// ---- Numeric ---------------------------------------------------------------------------------

std::optional<Numeric> Numeric::parse(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  const std::string_view rest = text.substr(i);
  if (iequals(rest, "nan")) return nan();
  if (iequals(rest, "infinity") || iequals(rest, "inf")) return infinity(negative);

  Numeric out;
  out.negative = negative;
  out.digits.clear();
  int64_t frac_digits = 0;
  bool seen_point = false;
  bool any_digit = false;
  for (; i < text.size(); ++i) {  // bounded by text.size()
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      if (seen_point) ++frac_digits;
      if (!(out.digits.empty() && c == '0')) out.digits.push_back(c);
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) return std::nullopt;
  int64_t exp = 0;
  if (i < text.size()) {
    if (text[i] != 'e' && text[i] != 'E') return std::nullopt;
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    if (i == text.size()) return std::nullopt;
    for (; i < text.size(); ++i) {  // bounded by text.size()
      const char c = text[i];
      if (c < '0' || c > '9') return std::nullopt;
      exp = exp * 10 + (c - '0');
      if (exp > int64_t{1} << 40) return std::nullopt;  // far outside any int32 exponent
    }
    if (exp_negative) exp = -exp;
  }
  if (out.digits.empty()) {
    out.digits = "0";
    out.negative = false;
  }
  const int64_t exponent = exp - frac_digits;
  if (exponent < INT32_MIN || exponent > INT32_MAX) return std::nullopt;
  out.exponent = static_cast<int32_t>(exponent);
  assert(out.well_formed());
  return out;
}

std::string Numeric::to_string() const {
  assert(well_formed());
  switch (kind) {
    case Kind::kNaN: return "NaN";
    case Kind::kPosInf: return "Infinity";
    case Kind::kNegInf: return "-Infinity";
    case Kind::kFinite: break;
  }
  std::string out;
  out.reserve(digits.size() + 14);
  if (negative) out.push_back('-');
  out += digits;
  if (exponent != 0) {
    out.push_back('E');
    out += std::to_string(exponent);
  }
  return out;
}

bool Numeric::well_formed() const {
  if (kind != Kind::kFinite) return !negative && digits == "0" && exponent == 0;
  if (digits.empty()) return false;
  if (digits.size() > 1 && digits[0] == '0') return false;
  for (const char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  return !(negative && digits == "0");
}

bool Numeric::fits_pg() const {
  assert(well_formed());
  if (kind != Kind::kFinite) return true;
  if (exponent < 0 && -int64_t{exponent} > kMaxScale) return false;
  if (is_zero()) return exponent <= kMaxIntegerDigits;
  return static_cast<int64_t>(digits.size()) + exponent <= kMaxIntegerDigits;
}

int compare_numeric(const Numeric& a, const Numeric& b) {
  assert(a.well_formed());
  assert(b.well_formed());
  const int ra = numeric_rank(a);
  const int rb = numeric_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra != 1 && ra != 3) return 0;  // both zero, both the same infinity, or both NaN
  const int mag = compare_magnitude(a, b);
  return ra == 1 ? -mag : mag;
}

__int128 Interval::span() const {
  const int64_t total_days = int64_t{months} * 30 + days;
  return static_cast<__int128>(total_days) * 86'400'000'000 + microseconds;
}

// ---- Datum -----------------------------------------------------------------------------------

bool datum_matches(TypeId type, const Datum& d) {
  switch (type) {
    case TypeId::kBool: return std::holds_alternative<bool>(d) || is_null(d);
    case TypeId::kInt2: return std::holds_alternative<int16_t>(d) || is_null(d);
    case TypeId::kInt4: return std::holds_alternative<int32_t>(d) || is_null(d);
    case TypeId::kInt8: return std::holds_alternative<int64_t>(d) || is_null(d);
    case TypeId::kFloat4: return std::holds_alternative<float>(d) || is_null(d);
    case TypeId::kFloat8: return std::holds_alternative<double>(d) || is_null(d);
    case TypeId::kNumeric: return std::holds_alternative<Numeric>(d) || is_null(d);
    case TypeId::kText:
    case TypeId::kVarchar:
    case TypeId::kBpchar: return std::holds_alternative<std::string>(d) || is_null(d);
    case TypeId::kBytea: return std::holds_alternative<Bytes>(d) || is_null(d);
    case TypeId::kDate: return std::holds_alternative<Date>(d) || is_null(d);
    case TypeId::kTime: return std::holds_alternative<Time>(d) || is_null(d);
    case TypeId::kTimestamp: return std::holds_alternative<Timestamp>(d) || is_null(d);
    case TypeId::kTimestampTz: return std::holds_alternative<TimestampTz>(d) || is_null(d);
    case TypeId::kInterval: return std::holds_alternative<Interval>(d) || is_null(d);
    case TypeId::kUuid: return std::holds_alternative<Uuid>(d) || is_null(d);
  }
  return false;
}

bool datum_in_domain(TypeId type, const Datum& d) {
  assert(datum_matches(type, d));
  if (is_null(d)) return true;
  if (type == TypeId::kNumeric) {
    const Numeric& n = std::get<Numeric>(d);
    return n.well_formed() && n.fits_pg();
  }
  if (type == TypeId::kTime) {
    const int64_t us = std::get<Time>(d).microseconds;
    return us >= 0 && us <= 86'400'000'000;
  }
  return true;
}

int pg_compare(TypeId type, const Datum& a, const Datum& b) {
  assert(datum_matches(type, a) && !is_null(a));
  assert(datum_matches(type, b) && !is_null(b));
  switch (type) {
    case TypeId::kBool: return cmp3(std::get<bool>(a), std::get<bool>(b));
    case TypeId::kInt2: return cmp3(std::get<int16_t>(a), std::get<int16_t>(b));
    case TypeId::kInt4: return cmp3(std::get<int32_t>(a), std::get<int32_t>(b));
    case TypeId::kInt8: return cmp3(std::get<int64_t>(a), std::get<int64_t>(b));
    case TypeId::kFloat4: return compare_float(std::get<float>(a), std::get<float>(b));
    case TypeId::kFloat8: return compare_float(std::get<double>(a), std::get<double>(b));
    case TypeId::kNumeric: return compare_numeric(std::get<Numeric>(a), std::get<Numeric>(b));
    case TypeId::kText:
    case TypeId::kVarchar: return compare_bytes(std::get<std::string>(a), std::get<std::string>(b));
    case TypeId::kBpchar:
      return compare_bytes(strip_trailing_spaces(std::get<std::string>(a)),
                           strip_trailing_spaces(std::get<std::string>(b)));
    case TypeId::kBytea: return compare_bytes(std::get<Bytes>(a).data, std::get<Bytes>(b).data);
    case TypeId::kDate: return cmp3(std::get<Date>(a).days, std::get<Date>(b).days);
    case TypeId::kTime:
      return cmp3(std::get<Time>(a).microseconds, std::get<Time>(b).microseconds);
    case TypeId::kTimestamp:
      return cmp3(std::get<Timestamp>(a).microseconds, std::get<Timestamp>(b).microseconds);
    case TypeId::kTimestampTz:
      return cmp3(std::get<TimestampTz>(a).microseconds, std::get<TimestampTz>(b).microseconds);
    case TypeId::kInterval: return cmp3(std::get<Interval>(a).span(), std::get<Interval>(b).span());
    case TypeId::kUuid: return cmp3(std::get<Uuid>(a).bytes, std::get<Uuid>(b).bytes);
  }
  assert(false && "unknown type");
  return 0;
}

std::string debug_string(const Datum& d) {
  std::ostringstream os;
  std::visit(
      [&os](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Null>) {
          os << "NULL";
        } else if constexpr (std::is_same_v<T, bool>) {
          os << (v ? "true" : "false");
        } else if constexpr (std::is_same_v<T, int16_t> || std::is_same_v<T, int32_t> ||
                             std::is_same_v<T, int64_t>) {
          os << v;
        } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          os.precision(17);
          os << v;
        } else if constexpr (std::is_same_v<T, Numeric>) {
          os << "numeric " << v.to_string();
        } else if constexpr (std::is_same_v<T, std::string>) {
          os << "'" << v << "' (" << v.size() << " bytes)";
        } else if constexpr (std::is_same_v<T, Bytes>) {
          os << "bytea of " << v.data.size() << " bytes";
        } else if constexpr (std::is_same_v<T, Date>) {
          os << "date " << v.days;
        } else if constexpr (std::is_same_v<T, Time>) {
          os << "time " << v.microseconds;
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          os << "timestamp " << v.microseconds;
        } else if constexpr (std::is_same_v<T, TimestampTz>) {
          os << "timestamptz " << v.microseconds;
        } else if constexpr (std::is_same_v<T, Interval>) {
          os << "interval " << v.months << "m " << v.days << "d " << v.microseconds << "us";
        } else if constexpr (std::is_same_v<T, Uuid>) {
          os << "uuid";
          for (const uint8_t b : v.bytes) os << ' ' << int{b};
        }
      },
      d);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Datum& d) { return os << debug_string(d); }

}  // namespace dsql::storage
