// Primary-key point SELECTs answered without the interpreter (see point_query.h).
//
// Backend messages written here (PostgreSQL protocol v3; every length counts itself):
//   BindComplete     '2' int32(4)
//   RowDescription   'T' int32 int16(nfields) { cstring name, int32 table_oid,
//                        int16 column_no, int32 type_oid, int16 type_len, int32 type_mod,
//                        int16 format }
//   DataRow          'D' int32 int16(ncols) { int32 len (-1: NULL), byte[len] }
//   CommandComplete  'C' int32 cstring("SELECT n")
//   ReadyForQuery    'Z' int32(5) 'I'
#include "wire/point_query.h"

#include <cassert>
#include <cctype>
#include <charconv>
#include <cstring>
#include <ctime>
#include <limits>
#include <stdexcept>
#include <utility>
#include <variant>

#include "journal/errors.h"
#include "storage/codec_bytes.h"

namespace dsql::wire {
namespace {

using storage::Datum;
using storage::TypeId;

constexpr char kQuery = 'Q';
constexpr char kBind = 'B';
constexpr char kDescribe = 'D';
constexpr char kExecute = 'E';
constexpr char kSync = 'S';
constexpr char kFlush = 'H';
// Frontend messages per serve() call at most (a bound on the loop; pipelines beyond it take
// the general path).
constexpr size_t kMaxMessages = 4096;

bool is_int_type(TypeId t) { return t == TypeId::kInt2 || t == TypeId::kInt4 || t == TypeId::kInt8; }

bool is_output_type(TypeId t) {
  return is_int_type(t) || t == TypeId::kBool || t == TypeId::kText || t == TypeId::kVarchar;
}

bool in_range(TypeId t, int64_t v) {
  switch (t) {
    case TypeId::kInt2:
      return v >= std::numeric_limits<int16_t>::min() && v <= std::numeric_limits<int16_t>::max();
    case TypeId::kInt4:
      return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
    default:
      return true;
  }
}

Datum int_datum(TypeId t, int64_t v) {
  assert(in_range(t, v));
  switch (t) {
    case TypeId::kInt2: return static_cast<int16_t>(v);
    case TypeId::kInt4: return static_cast<int32_t>(v);
    default: return v;
  }
}

// The byte reader over one message body; every read checks the bounds.
struct Body {
  const char* p;
  const char* end;
  bool cstring(std::string_view* s) {
    const void* nul = std::memchr(p, 0, static_cast<size_t>(end - p));
    if (nul == nullptr) return false;
    *s = std::string_view(p, static_cast<size_t>(static_cast<const char*>(nul) - p));
    p = static_cast<const char*>(nul) + 1;
    return true;
  }
  bool int16(int16_t* v) {
    if (end - p < 2) return false;
    *v = static_cast<int16_t>(storage::bytes::load_be16(reinterpret_cast<const uint8_t*>(p)));
    p += 2;
    return true;
  }
  bool int32(int32_t* v) {
    if (end - p < 4) return false;
    *v = static_cast<int32_t>(storage::bytes::load_be32(reinterpret_cast<const uint8_t*>(p)));
    p += 4;
    return true;
  }
  bool bytes(size_t n, std::string_view* s) {
    if (static_cast<size_t>(end - p) < n) return false;
    *s = std::string_view(p, n);
    p += n;
    return true;
  }
  bool done() const { return p == end; }
};

// PostgreSQL's int2/int4/int8 text input, the plain form only: optional spaces, an optional
// sign, decimal digits, optional spaces. False for anything else or out of the type's range
// (the general path then raises the error PostgreSQL gives).
bool parse_int_text(std::string_view s, uint32_t oid, int64_t* v) {
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  size_t j = s.size();
  while (j > i && s[j - 1] == ' ') --j;
  if (i == j) return false;
  const char* first = s.data() + i;
  if (*first == '+') ++first;
  const char* last = s.data() + j;
  if (first == last || (*first == '-' && first + 1 == last)) return false;
  const auto [ptr, ec] = std::from_chars(first, last, *v);
  if (ec != std::errc() || ptr != last) return false;
  if (oid == kOidInt2) return in_range(TypeId::kInt2, *v);
  if (oid == kOidInt4) return in_range(TypeId::kInt4, *v);
  return true;
}

bool parse_int_binary(std::string_view s, uint32_t oid, int64_t* v) {
  const auto* u = reinterpret_cast<const uint8_t*>(s.data());
  if (oid == kOidInt2 && s.size() == 2) {
    *v = static_cast<int16_t>(storage::bytes::load_be16(u));
  } else if (oid == kOidInt4 && s.size() == 4) {
    *v = static_cast<int32_t>(storage::bytes::load_be32(u));
  } else if (oid == kOidInt8 && s.size() == 8) {
    *v = static_cast<int64_t>((uint64_t{storage::bytes::load_be32(u)} << 32) |
                              storage::bytes::load_be32(u + 4));
  } else {
    return false;
  }
  return true;
}

void put_i16(std::string* out, int16_t v) { storage::bytes::put_be16(out, static_cast<uint16_t>(v)); }
void put_i32(std::string* out, int32_t v) { storage::bytes::put_be32(out, static_cast<uint32_t>(v)); }

// Starts a backend message; returns where its length goes (patched by end_message).
size_t begin_message(std::string* out, char type) {
  out->push_back(type);
  const size_t at = out->size();
  out->append(4, '\0');
  return at;
}

void end_message(std::string* out, size_t at) {
  assert(at + 4 <= out->size());
  const auto len = static_cast<uint32_t>(out->size() - at);
  for (int i = 0; i < 4; ++i) (*out)[at + static_cast<size_t>(i)] = static_cast<char>(len >> (24 - 8 * i));
}

// One DataRow column (length + bytes) of a non-NULL value in format 0 (text) or 1 (binary).
void append_value(const Datum& d, int16_t format, std::string* out) {
  char buf[24];
  std::string_view text;
  std::string scratch;
  if (const auto* b = std::get_if<bool>(&d)) {
    put_i32(out, 1);
    out->push_back(format == 1 ? static_cast<char>(*b ? 1 : 0) : (*b ? 't' : 'f'));
    return;
  }
  int64_t iv = 0;
  int width = 0;
  if (const auto* i2 = std::get_if<int16_t>(&d)) {
    iv = *i2, width = 2;
  } else if (const auto* i4 = std::get_if<int32_t>(&d)) {
    iv = *i4, width = 4;
  } else if (const auto* i8 = std::get_if<int64_t>(&d)) {
    iv = *i8, width = 8;
  }
  if (width != 0) {
    if (format == 1) {
      put_i32(out, width);
      if (width == 2) storage::bytes::put_be16(out, static_cast<uint16_t>(iv));
      if (width == 4) storage::bytes::put_be32(out, static_cast<uint32_t>(iv));
      if (width == 8) storage::bytes::put_be64(out, static_cast<uint64_t>(iv));
      return;
    }
    const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), iv);
    assert(ec == std::errc());
    put_i32(out, static_cast<int32_t>(end - buf));
    out->append(buf, static_cast<size_t>(end - buf));
    return;
  }
  const auto* s = std::get_if<std::string>(&d);
  assert(s != nullptr && "output types are checked at registration");
  put_i32(out, static_cast<int32_t>(s->size()));
  out->append(*s);
}

