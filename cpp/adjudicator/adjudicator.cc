// The Adjudicator (adjudicator.h): the fast path, batches, the window and the touch ring.
// The vote (prepare, decide, holds, promises) is in adjudicator_vote.cc.
#include "adjudicator/adjudicator.h"

#include <algorithm>
#include <cassert>
#include <random>
#include <stdexcept>

namespace dsql::adjudicator {

namespace {

// The kinds in the order a conflict is reported: the strongest conflicting kind wins.
constexpr Kind kReportOrder[kKindCount] = {Kind::kFull, Kind::kNonKey, Kind::kKeyShare};

// Small write sets are merged by comparing every pair (hashes first); larger ones by sorting.
constexpr size_t kPairwiseMergeMax = 16;

uint64_t pick_seed(uint64_t configured) {
  if (configured != 0) return configured;
  std::random_device rd;
  const uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return seed != 0 ? seed : 0x5DEECE66Dull;
}

int idx(Kind k) noexcept { return static_cast<int>(k); }

}  // namespace

Adjudicator::Adjudicator(std::shared_ptr<clock::HybridClock> clock, AdjudicatorConfig config)
    : clock_(std::move(clock)),
      config_(config),
      seed_(pick_seed(config.hash_seed)),
      recent_(seed_),
      holds_(seed_) {
  if (clock_ == nullptr) throw std::invalid_argument("the adjudicator needs a clock");
  if (config_.window_ns <= 0) throw std::invalid_argument("window_ns must be > 0");
  if (config_.max_keys == 0 || config_.max_keys > KeyTable<Recent>::kMaxEntries / 2) {
    throw std::invalid_argument("max_keys must be in [1, 2^29]");
  }
  if (config_.hold_ns <= 0) throw std::invalid_argument("hold_ns must be > 0");
  if (config_.max_pending_txns == 0) throw std::invalid_argument("max_pending_txns must be > 0");
  if (config_.max_txn_keys == 0 || config_.max_txn_keys > KeyTable<Recent>::kMaxEntries / 2) {
    throw std::invalid_argument("max_txn_keys must be in [1, 2^29]");
  }
  assert(floor_ == INT64_MIN && promise_ == INT64_MIN);
  assert(recent_.hash("k") == holds_.hash("k"));
}

// ---- helpers (mu_ held) ------------------------------------------------------------------

int64_t Adjudicator::newest(const Recent& r) noexcept {
  return std::max(r.ts[0], std::max(r.ts[1], r.ts[2]));
}

void Adjudicator::validate(const TxnRequest& txn, uint32_t max_txn_keys) {
  if (txn.start_ts < 0 || txn.start_ts > kMaxStartTs) {
    throw std::invalid_argument("start_ts must be in [0, 2^62], not " +
                                std::to_string(txn.start_ts));
  }
  if (txn.writes.size() > max_txn_keys) {
    throw std::invalid_argument("a transaction writes at most " + std::to_string(max_txn_keys) +
                                " keys; this one has " + std::to_string(txn.writes.size()));
  }
  for (const KeyWrite& w : txn.writes) {
    if (w.key.size() > KeyTable<Recent>::kMaxKeyBytes) {
      throw std::invalid_argument("a key is longer than " +
                                  std::to_string(KeyTable<Recent>::kMaxKeyBytes) + " bytes");
    }
    if (!valid_kind(idx(w.kind))) throw std::invalid_argument("invalid write kind");
  }
}

bool Adjudicator::clock_refuses() {
  const clock::Reading r = clock_->read();
  if (r.status != clock::Status::kUnknown) return false;
  unsync_seen_ = true;
  return !config_.single_timestamp_authority;
}

void Adjudicator::advance_window() {
  const int64_t last = clock_->last();
  if (last >= INT64_MIN + config_.window_ns) {
    const int64_t f = last - config_.window_ns;
    if (f > floor_) floor_ = f;
  }
  // Drop keys whose every commit is at or below the floor (they can no longer conflict).
  uint32_t id;
  for (uint32_t n = recent_.size(); n > 0 && ring_front_live(&id); --n) {
    if (newest(recent_.value(id)) > floor_) break;
    evict_front(id, false);
  }
}

void Adjudicator::merge(std::span<const KeyWrite> writes, const uint64_t* hashes) {
  uniques_.clear();
  const size_t n = writes.size();
  if (n <= kPairwiseMergeMax) {
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t h = hashes != nullptr ? hashes[i] : recent_.hash(writes[i].key);
      bool dup = false;
      for (Unique& u : uniques_) {
        if (u.hash == h && writes[u.index].key == writes[i].key) {
          u.kind = strongest(u.kind, writes[i].kind);
          dup = true;
          break;
        }
      }
      if (!dup) uniques_.push_back(Unique{i, writes[i].kind, kNoId, h});
    }
  } else {
    // Sort by (hash, key, index); each run of equal keys becomes one Unique at its first
    // occurrence; then restore first-occurrence order.
    order_.resize(n);
    uniques_.reserve(n);
    for (uint32_t i = 0; i < n; ++i) order_[i] = i;
    std::vector<uint64_t>& hs = hash_scratch_;
    hs.resize(n);
    for (uint32_t i = 0; i < n; ++i) hs[i] = hashes != nullptr ? hashes[i] : recent_.hash(writes[i].key);
    std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
      if (hs[a] != hs[b]) return hs[a] < hs[b];
      const int c = writes[a].key.compare(writes[b].key);
      return c != 0 ? c < 0 : a < b;
    });
    for (uint32_t j = 0; j < n; ++j) {
      const uint32_t i = order_[j];
      if (!uniques_.empty()) {
        Unique& last = uniques_.back();
        if (last.hash == hs[i] && writes[last.index].key == writes[i].key) {
          last.kind = strongest(last.kind, writes[i].kind);
          continue;
        }
      }
      uniques_.push_back(Unique{i, writes[i].kind, kNoId, hs[i]});
    }
    std::sort(uniques_.begin(), uniques_.end(),
              [](const Unique& a, const Unique& b) { return a.index < b.index; });
  }
  assert(uniques_.size() <= n);
  assert(n == 0 || (!uniques_.empty() && uniques_.front().index == 0));
}

