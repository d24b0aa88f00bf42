// Key-range sharded adjudication: several Adjudicators, each owning a range of keys, and the
// coordinator that runs the vote when a transaction touches more than one of them.
//
// Shard i owns keys in [splits[i-1], splits[i]) (shard 0 from the empty key, the last shard to
// the end). A transaction whose keys all fall in one shard takes that shard's fast path
// (Adjudicator::adjudicate). Otherwise the coordinator
//   1. splits the write set into one PrepareRequest per involved shard (split()),
//   2. asks each shard to prepare, in shard order, stopping at the first "no",
//   3. decides (decide_votes(), a pure function of the votes and the clock): commit at
//      τ_commit = max of the proposed timestamps if every shard said yes and every hold is
//      certainly still in force (clock latest < hold_until), else abort,
//   4. sends the Decision to every shard that voted yes.
// The caller then writes the commit once to one journal. Only plain messages cross between
// coordinator and shards, so the shards can later live in other processes; the coordinator
// then needs its decision durable before it sends commits (see docs/adjudicator.md).
//
// Thread-safety: all methods may be called concurrently; each shard serialises itself. Two
// concurrent transactions must not share a txn_id (it names the hold on each shard).
// Invariants:
//   1. shard_of(k) is the unique i with splits[i-1] <= k < splits[i] (bounds where present).
//   2. A committed multi-shard transaction's τ_commit >= every involved shard's proposal, so
//      it is above every promise those shards made.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adjudicator/adjudicator.h"
#include "adjudicator/messages.h"

namespace dsql::adjudicator {

// The coordinator's rule. REQUIRES: votes non-empty, all for txn_id.
Decision decide_votes(uint64_t txn_id, std::span<const Vote> votes, int64_t now_latest_ns);

struct CommitResult {
  Outcome outcome = Outcome::kCommitted;
  int64_t commit_ts = 0;   // kCommitted only
  Conflict conflict;       // kConflict only
  uint32_t shards = 0;     // how many shards the transaction touched
  std::string error;       // kExpired: which shard failed to take the decision
};

class AdjudicatorShardMap {
 public:
  // REQUIRES: splits strictly ascending; the config is valid for Adjudicator (its shard field
  // is replaced by each shard's index). std::invalid_argument otherwise.
  AdjudicatorShardMap(std::shared_ptr<clock::HybridClock> clock, AdjudicatorConfig config,
                      std::vector<std::string> splits);
  AdjudicatorShardMap(const AdjudicatorShardMap&) = delete;
  AdjudicatorShardMap& operator=(const AdjudicatorShardMap&) = delete;

  uint32_t shard_count() const noexcept { return static_cast<uint32_t>(shards_.size()); }
  uint32_t shard_of(std::string_view key) const noexcept;
  // REQUIRES: i < shard_count().
  Adjudicator& shard(uint32_t i);
  const std::vector<std::string>& splits() const noexcept { return splits_; }

  // One request per shard the writes touch, in shard order, writes in their original order.
  std::vector<PrepareRequest> split(const TxnRequest& txn) const;

  // Decides one transaction: the fast path on one shard, the vote across several.
  CommitResult commit(const TxnRequest& txn);
  // Decides txns in order. REQUIRES: results.size() == txns.size().
  void commit_batch(std::span<const TxnRequest> txns, std::span<CommitResult> results);

  // The lowest promise over all shards: nothing commits anywhere at or below it.
  int64_t heartbeat();
  int64_t promise_through(int64_t ts);

 private:
  std::shared_ptr<clock::HybridClock> clock_;
  std::vector<std::string> splits_;
  std::vector<std::unique_ptr<Adjudicator>> shards_;
};

}  // namespace dsql::adjudicator