// Result formats of a Bind for n columns (PostgreSQL: none = all text, one = for all).
bool expand_formats(const std::vector<int16_t>& given, size_t n, std::vector<int16_t>* out) {
  out->clear();
  if (given.empty()) {
    out->assign(n, 0);
  } else if (given.size() == 1) {
    out->assign(n, given[0]);
  } else if (given.size() == n) {
    *out = given;
  } else {
    return false;
  }
  for (const int16_t f : *out) {
    if (f != 0 && f != 1) return false;
  }
  return true;
}

void append_tag(std::string_view tag, std::string* out) {
  const size_t at = begin_message(out, 'C');
  out->append(tag);
  out->push_back('\0');
  end_message(out, at);
}

void append_command_complete(size_t rows, std::string* out) {
  append_tag(rows == 0 ? "SELECT 0" : "SELECT 1", out);
}

// ReadyForQuery: 'I' idle, 'T' in a (lane) transaction block.
void append_ready(std::string* out, char status = 'I') {
  out->push_back('Z');
  put_i32(out, 5);
  out->push_back(status);
}

void append_no_data(std::string* out) { out->append("n\0\0\0\4", 5); }

// Whether only Flush messages and one empty Sync follow `pos` in `in`, up to its end: the
// group being executed is the buffer's last, so a refusal can never come after its effects.
bool only_sync_follows(std::string_view in, size_t pos) {
  bool synced = false;
  for (size_t n = 0; pos < in.size() && n < kMaxMessages; ++n) {
    if (in.size() - pos < 5) return false;
    const uint32_t len =
        storage::bytes::load_be32(reinterpret_cast<const uint8_t*>(in.data() + pos + 1));
    const char type = in[pos];
    if (len != 4 || (type != kFlush && type != kSync) || (type == kSync && synced)) return false;
    synced = synced || type == kSync;
    pos += 5;
  }
  return synced && pos == in.size();
}

