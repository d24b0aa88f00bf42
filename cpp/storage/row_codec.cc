// The row codec: numeric values and the Datum-level RowLayout. The format grammar is at the
// top of row_codec.h.
#include "storage/row_codec.h"

#include <cassert>

namespace dsql::storage {
namespace {

[[noreturn]] void fail(size_t column, TypeId type, const std::string& what) {
  throw CodecError("row column " + std::to_string(column) + " (" + type_name(type) + "): " + what);
}

}  // namespace

void RowWriter::numeric(const Numeric& n) {
  assert(n.well_formed());
  assert(n.fits_pg());
  next();
  switch (n.kind) {
    case Numeric::Kind::kNaN: out_->push_back(static_cast<char>(kRowNumNaN)); return;
    case Numeric::Kind::kPosInf: out_->push_back(static_cast<char>(kRowNumPosInf)); return;
    case Numeric::Kind::kNegInf: out_->push_back(static_cast<char>(kRowNumNegInf)); return;
    case Numeric::Kind::kFinite: break;
  }
  out_->push_back(static_cast<char>(n.negative ? kRowNumNegative : kRowNumPositive));
  bytes::put_varint(out_, bytes::zigzag(n.exponent));
  const size_t nd = n.digits.size();
  bytes::put_varint(out_, nd);
  for (size_t i = 0; i < nd; i += 2) {  // bounded by nd
    const int hi = n.digits[i] - '0';
    const int lo = i + 1 < nd ? n.digits[i + 1] - '0' : 0;
    out_->push_back(static_cast<char>((hi << 4) | lo));
  }
}

bool RowReader::numeric(Numeric* out) {
  assert(out != nullptr);
  if (p_ >= end_) return false;
  const uint8_t tag = *p_++;
  out->negative = false;
  out->exponent = 0;
  out->digits = "0";
  switch (tag) {
    case kRowNumNaN: out->kind = Numeric::Kind::kNaN; return true;
    case kRowNumPosInf: out->kind = Numeric::Kind::kPosInf; return true;
    case kRowNumNegInf: out->kind = Numeric::Kind::kNegInf; return true;
    case kRowNumPositive:
    case kRowNumNegative: break;
    default: return false;
  }
  out->kind = Numeric::Kind::kFinite;
  out->negative = tag == kRowNumNegative;
  int64_t exponent = 0;
  uint64_t nd = 0;
  if (!integer(&exponent) || exponent < INT32_MIN || exponent > INT32_MAX) return false;
  const uint8_t* q = bytes::get_varint(p_, end_, &nd);
  if (q == nullptr || nd == 0 || (nd + 1) / 2 > static_cast<uint64_t>(end_ - q)) return false;
  p_ = q;
  out->exponent = static_cast<int32_t>(exponent);
  out->digits.resize(static_cast<size_t>(nd));
  for (size_t i = 0; i < nd; i += 2) {  // bounded by nd, which fits in the row
    const uint8_t b = *p_++;
    const int hi = b >> 4;
    const int lo = b & 0x0F;
    if (hi > 9 || lo > 9) return false;
    out->digits[i] = static_cast<char>('0' + hi);
    if (i + 1 < nd) {
      out->digits[i + 1] = static_cast<char>('0' + lo);
    } else if (lo != 0) {
      return false;
    }
  }
  return out->well_formed() && out->fits_pg();
}

RowLayout::RowLayout(std::vector<TypeId> types) : types_(std::move(types)) {
  assert(types_.size() <= kMaxRowColumns);
  for (const TypeId t : types_) {
    assert(static_cast<int>(t) >= kTypeIdMin && static_cast<int>(t) <= kTypeIdMax);
  }
}

void RowLayout::encode(std::span<const Datum> values, std::string* out) const {
  assert(out != nullptr);
  if (values.size() != types_.size()) {
    throw CodecError("a row of this layout has " + std::to_string(types_.size()) +
                     " columns, not " + std::to_string(values.size()));
  }
  for (size_t i = 0; i < values.size(); ++i) {  // validate first: *out is then never torn
    if (!datum_matches(types_[i], values[i])) {
      fail(i, types_[i], "wrong value type: " + debug_string(values[i]));
    }
    if (!datum_in_domain(types_[i], values[i])) {
      fail(i, types_[i], "value out of range: " + debug_string(values[i]));
    }
  }
  const size_t start = out->size();
  RowWriter w(out, static_cast<uint32_t>(types_.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    const Datum& v = values[i];
    if (is_null(v)) {
      w.null();
      continue;
    }
    switch (types_[i]) {
      case TypeId::kBool: w.boolean(std::get<bool>(v)); break;
      case TypeId::kInt2: w.integer(std::get<int16_t>(v)); break;
      case TypeId::kInt4: w.integer(std::get<int32_t>(v)); break;
      case TypeId::kInt8: w.integer(std::get<int64_t>(v)); break;
      case TypeId::kFloat4: w.float4(std::get<float>(v)); break;
      case TypeId::kFloat8: w.float8(std::get<double>(v)); break;
      case TypeId::kNumeric: w.numeric(std::get<Numeric>(v)); break;
      case TypeId::kText:
      case TypeId::kVarchar:
      case TypeId::kBpchar: {
        const std::string& s = std::get<std::string>(v);
        w.text(s.data(), s.size());
        break;
      }
      case TypeId::kBytea: {
        const std::string& s = std::get<Bytes>(v).data;
        w.text(s.data(), s.size());
        break;
      }
      case TypeId::kDate: w.integer(std::get<Date>(v).days); break;
      case TypeId::kTime: w.integer(std::get<Time>(v).microseconds); break;
      case TypeId::kTimestamp: w.fixed64(std::get<Timestamp>(v).microseconds); break;
      case TypeId::kTimestampTz: w.fixed64(std::get<TimestampTz>(v).microseconds); break;
      case TypeId::kInterval: {
        const Interval& iv = std::get<Interval>(v);
        w.interval(iv.months, iv.days, iv.microseconds);
        break;
      }
      case TypeId::kUuid: w.uuid(std::get<Uuid>(v).bytes.data()); break;
    }
  }
  w.finish();
  assert(out->size() > start);
}

std::string RowLayout::encode(std::span<const Datum> values) const {
  std::string out;
  encode(values, &out);
  return out;
}

std::vector<std::string> RowLayout::encode_batch(std::span<const std::vector<Datum>> rows) const {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const std::vector<Datum>& row : rows) out.push_back(encode(row));
  assert(out.size() == rows.size());
  return out;
}

std::vector<Datum> RowLayout::decode(std::string_view row) const {
  RowReader r(row.data(), row.size());
  if (!r.header(static_cast<uint32_t>(types_.size()))) {
    throw CodecError("row: invalid header (column count or NULL bitmap)");
  }
  std::vector<Datum> out;
  out.reserve(types_.size());
  for (uint32_t i = 0; i < types_.size(); ++i) {
    const TypeId t = types_[i];
    if (r.is_null(i)) {
      out.emplace_back(Null{});
      continue;
    }
    bool ok = false;
    int64_t n = 0;
    switch (t) {
      case TypeId::kBool: {
        bool v = false;
        ok = r.boolean(&v);
        out.emplace_back(v);
        break;
      }
      case TypeId::kInt2:
        ok = r.integer(&n) && n >= INT16_MIN && n <= INT16_MAX;
        out.emplace_back(static_cast<int16_t>(n));
        break;
      case TypeId::kInt4:
        ok = r.integer(&n) && n >= INT32_MIN && n <= INT32_MAX;
        out.emplace_back(static_cast<int32_t>(n));
        break;
      case TypeId::kInt8:
        ok = r.integer(&n);
        out.emplace_back(n);
        break;
      case TypeId::kFloat4: {
        float v = 0;
        ok = r.float4(&v);
        out.emplace_back(v);
        break;
      }
      case TypeId::kFloat8: {
        double v = 0;
        ok = r.float8(&v);
        out.emplace_back(v);
        break;
      }
      case TypeId::kNumeric: {
        Numeric v;
        ok = r.numeric(&v);
        out.emplace_back(std::move(v));
        break;
      }
      case TypeId::kText:
      case TypeId::kVarchar:
      case TypeId::kBpchar:
      case TypeId::kBytea: {
        const char* data = nullptr;
        size_t size = 0;
        ok = r.text(&data, &size);
        std::string s = ok ? std::string(data, size) : std::string();
        if (t == TypeId::kBytea) {
          out.emplace_back(Bytes{std::move(s)});
        } else {
          out.emplace_back(std::move(s));
        }
        break;
      }
      case TypeId::kDate:
        ok = r.integer(&n) && n >= INT32_MIN && n <= INT32_MAX;
        out.emplace_back(Date{static_cast<int32_t>(n)});
        break;
      case TypeId::kTime:
        ok = r.integer(&n) && n >= 0 && n <= 86'400'000'000;
        out.emplace_back(Time{n});
        break;
      case TypeId::kTimestamp:
        ok = r.fixed64(&n);
        out.emplace_back(Timestamp{n});
        break;
      case TypeId::kTimestampTz:
        ok = r.fixed64(&n);
        out.emplace_back(TimestampTz{n});
        break;
      case TypeId::kInterval: {
        Interval v;
        ok = r.interval(&v.months, &v.days, &v.microseconds);
        out.emplace_back(v);
        break;
      }
      case TypeId::kUuid: {
        Uuid v;
        ok = r.uuid(v.bytes.data());
        out.emplace_back(v);
        break;
      }
    }
    if (!ok) fail(i, t, "truncated or invalid value bytes");
  }
  if (!r.at_end()) throw CodecError("row: " + std::to_string(r.remaining()) + " bytes left over");
  assert(out.size() == types_.size());
  return out;
}

std::vector<std::vector<Datum>> RowLayout::decode_batch(std::span<const std::string> rows) const {
  std::vector<std::vector<Datum>> out;
  out.reserve(rows.size());
  for (const std::string& row : rows) out.push_back(decode(row));
  assert(out.size() == rows.size());
  return out;
}

}  // namespace dsql::storage
