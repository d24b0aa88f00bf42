// The vote's side of the Adjudicator (adjudicator.h): prepared transactions, their holds on
// keys, decisions, expiry, and the promises that must stay below pending proposals. The fast
// path, the window and the key table's upkeep are in adjudicator.cc.
#include <algorithm>
#include <cassert>
#include <stdexcept>

#include "adjudicator/adjudicator.h"

namespace dsql::adjudicator {

namespace {

int idx(Kind k) noexcept { return static_cast<int>(k); }

}  // namespace

// ---- holds (mu_ held) --------------------------------------------------------------------

void Adjudicator::hold(uint64_t txn_id, const OwnedWrite& w) {
  const uint64_t h = holds_.hash(w.key);
  uint32_t id = holds_.find(w.key, h);
  if (id == kNoId) id = holds_.insert(w.key, h, Hold{{0, 0, 0}, {0, 0, 0}});
  Hold& hv = holds_.value(id);
  hv.count[idx(w.kind)] += 1;
  if (hv.count[idx(w.kind)] == 1) hv.holder[idx(w.kind)] = txn_id;
  // Invariant 5: the check before holding ruled out conflicting holders.
  assert(hv.count[idx(Kind::kFull)] == 0 ||
         (hv.count[idx(Kind::kFull)] == 1 && hv.count[0] + hv.count[1] == 0));
  assert(hv.count[idx(Kind::kNonKey)] <= 1);
}

void Adjudicator::release(uint64_t txn_id, const Pending& p) {
  for (const OwnedWrite& w : p.writes) {
    const uint32_t id = holds_.find(w.key, holds_.hash(w.key));
    assert(id != kNoId);
    Hold& hv = holds_.value(id);
    const int k = idx(w.kind);
    assert(hv.count[k] > 0);
    hv.count[k] -= 1;
    if (hv.count[k] > 0 && hv.holder[k] == txn_id) {
      // Name another holder in reports: the lowest txn id still holding the key this way
      // (rare: several key-share holders of one key; deterministic for the reference model).
      uint64_t next_holder = UINT64_MAX;
      for (const auto& [other_id, other] : pending_) {
        if (other_id == txn_id || other_id >= next_holder) continue;
        const bool holds_it = std::any_of(
            other.writes.begin(), other.writes.end(),
            [&](const OwnedWrite& o) { return o.kind == w.kind && o.key == w.key; });
        if (holds_it) next_holder = other_id;
      }
      assert(next_holder != UINT64_MAX);
      hv.holder[k] = next_holder;
    }
    if (hv.count[0] + hv.count[1] + hv.count[2] == 0) holds_.erase(id);
  }
}

int64_t Adjudicator::lowest_pending_proposal() const {
  int64_t lowest = INT64_MAX;
  for (const auto& [id, p] : pending_) lowest = std::min(lowest, p.proposed_ts);
  assert(pending_.empty() || lowest > promise_);
  return lowest;
}

uint32_t Adjudicator::expire_pending_locked(const clock::Reading& r) {
  std::vector<uint64_t> overdue;
  for (const auto& [id, p] : pending_) {
    if (r.earliest_ns > p.hold_until_ns) overdue.push_back(id);
  }
  std::sort(overdue.begin(), overdue.end());  // deterministic holder reports
  for (uint64_t id : overdue) {
    auto it = pending_.find(id);
    assert(it != pending_.end());
    release(id, it->second);
    pending_.erase(it);
    ++counters_.expired;
  }
  assert(pending_.size() <= config_.max_pending_txns);
  return static_cast<uint32_t>(overdue.size());
}

// ---- public ------------------------------------------------------------------------------

Vote Adjudicator::prepare(const PrepareRequest& request) {
  std::vector<KeyWrite> views;
  views.reserve(request.writes.size());
  for (const OwnedWrite& w : request.writes) views.push_back(KeyWrite{w.key, w.kind});
  validate(TxnRequest{request.txn_id, request.start_ts, views}, config_.max_txn_keys);

  std::lock_guard<std::mutex> lock(mu_);
  if (pending_.count(request.txn_id) != 0) {
    throw std::invalid_argument("transaction " + std::to_string(request.txn_id) +
                                " is already prepared on this shard");
  }
  Vote vote;
  vote.txn_id = request.txn_id;
  vote.shard = config_.shard;
  if (clock_refuses()) {
    ++counters_.refused;
    vote.reason = Outcome::kRefused;
    return vote;
  }
  advance_window();
  if (request.start_ts < floor_) {
    ++counters_.too_old;
    vote.reason = Outcome::kTooOld;
    return vote;
  }
  if (pending_.size() >= config_.max_pending_txns) {
    ++counters_.busy;
    vote.reason = Outcome::kBusy;
    return vote;
  }
  merge(views);
  TxnResult r;
  if (find_conflict(request.start_ts, views, &r)) {
    ++counters_.conflicts;
    vote.reason = Outcome::kConflict;
    vote.conflict = Conflict{std::string(views[r.key_index].key), r.mine, r.theirs, r.pending,
                             r.other_txn};
    return vote;
  }
  Pending p;
  p.start_ts = request.start_ts;
  p.proposed_ts = clock_->next_above(std::max(request.start_ts, promise_));
  // Measured from the latest the prepare can have happened, so that a coordinator that checks
  // `latest < hold_until` still sees the hold in force when the clock's bound is wide.
  p.hold_until_ns = clock_->read().latest_ns + config_.hold_ns;
  p.writes.reserve(uniques_.size());
  for (const Unique& u : uniques_) {
    p.writes.push_back(OwnedWrite{std::string(views[u.index].key), u.kind});
  }
  for (const OwnedWrite& w : p.writes) hold(request.txn_id, w);
  vote.yes = true;
  vote.proposed_ts = p.proposed_ts;
  vote.hold_until_ns = p.hold_until_ns;
  pending_.emplace(request.txn_id, std::move(p));
  assert(vote.proposed_ts > promise_ && vote.proposed_ts > request.start_ts);
  return vote;
}

Ack Adjudicator::decide(const Decision& decision) {
  std::lock_guard<std::mutex> lock(mu_);
  Ack ack;
  ack.txn_id = decision.txn_id;
  ack.shard = config_.shard;
  auto it = pending_.find(decision.txn_id);
  if (it == pending_.end()) {
    ack.ok = !decision.commit;  // aborting what is not held is a no-op
    if (decision.commit) {
      ack.error = "transaction " + std::to_string(decision.txn_id) +
                  " is not prepared on shard " + std::to_string(config_.shard) +
                  " (never prepared, already decided, or its hold expired)";
    }
    return ack;
  }
  if (decision.commit && decision.commit_ts < it->second.proposed_ts) {
    ack.error = "commit_ts " + std::to_string(decision.commit_ts) + " is below shard " +
                std::to_string(config_.shard) + "'s proposal " +
                std::to_string(it->second.proposed_ts);
    return ack;
  }
  Pending p = std::move(it->second);
  release(decision.txn_id, p);
  pending_.erase(it);
  if (decision.commit) {
    assert(decision.commit_ts > promise_);  // invariant 3: promises stay below proposals
    clock_->observe(decision.commit_ts);
    views_.clear();
    for (const OwnedWrite& w : p.writes) views_.push_back(KeyWrite{w.key, w.kind});
    merge(views_);
    lookup_ids(views_);
    record(views_, decision.commit_ts);
    enforce_max_keys();
    ++counters_.committed;
  }
  ack.ok = true;
  return ack;
}

uint32_t Adjudicator::expire_pending() {
  std::lock_guard<std::mutex> lock(mu_);
  return expire_pending_locked(clock_->read());
}

int64_t Adjudicator::heartbeat() {
  std::lock_guard<std::mutex> lock(mu_);
  const clock::Reading r = clock_->read();
  if (r.status == clock::Status::kUnknown) unsync_seen_ = true;
  expire_pending_locked(r);
  int64_t h = clock_->next();
  advance_window();  // after next(): an idle adjudicator's window follows the clock
  if (!pending_.empty()) h = std::min(h, lowest_pending_proposal() - 1);
  if (h > promise_) promise_ = h;
  assert(pending_.empty() || promise_ < lowest_pending_proposal());
  return promise_;
}

int64_t Adjudicator::promise_through(int64_t ts) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t p = ts;
  if (!pending_.empty()) p = std::min(p, lowest_pending_proposal() - 1);
  if (p > promise_) promise_ = p;
  assert(pending_.empty() || promise_ < lowest_pending_proposal());
  return promise_;
}

}  // namespace dsql::adjudicator