const char* kind_label(adjudicator::Kind k) {
  switch (k) {
    case adjudicator::Kind::kKeyShare: return "keyshare";
    case adjudicator::Kind::kNonKey: return "nonkey";
    case adjudicator::Kind::kFull: return "full";
  }
  return "?";
}

// The ErrorResponse the general path sends for a write-write conflict at COMMIT
// (dsql.adjudicator.Result.raise_if_failed, dsql.server.messages.error_fields).
void append_conflict_error(std::string_view key, const adjudicator::TxnResult& r,
                           std::string* out) {
  const size_t at = begin_message(out, 'E');
  auto field = [out](char code, std::string_view text) {
    out->push_back(code);
    out->append(text);
    out->push_back('\0');
  };
  field('S', "ERROR");
  field('V', "ERROR");
  field('C', "40001");
  field('M', "change conflicts with another transaction (OC000)");
  std::string detail = kind_label(r.mine);
  detail.append(" write on key ");
  append_bytes_repr(key, &detail);
  detail.append(r.pending ? " conflicts with a pending " : " conflicts with a committed ");
  detail.append(kind_label(r.theirs));
  detail.append(" write");
  field('D', detail);
  out->push_back('\0');
  end_message(out, at);
}

int64_t clock_ns(clockid_t id) {
  timespec t{};
  clock_gettime(id, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

}  // namespace

void PointPlan::validate() const {
  if (key.columns().empty()) throw std::invalid_argument("a point plan needs key columns");
  if (key_params.size() != key.columns().size()) {
    throw std::invalid_argument("one parameter per key column");
  }
  for (size_t i = 0; i < key_params.size(); ++i) {
    if (key_params[i] >= nparams) throw std::invalid_argument("key parameter out of range");
    const storage::KeyColumn& c = key.columns()[i];
    if (!is_int_type(c.type) || c.descending || c.nulls_first) {
      throw std::invalid_argument("key columns must be ascending int2, int4 or int8");
    }
  }
  if (outputs.size() != fields.size()) throw std::invalid_argument("one field per output");
  for (const Output& o : outputs) {
    const size_t n = o.from_key ? key.columns().size() : row.types().size();
    if (o.index >= n) throw std::invalid_argument("output index out of range");
    const TypeId t = o.from_key ? key.columns()[o.index].type : row.types()[o.index];
    if (!is_output_type(t)) throw std::invalid_argument("unsupported output type");
  }
}

FastPath::FastPath(std::shared_ptr<const storage::ShardMap> store) : store_(std::move(store)) {
  if (store_ == nullptr) throw std::invalid_argument("FastPath needs a store");
}

bool normalize(std::string_view sql, Normalized* out) {
  assert(out != nullptr);
  out->text.clear();
  out->values.clear();
  out->oids.clear();
  if (sql.empty() || sql.size() > kMaxQueryBytes) return false;
  size_t end = sql.size();
  while (end > 0 && (sql[end - 1] == ' ' || sql[end - 1] == '\n' || sql[end - 1] == '\t' ||
                     sql[end - 1] == '\r')) {
    --end;
  }
  if (end > 0 && sql[end - 1] == ';') --end;  // one trailing ';' (and what follows it)
  out->text.reserve(sql.size());
  size_t i = 0;
  for (size_t steps = 0; i < sql.size() && steps < kMaxQueryBytes; ++steps) {
    const char c = sql[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || c == '\'' || c == '"' || c == '$' || c == '\\' || c == '\0') return false;
    if (c == ';' && i != end) return false;
    if ((c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') ||
        (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*')) {
      return false;
    }
    if (std::isalpha(u) != 0 || c == '_') {  // an identifier or keyword, digits included
      size_t j = i + 1;
      while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) != 0 ||
                                sql[j] == '_')) {
        ++j;
      }
      out->text.append(sql, i, j - i);
      i = j;
      continue;
    }
    if (std::isdigit(u) != 0) {
      size_t j = i;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])) != 0) ++j;
      if (j < sql.size()) {
        const char n = sql[j];
        if (n == '.' || n == '_' || std::isalpha(static_cast<unsigned char>(n)) != 0) return false;
      }
      if (i > 0 && sql[i - 1] == '.') return false;  // ".5"
      int64_t v = 0;
      const auto [ptr, ec] = std::from_chars(sql.data() + i, sql.data() + j, v);
      if (ec != std::errc() || ptr != sql.data() + j) return false;  // beyond int8: numeric
      if (out->values.size() >= kMaxLiterals) return false;
      const bool int4 = v <= std::numeric_limits<int32_t>::max();
      out->values.push_back(v);
      out->oids.push_back(int4 ? kOidInt4 : kOidInt8);
      out->text.append(int4 ? "$4" : "$8");
      i = j;
      continue;
    }
    out->text.push_back(c);
    ++i;
  }
  return i == sql.size();
}

