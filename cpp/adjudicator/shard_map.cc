#include "adjudicator/shard_map.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace dsql::adjudicator {

Decision decide_votes(uint64_t txn_id, std::span<const Vote> votes, int64_t now_latest_ns) {
  assert(!votes.empty());
  Decision d;
  d.txn_id = txn_id;
  int64_t ts = INT64_MIN;
  for (const Vote& v : votes) {
    assert(v.txn_id == txn_id);
    if (!v.yes || now_latest_ns >= v.hold_until_ns) return d;  // abort
    ts = std::max(ts, v.proposed_ts);
  }
  d.commit = true;
  d.commit_ts = ts;
  assert(d.commit_ts != INT64_MIN);
  return d;
}

AdjudicatorShardMap::AdjudicatorShardMap(std::shared_ptr<clock::HybridClock> clock,
                                         AdjudicatorConfig config,
                                         std::vector<std::string> splits)
    : clock_(std::move(clock)), splits_(std::move(splits)) {
  if (clock_ == nullptr) throw std::invalid_argument("the shard map needs a clock");
  for (size_t i = 1; i < splits_.size(); ++i) {
    if (!(splits_[i - 1] < splits_[i])) {
      throw std::invalid_argument("split keys must be strictly ascending");
    }
  }
  if (splits_.size() >= 4096) throw std::invalid_argument("at most 4096 shards");
  for (size_t i = 0; i <= splits_.size(); ++i) {
    AdjudicatorConfig c = config;
    c.shard = static_cast<uint32_t>(i);
    shards_.push_back(std::make_unique<Adjudicator>(clock_, c));
  }
  assert(shards_.size() == splits_.size() + 1);
}

uint32_t AdjudicatorShardMap::shard_of(std::string_view key) const noexcept {
  const auto it = std::upper_bound(
      splits_.begin(), splits_.end(), key,
      [](std::string_view k, const std::string& split) { return k < std::string_view(split); });
  const auto i = static_cast<uint32_t>(it - splits_.begin());
  assert(i < shards_.size());
  return i;
}

Adjudicator& AdjudicatorShardMap::shard(uint32_t i) {
  if (i >= shards_.size()) throw std::out_of_range("no shard " + std::to_string(i));
  return *shards_[i];
}

std::vector<PrepareRequest> AdjudicatorShardMap::split(const TxnRequest& txn) const {
  std::vector<PrepareRequest> by_shard(shards_.size());
  for (const KeyWrite& w : txn.writes) {
    PrepareRequest& r = by_shard[shard_of(w.key)];
    r.writes.push_back(OwnedWrite{std::string(w.key), w.kind});
  }
  std::vector<PrepareRequest> out;
  for (uint32_t i = 0; i < by_shard.size(); ++i) {
    if (by_shard[i].writes.empty()) continue;
    by_shard[i].txn_id = txn.txn_id;
    by_shard[i].start_ts = txn.start_ts;
    by_shard[i].shard = i;
    out.push_back(std::move(by_shard[i]));
  }
  assert(out.size() <= shards_.size());
  return out;
}

CommitResult AdjudicatorShardMap::commit(const TxnRequest& txn) {
  CommitResult result;
  // Fast path: every key on one shard (or no keys at all).
  const uint32_t first = txn.writes.empty() ? 0 : shard_of(txn.writes[0].key);
  const bool one_shard = std::all_of(txn.writes.begin(), txn.writes.end(),
                                     [&](const KeyWrite& w) { return shard_of(w.key) == first; });
  if (one_shard) {
    const TxnResult r = shards_[first]->adjudicate(txn);
    result.outcome = r.outcome;
    result.commit_ts = r.commit_ts;
    result.shards = txn.writes.empty() ? 0 : 1;
    if (r.outcome == Outcome::kConflict) {
      result.conflict = Conflict{std::string(txn.writes[r.key_index].key), r.mine, r.theirs,
                                 r.pending, r.other_txn};
    }
    return result;
  }

  const std::vector<PrepareRequest> requests = split(txn);
  assert(requests.size() >= 2);
  result.shards = static_cast<uint32_t>(requests.size());
  std::vector<Vote> votes;
  votes.reserve(requests.size());
  for (const PrepareRequest& req : requests) {
    votes.push_back(shards_[req.shard]->prepare(req));
    if (!votes.back().yes) break;
  }
  const Decision d = decide_votes(txn.txn_id, votes, clock_->read().latest_ns);
  bool all_acked = true;
  for (const Vote& v : votes) {
    if (!v.yes) continue;
    const Ack ack = shards_[v.shard]->decide(d);
    if (!ack.ok) {
      all_acked = false;
      result.error = ack.error;
    }
  }
  if (d.commit && all_acked) {
    result.outcome = Outcome::kCommitted;
    result.commit_ts = d.commit_ts;
    return result;
  }
  if (d.commit) {
    // A shard dropped its hold before the decision came: the shards that took it keep a
    // record of a commit that will never be journaled, which can only cause extra conflicts.
    result.outcome = Outcome::kExpired;
    return result;
  }
  const Vote& last = votes.back();
  result.outcome = last.yes ? Outcome::kExpired : last.reason;
  if (!last.yes && last.reason == Outcome::kConflict) result.conflict = last.conflict;
  if (last.yes) result.error = "a hold ran out before the votes were counted";
  assert(result.outcome != Outcome::kCommitted);
  return result;
}

void AdjudicatorShardMap::commit_batch(std::span<const TxnRequest> txns,
                                       std::span<CommitResult> results) {
  if (txns.size() != results.size()) {
    throw std::invalid_argument("commit_batch needs one result slot per transaction");
  }
  for (size_t i = 0; i < txns.size(); ++i) results[i] = commit(txns[i]);
  assert(results.size() == txns.size());
}

int64_t AdjudicatorShardMap::heartbeat() {
  int64_t lowest = INT64_MAX;
  for (auto& s : shards_) lowest = std::min(lowest, s->heartbeat());
  assert(lowest != INT64_MAX);
  return lowest;
}

int64_t AdjudicatorShardMap::promise_through(int64_t ts) {
  int64_t lowest = INT64_MAX;
  for (auto& s : shards_) lowest = std::min(lowest, s->promise_through(ts));
  assert(lowest != INT64_MAX);
  return lowest;
}

}  // namespace dsql::adjudicator
