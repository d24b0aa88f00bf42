// The order-preserving key codec: numeric and interval bodies, key ranges, and the
// Datum-level KeyLayout. The format grammar is at the top of key_codec.h.
#include "storage/key_codec.h"

#include <cassert>

namespace dsql::storage {
namespace {

constexpr unsigned __int128 kSpanSignBit = static_cast<unsigned __int128>(1) << 127;

[[noreturn]] void fail(size_t column, TypeId type, const std::string& what) {
  throw CodecError("key column " + std::to_string(column) + " (" + type_name(type) + "): " + what);
}

}  // namespace

// ---- KeyWriter / KeyReader bodies that are not inline --------------------------------------

void KeyWriter::interval(int32_t months, int32_t days, int64_t microseconds, bool desc) {
  const size_t start = out_->size();
  const __int128 span = Interval{months, days, microseconds}.span();
  const unsigned __int128 u = static_cast<unsigned __int128>(span) ^ kSpanSignBit;
  bytes::put_be64(out_, static_cast<uint64_t>(u >> 64));
  bytes::put_be64(out_, static_cast<uint64_t>(u));
  int32(months, false);
  int32(days, false);
  if (desc) invert_from(start);
  assert(out_->size() == start + 24);
}

void KeyWriter::numeric(const Numeric& n, bool desc) {
  assert(n.well_formed());
  assert(n.fits_pg());
  const size_t start = out_->size();
  switch (n.kind) {
    case Numeric::Kind::kNaN: out_->push_back(static_cast<char>(kNumNaN)); break;
    case Numeric::Kind::kPosInf: out_->push_back(static_cast<char>(kNumPosInf)); break;
    case Numeric::Kind::kNegInf: out_->push_back(static_cast<char>(kNumNegInf)); break;
    case Numeric::Kind::kFinite: {
      if (n.is_zero()) {
        out_->push_back(static_cast<char>(kNumZero));
        break;
      }
      // |x| = 0.d1..dn x 10^E; E does not depend on trailing zeros.
      const int64_t e = static_cast<int64_t>(n.digits.size()) + n.exponent;
      assert(e >= INT32_MIN && e <= INT32_MAX);
      std::string_view d = n.digits;
      while (d.back() == '0') d.remove_suffix(1);  // bounded: d[0] != '0' for non-zero
      out_->push_back(static_cast<char>(n.negative ? kNumNegative : kNumPositive));
      const size_t body = out_->size();
      int32(static_cast<int32_t>(e), false);
      for (size_t i = 0; i < d.size(); i += 2) {  // bounded by d.size()
        const int hi = d[i] - '0';
        const int lo = i + 1 < d.size() ? d[i + 1] - '0' : 0;
        const bool last = i + 2 >= d.size();
        out_->push_back(static_cast<char>(2 * (10 * hi + lo) + (last ? 0 : 1)));
      }
      if (n.negative) invert_from(body);
      break;
    }
  }
  if (desc) invert_from(start);
  assert(out_->size() > start);
}

bool KeyReader::interval(bool desc, int32_t* months, int32_t* days, int64_t* microseconds) {
  assert(months != nullptr && days != nullptr && microseconds != nullptr);
  if (remaining() < 24) return false;
  uint64_t hi = bytes::load_be64(p_);
  uint64_t lo = bytes::load_be64(p_ + 8);
  p_ += 16;
  if (desc) {
    hi = ~hi;
    lo = ~lo;
  }
  const unsigned __int128 u = (static_cast<unsigned __int128>(hi) << 64) | lo;
  const __int128 span = static_cast<__int128>(u ^ kSpanSignBit);
  if (!int32(desc, months) || !int32(desc, days)) return false;
  const __int128 us =
      span - static_cast<__int128>(int64_t{*months} * 30 + *days) * 86'400'000'000;
  if (us < INT64_MIN || us > INT64_MAX) return false;
  *microseconds = static_cast<int64_t>(us);
  return true;
}

bool KeyReader::numeric(bool desc, Numeric* out) {
  assert(out != nullptr);
  if (p_ >= end_) return false;
  const uint8_t flip = desc ? 0xFF : 0x00;
  const uint8_t cls = *p_++ ^ flip;
  out->negative = false;
  out->digits = "0";
  out->exponent = 0;
  switch (cls) {
    case kNumNaN: out->kind = Numeric::Kind::kNaN; return true;
    case kNumPosInf: out->kind = Numeric::Kind::kPosInf; return true;
    case kNumNegInf: out->kind = Numeric::Kind::kNegInf; return true;
    case kNumZero: out->kind = Numeric::Kind::kFinite; return true;
    case kNumPositive:
    case kNumNegative: break;
    default: return false;
  }
  out->kind = Numeric::Kind::kFinite;
  out->negative = cls == kNumNegative;
  const uint8_t inv = flip ^ (out->negative ? 0xFF : 0x00);
  if (remaining() < 4) return false;
  const uint32_t u = bytes::load_be32(p_) ^ (inv ? 0xFFFF'FFFFu : 0u);
  p_ += 4;
  const int64_t e = static_cast<int32_t>(u ^ 0x8000'0000u);
  if (e > Numeric::kMaxIntegerDigits) return false;
  out->digits.clear();
  bool last = false;
  while (p_ < end_ && !last) {  // bounded by the key's length
    const uint8_t b = *p_++ ^ inv;
    if (b > 199) return false;
    const int pair = b >> 1;
    out->digits.push_back(static_cast<char>('0' + pair / 10));
    out->digits.push_back(static_cast<char>('0' + pair % 10));
    last = (b & 1) == 0;
  }
  if (!last || out->digits[0] == '0') return false;
  if (out->digits.back() == '0') out->digits.pop_back();  // the padding of an odd count
  if (out->digits.back() == '0') return false;            // not a normalised magnitude
  const int64_t exponent = e - static_cast<int64_t>(out->digits.size());
  if (exponent < -Numeric::kMaxScale) return false;
  if (exponent > 0) {
    out->digits.append(static_cast<size_t>(exponent), '0');  // bounded: e <= kMaxIntegerDigits
    out->exponent = 0;
  } else {
    out->exponent = static_cast<int32_t>(exponent);
  }
  assert(out->well_formed());
  assert(out->fits_pg());
  return true;
}

// ---- key ranges -----------------------------------------------------------------------------

std::string key_successor(std::string_view lo) {
  std::string hi(lo);
  while (!hi.empty() && static_cast<uint8_t>(hi.back()) == 0xFF) hi.pop_back();  // bounded
  assert(!hi.empty() && "a key range needs a byte below 0xFF");
  hi.back() = static_cast<char>(static_cast<uint8_t>(hi.back()) + 1);
  assert(hi > lo);
  return hi;
}

// ---- KeyLayout ------------------------------------------------------------------------------

KeyLayout::KeyLayout(uint32_t prefix, std::vector<KeyColumn> columns)
    : prefix_(prefix), columns_(std::move(columns)) {
  assert(prefix_ <= kMaxKeyPrefix);
  for (const KeyColumn& c : columns_) {
    assert(static_cast<int>(c.type) >= kTypeIdMin && static_cast<int>(c.type) <= kTypeIdMax);
  }
}

void KeyLayout::encode_columns(std::span<const Datum> values, std::string* out) const {
  assert(values.size() <= columns_.size());
  KeyWriter w(out);
  for (size_t i = 0; i < values.size(); ++i) {
    const KeyColumn& c = columns_[i];
    const Datum& v = values[i];
    if (!datum_matches(c.type, v)) fail(i, c.type, "wrong value type: " + debug_string(v));
    if (!datum_in_domain(c.type, v)) fail(i, c.type, "value out of range: " + debug_string(v));
    if (is_null(v)) {
      w.null(c.nulls_first);
      continue;
    }
    w.value();
    const bool desc = c.descending;
    switch (c.type) {
      case TypeId::kBool: w.boolean(std::get<bool>(v), desc); break;
      case TypeId::kInt2: w.int16(std::get<int16_t>(v), desc); break;
      case TypeId::kInt4: w.int32(std::get<int32_t>(v), desc); break;
      case TypeId::kInt8: w.int64(std::get<int64_t>(v), desc); break;
      case TypeId::kFloat4: w.float4(std::get<float>(v), desc); break;
      case TypeId::kFloat8: w.float8(std::get<double>(v), desc); break;
      case TypeId::kNumeric: w.numeric(std::get<Numeric>(v), desc); break;
      case TypeId::kText:
      case TypeId::kVarchar: {
        const std::string& s = std::get<std::string>(v);
        w.text(s.data(), s.size(), desc);
        break;
      }
      case TypeId::kBpchar: {
        const std::string& s = std::get<std::string>(v);
        w.bpchar(s.data(), s.size(), desc);
        break;
      }
      case TypeId::kBytea: {
        const std::string& s = std::get<Bytes>(v).data;
        w.text(s.data(), s.size(), desc);
        break;
      }
      case TypeId::kDate: w.int32(std::get<Date>(v).days, desc); break;
      case TypeId::kTime: w.int64(std::get<Time>(v).microseconds, desc); break;
      case TypeId::kTimestamp: w.int64(std::get<Timestamp>(v).microseconds, desc); break;
      case TypeId::kTimestampTz: w.int64(std::get<TimestampTz>(v).microseconds, desc); break;
      case TypeId::kInterval: {
        const Interval& iv = std::get<Interval>(v);
        w.interval(iv.months, iv.days, iv.microseconds, desc);
        break;
      }
      case TypeId::kUuid: w.uuid(std::get<Uuid>(v).bytes.data(), desc); break;
    }
  }
}

void KeyLayout::encode(std::span<const Datum> values, std::string* out) const {
  assert(out != nullptr);
  if (values.size() != columns_.size()) {
    throw CodecError("a key of this layout has " + std::to_string(columns_.size()) +
                     " columns, not " + std::to_string(values.size()));
  }
  const size_t start = out->size();
  try {
    KeyWriter(out).prefix(prefix_);
    encode_columns(values, out);
  } catch (...) {
    out->resize(start);
    throw;
  }
  assert(out->size() >= start + 4 + values.size());
}

std::string KeyLayout::encode(std::span<const Datum> values) const {
  std::string out;
  encode(values, &out);
  return out;
}

std::vector<std::string> KeyLayout::encode_batch(std::span<const std::vector<Datum>> rows) const {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const std::vector<Datum>& row : rows) out.push_back(encode(row));
  assert(out.size() == rows.size());
  return out;
}

std::vector<Datum> KeyLayout::decode(std::string_view key) const {
  KeyReader r(key.data(), key.size());
  uint32_t prefix = 0;
  if (!r.prefix(&prefix)) throw CodecError("key: truncated or invalid prefix");
  if (prefix != prefix_) {
    throw CodecError("key: prefix " + std::to_string(prefix) + " is not this layout's " +
                     std::to_string(prefix_));
  }
  std::vector<Datum> out;
  out.reserve(columns_.size());
  std::string scratch;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const KeyColumn& c = columns_[i];
    const bool desc = c.descending;
    bool null = false;
    if (!r.marker(c.nulls_first, &null)) fail(i, c.type, "invalid NULL marker");
    if (null) {
      out.emplace_back(Null{});
      continue;
    }
    bool ok = false;
    switch (c.type) {
      case TypeId::kBool: {
        bool v = false;
        ok = r.boolean(desc, &v);
        out.emplace_back(v);
        break;
      }
      case TypeId::kInt2: {
        int16_t v = 0;
        ok = r.int16(desc, &v);
        out.emplace_back(v);
        break;
      }
      case TypeId::kInt4: {
        int32_t v = 0;
        ok = r.int32(desc, &v);
        out.emplace_back(v);
        break;
      }
      case TypeId::kInt8: {
        int64_t v = 0;
        ok = r.int64(desc, &v);
        out.emplace_back(v);
        break;
      }
      case TypeId::kFloat4: {
        float v = 0;
        ok = r.float4(desc, &v);
        out.emplace_back(v);
        break;
      }
      case TypeId::kFloat8: {
        double v = 0;
        ok = r.float8(desc, &v);
        out.emplace_back(v);
        break;
      }
      case TypeId::kNumeric: {
        Numeric v;
        ok = r.numeric(desc, &v);
        out.emplace_back(std::move(v));
        break;
      }
      case TypeId::kText:
      case TypeId::kVarchar:
      case TypeId::kBpchar:
      case TypeId::kBytea: {
        const char* data = nullptr;
        size_t size = 0;
        ok = r.text(desc, &scratch, &data, &size);
        std::string s = ok ? std::string(data, size) : std::string();
        if (c.type == TypeId::kBytea) {
          out.emplace_back(Bytes{std::move(s)});
        } else {
          out.emplace_back(std::move(s));
        }
        break;
      }
      case TypeId::kDate: {
        int32_t v = 0;
        ok = r.int32(desc, &v);
        out.emplace_back(Date{v});
        break;
      }
      case TypeId::kTime: {
        int64_t v = 0;
        ok = r.int64(desc, &v) && v >= 0 && v <= 86'400'000'000;
        out.emplace_back(Time{v});
        break;
      }
      case TypeId::kTimestamp: {
        int64_t v = 0;
        ok = r.int64(desc, &v);
        out.emplace_back(Timestamp{v});
        break;
      }
      case TypeId::kTimestampTz: {
        int64_t v = 0;
        ok = r.int64(desc, &v);
        out.emplace_back(TimestampTz{v});
        break;
      }
      case TypeId::kInterval: {
        Interval v;
        ok = r.interval(desc, &v.months, &v.days, &v.microseconds);
        out.emplace_back(v);
        break;
      }
      case TypeId::kUuid: {
        Uuid v;
        ok = r.uuid(desc, v.bytes.data());
        out.emplace_back(v);
        break;
      }
    }
    if (!ok) fail(i, c.type, "truncated or invalid value bytes");
  }
  if (!r.at_end()) throw CodecError("key: " + std::to_string(r.remaining()) + " bytes left over");
  assert(out.size() == columns_.size());
  return out;
}

std::vector<std::vector<Datum>> KeyLayout::decode_batch(std::span<const std::string> keys) const {
  std::vector<std::vector<Datum>> out;
  out.reserve(keys.size());
  for (const std::string& k : keys) out.push_back(decode(k));
  assert(out.size() == keys.size());
  return out;
}

std::pair<std::string, std::string> KeyLayout::prefix_bounds(std::span<const Datum> leading) const {
  if (leading.size() > columns_.size()) {
    throw CodecError("prefix_bounds: " + std::to_string(leading.size()) +
                     " values for a key of " + std::to_string(columns_.size()) + " columns");
  }
  std::string lo;
  KeyWriter(&lo).prefix(prefix_);
  encode_columns(leading, &lo);
  std::string hi = key_successor(lo);
  assert(lo < hi);
  return {std::move(lo), std::move(hi)};
}

int KeyLayout::compare(std::span<const Datum> a, std::span<const Datum> b) const {
  assert(a.size() == columns_.size());
  assert(b.size() == columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) {
    const KeyColumn& c = columns_[i];
    const bool an = is_null(a[i]);
    const bool bn = is_null(b[i]);
    if (an && bn) continue;
    if (an != bn) return (an == c.nulls_first) ? -1 : 1;
    int cmp = pg_compare(c.type, a[i], b[i]);
    if (c.descending) cmp = -cmp;
    if (cmp != 0) return cmp;
  }
  return 0;
}

}  // namespace dsql::storage