void append_bytes_repr(std::string_view b, std::string* out) {
  const bool single = b.find('\'') == std::string_view::npos || b.find('"') != std::string_view::npos;
  const char quote = single ? '\'' : '"';
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('b');
  out->push_back(quote);
  for (const char ch : b) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == quote || ch == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (ch == '\t') {
      out->append("\\t");
    } else if (ch == '\n') {
      out->append("\\n");
    } else if (ch == '\r') {
      out->append("\\r");
    } else if (c < 0x20 || c >= 0x7f) {
      out->append("\\x");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
    } else {
      out->push_back(ch);
    }
  }
  out->push_back(quote);
}

void append_row_description(const PointPlan& plan, const std::vector<int16_t>& formats,
                            std::string* out) {
  assert(formats.size() == plan.fields.size());
  const size_t at = begin_message(out, 'T');
  put_i16(out, static_cast<int16_t>(plan.fields.size()));
  for (size_t i = 0; i < plan.fields.size(); ++i) {
    const Field& f = plan.fields[i];
    out->append(f.name);
    out->push_back('\0');
    put_i32(out, static_cast<int32_t>(f.table_oid));
    put_i16(out, f.column_no);
    put_i32(out, static_cast<int32_t>(f.type_oid));
    put_i16(out, f.type_len);
    put_i32(out, f.type_mod);
    put_i16(out, formats[i]);
  }
  end_message(out, at);
}

FastConn::FastConn(std::shared_ptr<FastPath> fast) : fast_(std::move(fast)) {
  if (fast_ == nullptr) throw std::invalid_argument("FastConn needs a FastPath");
}

void FastConn::add_query(const std::string& normalized_text,
                         std::shared_ptr<const PointPlan> plan) {
  assert(plan != nullptr);
  if (queries_.size() >= kMaxEntries) queries_.clear();
  queries_[normalized_text] = std::move(plan);
  assert(queries_.size() <= kMaxEntries);
}

void FastConn::add_statement(const std::string& name, std::shared_ptr<const PointPlan> plan,
                             std::vector<uint32_t> param_oids) {
  assert(plan != nullptr);
  Statement st;
  const uint32_t nparams = plan->nparams;
  st.plan = std::move(plan);
  put_statement(name, std::move(st), nparams, std::move(param_oids));
}

void FastConn::add_begin(const std::string& name, const LaneLimits& limits) {
  Statement st;
  st.kind = Kind::kBegin;
  st.limits = limits;
  put_statement(name, std::move(st), 0, {});
}

void FastConn::add_commit(const std::string& name) {
  Statement st;
  st.kind = Kind::kCommit;
  put_statement(name, std::move(st), 0, {});
}