bool Adjudicator::find_conflict(int64_t start_ts, std::span<const KeyWrite> writes,
                                TxnResult* out) {
  assert(out != nullptr);
  const bool any_holds = holds_.size() > 0;
  for (Unique& u : uniques_) {
    const std::string_view key = writes[u.index].key;
    u.id = recent_.find(key, u.hash);
    if (u.id != kNoId) {
      const Recent& r = recent_.value(u.id);
      for (Kind theirs : kReportOrder) {
        if (conflicts(u.kind, theirs) && r.ts[idx(theirs)] > start_ts) {
          *out = TxnResult{Outcome::kConflict, 0, u.index, u.kind, theirs, false, 0};
          return true;
        }
      }
    }
    if (any_holds) {
      const uint32_t hid = holds_.find(key, u.hash);
      if (hid != kNoId) {
        const Hold& h = holds_.value(hid);
        for (Kind theirs : kReportOrder) {
          if (h.count[idx(theirs)] > 0 && conflicts(u.kind, theirs)) {
            *out = TxnResult{Outcome::kConflict, 0,    u.index, u.kind,
                             theirs,             true, h.holder[idx(theirs)]};
            return true;
          }
        }
      }
    }
  }
  return false;
}

void Adjudicator::lookup_ids(std::span<const KeyWrite> writes) {
  for (Unique& u : uniques_) u.id = recent_.find(writes[u.index].key, u.hash);
}

void Adjudicator::record(std::span<const KeyWrite> writes, int64_t commit_ts) {
  assert(commit_ts > promise_);
  for (const Unique& u : uniques_) {
    uint32_t id = u.id;
    if (id == kNoId) {
      // ring_pos starts at the one position no entry holds, so no stale entry of an earlier
      // key with the same id can pass for this key's live entry.
      id = recent_.insert(writes[u.index].key, u.hash,
                          Recent{{INT64_MIN, INT64_MIN, INT64_MIN},
                                 static_cast<uint32_t>(ring_tail_)});
    }
    int64_t& ts = recent_.value(id).ts[idx(u.kind)];
    if (commit_ts > ts) ts = commit_ts;
    ring_push(id);  // the key's older entry, if any, goes stale
  }
  assert(ring_tail_ - ring_head_ >= recent_.size());
}

void Adjudicator::ring_push(uint32_t id) {
  if (ring_.empty() || ring_tail_ - ring_head_ == ring_.size()) ring_rebuild();
  ring_[ring_tail_ & (ring_.size() - 1)] = id;
  recent_.value(id).ring_pos = static_cast<uint32_t>(ring_tail_);
  ++ring_tail_;
  assert(ring_tail_ - ring_head_ <= ring_.size());
}

