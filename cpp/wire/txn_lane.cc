// The transaction lane's kernels (see txn_lane.h).
#include "wire/txn_lane.h"

#include <cassert>
#include <limits>
#include <stdexcept>
#include <utility>

#include "journal/format.h"

namespace dsql::wire {
namespace {

using adjudicator::Kind;
using storage::Datum;
using storage::TypeId;

// How long a read waits for the snapshot to become readable before the general path takes it.
constexpr int64_t kReadWaitNs = 2'000'000'000;
// PostgreSQL's epoch (2000-01-01) in microseconds since the Unix epoch.
constexpr int64_t kPgEpochUs = 946'684'800'000'000;

bool is_int(TypeId t) { return t == TypeId::kInt2 || t == TypeId::kInt4 || t == TypeId::kInt8; }

bool fits(TypeId t, int64_t v) {
  if (t == TypeId::kInt2) {
    return v >= std::numeric_limits<int16_t>::min() && v <= std::numeric_limits<int16_t>::max();
  }
  if (t == TypeId::kInt4) {
    return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
  }
  return true;
}

Datum int_datum(TypeId t, int64_t v) {
  assert(is_int(t) && fits(t, v));
  if (t == TypeId::kInt2) return static_cast<int16_t>(v);
  if (t == TypeId::kInt4) return static_cast<int32_t>(v);
  return v;
}

bool int_of(const Datum& d, int64_t* v) {
  if (const auto* a = std::get_if<int16_t>(&d)) return *v = *a, true;
  if (const auto* b = std::get_if<int32_t>(&d)) return *v = *b, true;
  if (const auto* c = std::get_if<int64_t>(&d)) return *v = *c, true;
  return false;
}

// The key from integer parameters; false when a parameter is NULL or outside its column's type
// (the statement then matches no row).
bool key_from(const storage::KeyLayout& layout, const std::vector<uint32_t>& key_params,
              const std::vector<LaneParam>& params, std::string* key) {
  std::vector<Datum> values;
  values.reserve(key_params.size());
  for (size_t i = 0; i < key_params.size(); ++i) {
    const LaneParam& p = params[key_params[i]];
    const TypeId t = layout.columns()[i].type;
    if (p.null || !fits(t, p.value)) return false;
    values.push_back(int_datum(t, p.value));
  }
  *key = layout.encode(values);
  return true;
}

void check_int_key(const storage::KeyLayout& key, const std::vector<uint32_t>& params,
                   uint32_t nparams) {
  if (key.columns().empty() || params.size() != key.columns().size()) {
    throw std::invalid_argument("one parameter per key column");
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const storage::KeyColumn& c = key.columns()[i];
    if (params[i] >= nparams) throw std::invalid_argument("key parameter out of range");
    if (!is_int(c.type) || c.descending || c.nulls_first) {
      throw std::invalid_argument("key columns must be ascending int2, int4 or int8");
    }
  }
}

}  // namespace

// ---- plans -------------------------------------------------------------------------------------

void UpdatePlan::validate() const {
  check_int_key(key, key_params, nparams);
  if (adds.empty()) throw std::invalid_argument("an update plan sets at least one column");
  std::vector<bool> seen(row.types().size(), false);
  for (const Add& a : adds) {
    if (a.column >= row.types().size() || a.param >= nparams) {
      throw std::invalid_argument("update column or parameter out of range");
    }
    if (!is_int(row.types()[a.column])) throw std::invalid_argument("updated columns are integers");
    if (seen[a.column]) throw std::invalid_argument("a column is set at most once");
    seen[a.column] = true;
  }
}

void InsertPlan::validate() const {
  if (hidden_rowid) {
    if (key.columns().size() != 1 || key.columns()[0].type != TypeId::kInt8 || !key_params.empty()) {
      throw std::invalid_argument("a hidden row id is one int8 key column");
    }
  } else {
    check_int_key(key, key_params, nparams);
  }
  if (values.size() != row.types().size() || not_null.size() != values.size()) {
    throw std::invalid_argument("one value source per row column");
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const TypeId t = row.types()[i];
    switch (values[i].source) {
      case Source::kParam:
        if (values[i].param >= nparams || !is_int(t)) {
          throw std::invalid_argument("a parameter fills an integer column");
        }
        break;
      case Source::kNow:
        if (t != TypeId::kTimestamp && t != TypeId::kTimestampTz) {
          throw std::invalid_argument("the clock fills a timestamp column");
        }
        break;
      case Source::kNull:
        if (not_null[i]) throw std::invalid_argument("NULL for a NOT NULL column");
        break;
    }
  }
}

// ---- TxnKernels --------------------------------------------------------------------------------

TxnKernels::TxnKernels(std::shared_ptr<clock::HybridClock> clock,
                       std::shared_ptr<node::Sequencer> sequencer,
                       std::shared_ptr<node::CommitPath> path,
                       std::shared_ptr<storage::ShardMap> store, std::string share_key,
                       int64_t first_rowid)
    : clock_(std::move(clock)),
      sequencer_(std::move(sequencer)),
      path_(std::move(path)),
      store_(std::move(store)),
      share_key_(std::move(share_key)),
      rowids_(first_rowid) {
  if (!clock_ || !sequencer_ || !path_ || !store_ || share_key_.empty()) {
    throw std::invalid_argument("TxnKernels needs a clock, sequencer, commit path, store and key");
  }
}

int64_t TxnKernels::begin() {
  if (stopped()) return 0;
  const int64_t ts = clock_->next();
  assert(ts > 0);
  if (ts > horizon()) return 0;  // Python moves the horizon durably first (invariant 3)
  if (sequencer_->promise(ts)) store_->advance_watermark(sequencer_->watermark());
  return ts;
}

void TxnKernels::set_horizon(int64_t horizon_ns) noexcept {
  int64_t h = horizon_.load(std::memory_order_acquire);
  while (h < horizon_ns && !horizon_.compare_exchange_weak(h, horizon_ns)) {
  }
  assert(horizon() >= horizon_ns);
}

void TxnKernels::note_commit(int64_t ts) noexcept {
  int64_t c = last_commit_.load(std::memory_order_acquire);
  while (c < ts && !last_commit_.compare_exchange_weak(c, ts)) {
  }
  assert(last_commit() >= ts);
}

// ---- LaneTxn -----------------------------------------------------------------------------------

void LaneTxn::open_at(int64_t start_ts, int64_t wall_ns, int64_t mono_ns, uint64_t epoch,
                      const LaneLimits& limits) {
  assert(!open() && start_ts > 0);
  assert(writes_.empty() && claims_.empty() && order_.empty());
  start_ts_.store(start_ts, std::memory_order_relaxed);
  wall_ns_ = wall_ns;
  mono_ns_ = mono_ns;
  epoch_ = epoch;
  limits_ = limits;
  bytes_ = 0;
}

void LaneTxn::close() noexcept {
  start_ts_.store(0, std::memory_order_relaxed);
  writes_.clear();
  claims_.clear();
  order_.clear();
  bytes_ = 0;
}

bool LaneTxn::too_old(int64_t now_mono_ns) const noexcept {
  return now_mono_ns - mono_ns_ > limits_.max_age_ns;
}

LaneStatus LaneTxn::read(const storage::ShardMap& store, std::string_view key, std::string* value,
                         bool* found) const {
  assert(open());
  const auto it = writes_.find(std::string(key));
  if (it != writes_.end()) {
    *value = it->second;
    *found = true;
    return LaneStatus::kDone;
  }
  const int64_t ts = start_ts();
  if (!store.wait_for_watermark(ts, kReadWaitNs)) return LaneStatus::kRefused;
  const storage::PointRead got = store.read_into(key, ts, value);
  if (got == storage::PointRead::kNotReadable) return LaneStatus::kRefused;
  *found = got == storage::PointRead::kFound;
  return LaneStatus::kDone;
}

LaneStatus LaneTxn::put(std::string key, std::string value, Kind kind) {
  const auto it = writes_.find(key);
  const bool fresh = it == writes_.end();
  const uint64_t bytes = fresh ? bytes_ + key.size() + value.size()
                               : bytes_ - it->second.size() + value.size();
  const uint64_t rows = writes_.size() + (fresh ? 1 : 0);
  if (rows > limits_.max_rows || bytes > limits_.max_bytes) return LaneStatus::kRefused;
  // The commit's capacity (Limits.check_commit), checked here so that COMMIT never refuses.
  const uint64_t record = 4 + bytes + limits_.write_overhead_bytes * (rows + 1) + 64 * 1024;
  if (rows + 1 > limits_.txn_keys_max || record > limits_.record_bytes_max) {
    return LaneStatus::kRefused;
  }
  bytes_ = bytes;
  auto& claim = claims_[key];  // (a new key: kKeyShare, raised below)
  if (fresh) {
    claim = kind;
    order_.push_back(key);
    writes_.emplace(std::move(key), std::move(value));
  } else {
    claim = adjudicator::strongest(claim, kind);
    it->second = std::move(value);
  }
  assert(writes_.size() == order_.size() && claims_.size() == writes_.size());
  return LaneStatus::kDone;
}

LaneStatus LaneTxn::update(const storage::ShardMap& store, const UpdatePlan& plan,
                           const std::vector<LaneParam>& params, int64_t now_mono_ns,
                           int* updated) {
  assert(open() && params.size() == plan.nparams);
  *updated = 0;
  if (too_old(now_mono_ns)) return LaneStatus::kRefused;
  std::string key;
  if (!key_from(plan.key, plan.key_params, params, &key)) return LaneStatus::kDone;
  std::string value;
  bool found = false;
  if (read(store, key, &value, &found) != LaneStatus::kDone) return LaneStatus::kRefused;
  if (!found) return LaneStatus::kDone;
  if (value.empty() || static_cast<uint8_t>(value[0]) != plan.row_version) {
    return LaneStatus::kRefused;
  }
  std::vector<Datum> row;
  try {
    row = plan.row.decode(std::string_view(value).substr(1));
  } catch (const storage::CodecError&) {
    return LaneStatus::kRefused;
  }
  for (const UpdatePlan::Add& a : plan.adds) {
    const LaneParam& p = params[a.param];
    int64_t old = 0;
    if (p.null || !int_of(row[a.column], &old)) return LaneStatus::kRefused;  // NULL: general
    int64_t sum = 0;
    const TypeId t = plan.row.types()[a.column];
    if (__builtin_add_overflow(old, p.value, &sum) || !fits(t, sum)) return LaneStatus::kRefused;
    row[a.column] = int_datum(t, sum);
  }
  std::string next(1, static_cast<char>(plan.row_version));
  plan.row.encode(row, &next);
  if (put(std::move(key), std::move(next), Kind::kNonKey) != LaneStatus::kDone) {
    return LaneStatus::kRefused;
  }
  *updated = 1;
  return LaneStatus::kDone;
}

LaneStatus LaneTxn::insert(TxnKernels& k, const InsertPlan& plan,
                           const std::vector<LaneParam>& params, int64_t now_mono_ns) {
  assert(open() && params.size() == plan.nparams);
  if (too_old(now_mono_ns)) return LaneStatus::kRefused;
  std::vector<Datum> row(plan.values.size());
  for (size_t i = 0; i < plan.values.size(); ++i) {
    const InsertPlan::Value& v = plan.values[i];
    const TypeId t = plan.row.types()[i];
    if (v.source == InsertPlan::Source::kParam) {
      const LaneParam& p = params[v.param];
      if (p.null) {
        if (plan.not_null[i]) return LaneStatus::kRefused;  // 23502 from the general path
        row[i] = storage::Null{};
      } else {
        if (!fits(t, p.value)) return LaneStatus::kRefused;  // 22003 from the general path
        row[i] = int_datum(t, p.value);
      }
    } else if (v.source == InsertPlan::Source::kNow) {
      // now(): the transaction's wall-clock start in whole microseconds; a timestamp column
      // takes it in the session's zone, which the plan only allows to be UTC.
      const int64_t us = wall_ns_ / 1000 - kPgEpochUs;
      if (t == TypeId::kTimestampTz) {
        row[i] = storage::TimestampTz{us};
      } else {
        row[i] = storage::Timestamp{us};
      }
    } else {
      row[i] = storage::Null{};
    }
  }
  std::string key;
  if (plan.hidden_rowid) {
    key = plan.key.encode(std::vector<Datum>{Datum{k.next_rowid()}});
  } else {
    if (!key_from(plan.key, plan.key_params, params, &key)) return LaneStatus::kRefused;
    std::string existing;
    bool found = false;
    if (read(k.store(), key, &existing, &found) != LaneStatus::kDone || found) {
      return LaneStatus::kRefused;  // a duplicate: 23505 from the general path
    }
  }
  std::string value(1, static_cast<char>(plan.row_version));
  plan.row.encode(row, &value);
  return put(std::move(key), std::move(value), Kind::kFull);
}

LaneStatus LaneTxn::commit(TxnKernels& k, int64_t now_mono_ns, adjudicator::TxnResult* result) {
  assert(open() && result != nullptr);
  if (writes_.empty()) {  // read-only: nothing to decide (dsql.txn.Transaction.commit)
    close();
    return LaneStatus::kDone;
  }
  // 54000 (too old) or the node's own error (stopped) from the general path
  if (too_old(now_mono_ns) || k.stopped()) return LaneStatus::kRefused;
  std::vector<adjudicator::KeyWrite> claims;
  std::vector<journal::WriteView> jw;
  std::vector<storage::WriteView> sw;
  claims.reserve(order_.size() + 1);
  jw.reserve(order_.size());
  sw.reserve(order_.size());
  for (const std::string& key : order_) {
    const std::string& value = writes_.at(key);
    claims.push_back(adjudicator::KeyWrite{key, claims_.at(key)});
    jw.push_back(journal::WriteView{key, value, false});
    sw.push_back(storage::WriteView{key, value, false});
  }
  claims.push_back(adjudicator::KeyWrite{k.share_key(), Kind::kKeyShare});
  journal::EncodedRecord record = k.path().journal().encode(0, jw.data(), jw.size());
  *result = k.path().commit(start_ts(), claims, std::move(record), sw.data(), sw.size());
  if (result->outcome != adjudicator::Outcome::kCommitted) return LaneStatus::kRefused;
  assert(result->commit_ts > start_ts());
  k.note_commit(result->commit_ts);
  close();
  return LaneStatus::kDone;
}

}  // namespace dsql::wire