void FastConn::add_update(const std::string& name, std::shared_ptr<const UpdatePlan> plan,
                          std::vector<uint32_t> param_oids) {
  assert(plan != nullptr);
  Statement st;
  st.kind = Kind::kUpdate;
  const uint32_t nparams = plan->nparams;
  st.update = std::move(plan);
  put_statement(name, std::move(st), nparams, std::move(param_oids));
}

void FastConn::add_insert(const std::string& name, std::shared_ptr<const InsertPlan> plan,
                          std::vector<uint32_t> param_oids) {
  assert(plan != nullptr);
  Statement st;
  st.kind = Kind::kInsert;
  const uint32_t nparams = plan->nparams;
  st.insert = std::move(plan);
  put_statement(name, std::move(st), nparams, std::move(param_oids));
}

void FastConn::put_statement(const std::string& name, Statement st, uint32_t nparams,
                             std::vector<uint32_t> param_oids) {
  if (param_oids.size() != nparams) {
    throw std::invalid_argument("one parameter type per statement parameter");
  }
  st.param_oids = std::move(param_oids);
  for (const uint32_t oid : st.param_oids) {
    if (oid != kOidInt2 && oid != kOidInt4 && oid != kOidInt8) {
      throw std::invalid_argument("statement parameters must be int2, int4 or int8");
    }
  }
  if (statements_.size() >= kMaxEntries) statements_.clear();
  statements_[name] = std::move(st);
  assert(statements_.size() <= kMaxEntries);
}

bool FastConn::run(const PointPlan& plan, const std::vector<Param>& params,
                   const std::vector<int16_t>& formats, bool describe, std::string* out) const {
  assert(params.size() == plan.nparams);
  assert(formats.size() == plan.outputs.size());
  // The watermark first, then the epoch (see the file comment).
  const storage::ShardMap& store = fast_->store();
  const int64_t ts = store.watermark();
  if (fast_->epoch() != plan.epoch) return false;
  const bool in_txn = txn_.open();
  std::vector<Datum> key_values;
  key_values.reserve(plan.key_params.size());
  bool match = true;
  for (size_t i = 0; i < plan.key_params.size(); ++i) {
    const Param& p = params[plan.key_params[i]];
    const TypeId t = plan.key.columns()[i].type;
    if (p.null || !in_range(t, p.value)) {  // NULL or outside the column's type: no row
      match = false;
      break;
    }
    key_values.push_back(int_datum(t, p.value));
  }
  std::string value;
  std::vector<Datum> row;
  if (match) {
    const std::string key = plan.key.encode(key_values);
    if (in_txn) {  // the snapshot, merged with the transaction's own writes
      TxnKernels* k = fast_->txn();
      if (k == nullptr || txn_.read(k->store(), key, &value, &match) != LaneStatus::kDone) {
        return false;
      }
    } else {
      const storage::PointRead got = store.read_into(key, ts, &value);
      if (got == storage::PointRead::kNotReadable) return false;
      match = got == storage::PointRead::kFound;
    }
    if (match) {
      if (value.empty() || static_cast<uint8_t>(value[0]) != plan.row_version) return false;
      try {
        row = plan.row.decode(std::string_view(value).substr(1));
      } catch (const storage::CodecError&) {
        return false;  // the general path reports it
      }
    }
  }
  if (describe) append_row_description(plan, formats, out);
  if (match) {
    const size_t at = begin_message(out, 'D');
    put_i16(out, static_cast<int16_t>(plan.outputs.size()));
    for (size_t i = 0; i < plan.outputs.size(); ++i) {
      const Output& o = plan.outputs[i];
      const Datum& d = o.from_key ? key_values[o.index] : row[o.index];
      if (storage::is_null(d)) {
        put_i32(out, -1);
      } else {
        append_value(d, formats[i], out);
      }
    }
    end_message(out, at);
  }
  append_command_complete(match ? 1 : 0, out);
  return true;
}