// Drops stale entries, growing the ring when live entries fill more than half of it, and
// renumbers positions from 0. Amortised O(1) per push: it runs when the ring is full, and
// leaves it at most half full.
void Adjudicator::ring_rebuild() {
  std::vector<uint32_t> live;
  live.reserve(recent_.size());
  for (uint64_t pos = ring_head_; pos != ring_tail_; ++pos) {
    const uint32_t id = ring_[pos & (ring_.size() - 1)];
    if (recent_.live(id) && recent_.value(id).ring_pos == static_cast<uint32_t>(pos)) {
      live.push_back(id);
    }
  }
  // The key being pushed may be new, and so not in the ring yet.
  assert(live.size() <= recent_.size() && live.size() + 1 >= recent_.size());
  size_t size = std::max<size_t>(ring_.size(), 1024);
  while (2 * (live.size() + 1) > size) size *= 2;
  ring_.assign(size, 0);
  for (uint32_t i = 0; i < live.size(); ++i) {
    ring_[i] = live[i];
    recent_.value(live[i]).ring_pos = i;
  }
  ring_head_ = 0;
  ring_tail_ = live.size();
}

// Pops stale entries off the front; returns false when the ring is empty, else the id of the
// least recently written key (left in place).
bool Adjudicator::ring_front_live(uint32_t* id) {
  for (; ring_head_ != ring_tail_; ++ring_head_) {
    const uint32_t front = ring_[ring_head_ & (ring_.size() - 1)];
    if (recent_.live(front) &&
        recent_.value(front).ring_pos == static_cast<uint32_t>(ring_head_)) {
      *id = front;
      return true;
    }
  }
  return false;
}

// Fetches what the next evictions will touch: nodes a little ahead, and the home slots of
// the entries just behind them (their nodes were fetched by an earlier call).
void Adjudicator::prefetch_ring_front() const {
  constexpr uint64_t kNodesAhead = 48;
  constexpr uint64_t kSlotsAhead = 24;
  const uint64_t mask = ring_.size() - 1;
  const uint64_t avail = ring_tail_ - ring_head_;
  if (avail > kNodesAhead) recent_.prefetch_node(ring_[(ring_head_ + kNodesAhead) & mask]);
  if (avail > kSlotsAhead) recent_.prefetch_home_slot(ring_[(ring_head_ + kSlotsAhead) & mask]);
}

// REQUIRES: id is the live front of the ring.
void Adjudicator::evict_front(uint32_t id, bool for_memory) {
  assert(ring_head_ != ring_tail_ && ring_[ring_head_ & (ring_.size() - 1)] == id);
  const int64_t ts = newest(recent_.value(id));
  if (for_memory) {
    if (ts > floor_) floor_ = ts;
    ++counters_.evicted_by_memory;
  } else {
    assert(ts <= floor_);
    ++counters_.evicted_by_time;
  }
  ++ring_head_;
  recent_.erase(id);
}

void Adjudicator::enforce_max_keys() {
  uint32_t id;
  for (uint32_t n = recent_.size(); n > 0 && recent_.size() > config_.max_keys; --n) {
    prefetch_ring_front();
    const bool found = ring_front_live(&id);
    assert(found);
    (void)found;
    evict_front(id, true);
  }
  if (recent_.size() == config_.max_keys) prefetch_ring_front();  // for the next commit
  assert(recent_.size() <= config_.max_keys);
}

TxnResult Adjudicator::decide_one(const TxnRequest& txn, const uint64_t* hashes) {
  advance_window();
  if (txn.start_ts < floor_) {
    ++counters_.too_old;
    return TxnResult{Outcome::kTooOld, 0, 0, Kind::kFull, Kind::kFull, false, 0};
  }
  merge(txn.writes, hashes);
  TxnResult result;
  if (find_conflict(txn.start_ts, txn.writes, &result)) {
    ++counters_.conflicts;
    return result;
  }
  const int64_t ts = clock_->next_above(std::max(txn.start_ts, promise_));
  assert(ts > txn.start_ts && ts > promise_);
  record(txn.writes, ts);
  enforce_max_keys();
  ++counters_.committed;
  result.outcome = Outcome::kCommitted;
  result.commit_ts = ts;
  return result;
}

// ---- public ------------------------------------------------------------------------------