bool FastConn::run_lane(const Statement& st, const std::vector<Param>& params, bool describe,
                        std::string* out) {
  assert(st.kind != Kind::kSelect);
  TxnKernels* k = fast_->txn();
  if (k == nullptr) return false;
  const size_t out_size = out->size();
  const int64_t mono_ns = clock_ns(CLOCK_MONOTONIC);
  std::string tag;
  switch (st.kind) {
    case Kind::kBegin: {
      if (txn_.open()) return false;  // the general path warns (25001)
      const int64_t ts = k->begin();
      if (ts == 0) return false;
      txn_.open_at(ts, clock_ns(CLOCK_REALTIME), mono_ns, fast_->epoch(), st.limits);
      failure_ = CommitFailure{};
      tag = "BEGIN";
      break;
    }
    case Kind::kUpdate: {
      if (!txn_.open() || st.update->epoch != fast_->epoch()) return false;
      int n = 0;
      if (txn_.update(k->store(), *st.update, params, mono_ns, &n) != LaneStatus::kDone) {
        return false;
      }
      tag = n == 0 ? "UPDATE 0" : "UPDATE 1";
      break;
    }
    case Kind::kInsert: {
      if (!txn_.open() || st.insert->epoch != fast_->epoch()) return false;
      if (txn_.insert(*k, *st.insert, params, mono_ns) != LaneStatus::kDone) return false;
      tag = "INSERT 0 1";
      break;
    }
    case Kind::kCommit: {
      // After a DDL the general path commits (it tells a schema conflict from a write one).
      if (!txn_.open() || txn_.epoch() != fast_->epoch()) return false;
      adjudicator::TxnResult r;
      LaneStatus done = LaneStatus::kRefused;
      try {
        done = txn_.commit(*k, mono_ns, &r);
      } catch (const node::ApplyFailed& e) {
        failure_ = CommitFailure{true, r, e.what(), "ApplyFailed"};
        return false;
      } catch (const journal::JournalError& e) {
        failure_ = CommitFailure{true, r, e.what(), "JournalError"};
        return false;
      } catch (const std::exception& e) {
        failure_ = CommitFailure{true, r, e.what(), "Error"};
        return false;
      }
      if (done != LaneStatus::kDone && r.outcome == adjudicator::Outcome::kConflict &&
          txn_.epoch() == fast_->epoch()) {
        // A write-write conflict, and no DDL began or ended since BEGIN (so not a schema
        // conflict): answered here, the transaction ends.
        const size_t nclaims = txn_.order().size() + 1;
        assert(r.key_index < nclaims);
        const std::string_view key = r.key_index + 1 < nclaims
            ? std::string_view(txn_.order()[r.key_index]) : std::string_view(k->share_key());
        if (describe) append_no_data(out);
        append_conflict_error(key, r, out);
        txn_.close();
        return true;
      }
      if (done != LaneStatus::kDone) {
        // Refused before deciding (too old) or by the adjudicator otherwise (r says why).
        failure_ = CommitFailure{txn_.open() && r.outcome != adjudicator::Outcome::kCommitted,
                                 r, {}, {}};
        return false;
      }
      tag = "COMMIT";
      break;
    }
    case Kind::kSelect:
      return false;
  }
  assert(out->size() == out_size);
  if (describe) append_no_data(out);
  append_tag(tag, out);
  return true;
}

bool FastConn::serve(std::string_view in, std::string* out) {
  assert(out != nullptr);
  const size_t out_size = out->size();
  auto refuse = [&]() {
    out->resize(out_size);
    ++stats_.refused;
    return false;
  };
  if (in.empty()) return refuse();
  // Extended-protocol group state: after Bind, the statement, parameters and formats.
  const Statement* bound = nullptr;
  std::vector<Param> params;
  std::vector<int16_t> formats;
  bool described = false;
  bool executed = false;
  uint64_t groups = 0;
  Normalized norm;
  size_t pos = 0;
  for (size_t n = 0; pos < in.size(); ++n) {
    if (n >= kMaxMessages || in.size() - pos < 5) return refuse();
    const char type = in[pos];
    const uint32_t len = storage::bytes::load_be32(reinterpret_cast<const uint8_t*>(in.data() + pos + 1));
    if (len < 4 || len > in.size() - pos - 1) return refuse();
    Body body{in.data() + pos + 5, in.data() + pos + 1 + len};
    pos += 1 + len;
    if (type == kFlush) {
      if (!body.done()) return refuse();
      continue;
    }
    if (type == kQuery) {
      std::string_view sql;
      if (txn_.open()) return refuse();  // a lane transaction: the general path takes it over
      if (bound != nullptr || !body.cstring(&sql) || !body.done()) return refuse();
      if (!normalize(sql, &norm)) return refuse();
      const auto it = queries_.find(norm.text);
      if (it == queries_.end()) return refuse();
      const PointPlan& plan = *it->second;
      if (norm.values.size() != plan.nparams) return refuse();
      params.assign(plan.nparams, Param{});
      for (size_t i = 0; i < norm.values.size(); ++i) params[i].value = norm.values[i];
      formats.assign(plan.outputs.size(), 0);
      if (!run(plan, params, formats, /*describe=*/true, out)) return refuse();
      append_ready(out);
      ++groups;
      continue;
    }
    if (type == kBind) {
      std::string_view portal, name;
      if (bound != nullptr || !body.cstring(&portal) || !body.cstring(&name) || !portal.empty()) {
        return refuse();
      }
      const auto it = statements_.find(std::string(name));
      if (it == statements_.end()) return refuse();
      const Statement& st = it->second;
      int16_t nfmt = 0;
      if (!body.int16(&nfmt) || nfmt < 0) return refuse();
      std::vector<int16_t> pfmt(static_cast<size_t>(nfmt));
      for (auto& f : pfmt) {
        if (!body.int16(&f)) return refuse();
      }
      int16_t np = 0;
      if (!body.int16(&np) || static_cast<size_t>(np) != st.param_oids.size()) return refuse();
      if (nfmt > 1 && nfmt != np) return refuse();
      params.assign(static_cast<size_t>(np), Param{});
      for (size_t i = 0; i < params.size(); ++i) {
        int32_t plen = 0;
        if (!body.int32(&plen)) return refuse();
        if (plen == -1) {
          params[i].null = true;
          continue;
        }
        std::string_view raw;
        if (plen < 0 || !body.bytes(static_cast<size_t>(plen), &raw)) return refuse();
        const int16_t f = nfmt == 0 ? 0 : pfmt[nfmt == 1 ? 0 : i];
        const uint32_t oid = st.param_oids[i];
        const bool ok = f == 0 ? parse_int_text(raw, oid, &params[i].value)
                               : f == 1 && parse_int_binary(raw, oid, &params[i].value);
        if (!ok) return refuse();
      }
      int16_t nres = 0;
      if (!body.int16(&nres) || nres < 0) return refuse();
      std::vector<int16_t> rfmt(static_cast<size_t>(nres));
      for (auto& f : rfmt) {
        if (!body.int16(&f)) return refuse();
      }
      const size_t noutputs = st.kind == Kind::kSelect ? st.plan->outputs.size() : 0;
      if (!body.done() || !expand_formats(rfmt, noutputs, &formats)) {
        return refuse();
      }
      out->append("2\0\0\0\4", 5);  // BindComplete
      bound = &st;
      described = executed = false;
      continue;
    }
    if (type == kDescribe) {
      std::string_view name;
      if (bound == nullptr || executed || described || body.end - body.p < 1 || *body.p != 'P') {
        return refuse();
      }
      ++body.p;
      if (!body.cstring(&name) || !name.empty() || !body.done()) return refuse();
      described = true;
      continue;
    }
    if (type == kExecute) {
      std::string_view portal;
      int32_t max_rows = 0;
      if (bound == nullptr || executed || !body.cstring(&portal) || !portal.empty() ||
          !body.int32(&max_rows) || max_rows != 0 || !body.done()) {
        return refuse();
      }
      if (bound->kind == Kind::kSelect) {
        if (!run(*bound->plan, params, formats, described, out)) return refuse();
      } else {
        // A statement with effects runs only as the buffer's one group (invariant 1).
        if (groups != 0 || !only_sync_follows(in, pos)) return refuse();
        if (!run_lane(*bound, params, described, out)) return refuse();
      }
      executed = true;
      continue;
    }
    if (type == kSync) {
      if (bound == nullptr || !executed || !body.done()) return refuse();
      append_ready(out, txn_.open() ? 'T' : 'I');
      bound = nullptr;
      ++groups;
      continue;
    }
    return refuse();
  }
  if (bound != nullptr || groups == 0) return refuse();  // a group without its Sync
  stats_.served += groups;
  fast_->count_served(groups);
  last_served_ns_.store(clock_ns(CLOCK_MONOTONIC), std::memory_order_relaxed);
  assert(out->size() > out_size);
  return true;
}

}  // namespace dsql::wire