TxnResult Adjudicator::adjudicate(const TxnRequest& txn) {
  validate(txn, config_.max_txn_keys);
  std::lock_guard<std::mutex> lock(mu_);
  if (clock_refuses()) {
    ++counters_.refused;
    return TxnResult{Outcome::kRefused, 0, 0, Kind::kFull, Kind::kFull, false, 0};
  }
  TxnResult r = decide_one(txn, nullptr);
  assert(r.outcome != Outcome::kCommitted || r.commit_ts > txn.start_ts);
  return r;
}

void Adjudicator::adjudicate_batch(std::span<const TxnRequest> txns,
                                   std::span<TxnResult> results) {
  if (txns.size() != results.size()) {
    throw std::invalid_argument("adjudicate_batch needs one result slot per transaction");
  }
  for (const TxnRequest& t : txns) validate(t, config_.max_txn_keys);
  std::lock_guard<std::mutex> lock(mu_);
  const bool refuse = clock_refuses();
  if (refuse) {
    for (TxnResult& r : results) {
      ++counters_.refused;
      r = TxnResult{Outcome::kRefused, 0, 0, Kind::kFull, Kind::kFull, false, 0};
    }
    return;
  }
  // Hash every key first, then decide in order while prefetching the table slots of the
  // transactions kPrefetchTxns ahead (their lookups are then cache hits).
  constexpr size_t kPrefetchTxns = 6;
  batch_offsets_.resize(txns.size() + 1);
  batch_hashes_.clear();
  for (size_t i = 0; i < txns.size(); ++i) {
    batch_offsets_[i] = batch_hashes_.size();
    for (const KeyWrite& w : txns[i].writes) batch_hashes_.push_back(recent_.hash(w.key));
  }
  batch_offsets_[txns.size()] = batch_hashes_.size();
  auto prefetch_txn = [&](size_t t) {
    for (size_t k = batch_offsets_[t]; k < batch_offsets_[t + 1]; ++k) {
      recent_.prefetch(batch_hashes_[k]);
    }
  };
  for (size_t i = 0; i < std::min(kPrefetchTxns, txns.size()); ++i) prefetch_txn(i);
  for (size_t i = 0; i < txns.size(); ++i) {
    if (i + kPrefetchTxns < txns.size()) prefetch_txn(i + kPrefetchTxns);
    results[i] = decide_one(txns[i], batch_hashes_.data() + batch_offsets_[i]);
  }
  assert(recent_.size() <= config_.max_keys);
}

AdjudicatorStats Adjudicator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  AdjudicatorStats s = counters_;
  s.keys = recent_.size();
  s.window_floor_ts = floor_;
  s.promised_ts = promise_;
  s.pending_txns = static_cast<uint32_t>(pending_.size());
  s.held_keys = holds_.size();
  s.memory_bytes = recent_.memory_bytes() + holds_.memory_bytes() +
                   ring_.capacity() * sizeof(uint32_t);
  return s;
}

bool Adjudicator::clock_unsynchronized_seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unsync_seen_;
}

bool Adjudicator::check_invariants() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!recent_.check_invariants() || !holds_.check_invariants()) return false;
  if (recent_.size() > config_.max_keys) return false;
  // Every key has exactly one live ring entry, at its ring_pos.
  uint32_t live = 0;
  if (ring_tail_ - ring_head_ > ring_.size()) return false;
  for (uint64_t pos = ring_head_; pos != ring_tail_; ++pos) {
    const uint32_t id = ring_[pos & (ring_.size() - 1)];
    if (recent_.live(id) && recent_.value(id).ring_pos == static_cast<uint32_t>(pos)) {
      if (newest(recent_.value(id)) == INT64_MIN) return false;
      ++live;
    }
  }
  if (live != recent_.size()) return false;
  // Holds are exactly what the pending transactions hold.
  uint64_t held = 0;
  for (const auto& [id, p] : pending_) {
    if (p.proposed_ts <= promise_) return false;
    for (const OwnedWrite& w : p.writes) {
      const uint32_t hid = holds_.find(w.key, holds_.hash(w.key));
      if (hid == kNoId || holds_.value(hid).count[idx(w.kind)] == 0) return false;
      ++held;
    }
  }
  uint64_t counted = 0;
  bool ok = true;
  holds_.for_each([&](uint32_t hid) {
    const Hold& h = holds_.value(hid);
    counted += h.count[0] + h.count[1] + h.count[2];
    if (h.count[idx(Kind::kFull)] > 1 || h.count[idx(Kind::kNonKey)] > 1) ok = false;
    if (h.count[idx(Kind::kFull)] == 1 && h.count[0] + h.count[1] > 0) ok = false;
  });
  return ok && counted == held;
}

}  // namespace dsql::adjudicator
