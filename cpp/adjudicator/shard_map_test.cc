// Sharded adjudication and the coordinator's vote.
// Goal: keys route to the shard owning their range; single-shard transactions take the fast
// path; a multi-shard transaction commits at the maximum proposal only when every shard votes
// yes, holds its keys meanwhile (a conflicting transaction is aborted, not delayed), and is
// recorded on every shard it touched. Method: a shard map over a manual SimulatedSource; the
// vote is driven both through commit() and step by step with split()/prepare()/decide().
#include <memory>
#include <string>
#include <vector>

#include "adjudicator/shard_map.h"
#include "clock/simulated_source.h"
#include "testing/unit.h"

namespace dsql::adjudicator {
namespace {

struct MapFixture {
  std::shared_ptr<clock::SimulatedSource> source;
  std::shared_ptr<clock::HybridClock> clock;
  std::unique_ptr<AdjudicatorShardMap> map;

  explicit MapFixture(std::vector<std::string> splits, AdjudicatorConfig config = {}) {
    clock::SimulatedSource::Options opt;
    opt.start_ns = 1000;
    source = std::make_shared<clock::SimulatedSource>(opt);
    clock = std::make_shared<clock::HybridClock>(source);
    map = std::make_unique<AdjudicatorShardMap>(clock, config, std::move(splits));
  }

  CommitResult commit(uint64_t id, int64_t start, const std::vector<KeyWrite>& w) {
    return map->commit(TxnRequest{id, start, w});
  }
};

DSQL_TEST(ShardMap, RoutesKeysByRange) {
  MapFixture f({"m", "t"});
  CHECK_EQ(f.map->shard_count(), 3u);
  CHECK_EQ(f.map->shard_of(""), 0u);
  CHECK_EQ(f.map->shard_of("a"), 0u);
  CHECK_EQ(f.map->shard_of("lzzz"), 0u);
  CHECK_EQ(f.map->shard_of("m"), 1u);
  CHECK_EQ(f.map->shard_of("s"), 1u);
  CHECK_EQ(f.map->shard_of("t"), 2u);
  CHECK_EQ(f.map->shard_of("\xff"), 2u);
  bool threw = false;
  try {
    AdjudicatorShardMap bad(f.clock, {}, {"t", "m"});
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

DSQL_TEST(ShardMap, SplitKeepsOrderPerShard) {
  MapFixture f({"m"});
  std::vector<KeyWrite> w{{"x", Kind::kFull}, {"a", Kind::kNonKey}, {"z", Kind::kKeyShare},
                          {"b", Kind::kFull}};
  const std::vector<PrepareRequest> reqs = f.map->split(TxnRequest{5, 10, w});
  REQUIRE(reqs.size() == 2u);
  CHECK_EQ(reqs[0].shard, 0u);
  CHECK(reqs[0].writes[0].key == "a" && reqs[0].writes[1].key == "b");
  CHECK(reqs[1].writes[0].key == "x" && reqs[1].writes[1].key == "z");
  CHECK(reqs[1].writes[1].kind == Kind::kKeyShare);
  CHECK(reqs[0].txn_id == 5u && reqs[1].start_ts == 10);
}

DSQL_TEST(ShardMap, SingleShardTakesTheFastPath) {
  MapFixture f({"m"});
  const CommitResult r = f.commit(1, 10, {{"a", Kind::kFull}, {"b", Kind::kFull}});
  CHECK(r.outcome == Outcome::kCommitted && r.shards == 1u);
  CHECK_EQ(f.map->shard(0).stats().keys, 2u);
  CHECK_EQ(f.map->shard(1).stats().keys, 0u);
  const CommitResult c = f.commit(2, 10, {{"b", Kind::kNonKey}});
  CHECK(c.outcome == Outcome::kConflict && c.conflict.key == "b");
  CHECK(c.conflict.mine == Kind::kNonKey && c.conflict.theirs == Kind::kFull);
}

DSQL_TEST(ShardMap, MultiShardCommitsAtTheHighestProposal) {
  MapFixture f({"m"});
  const CommitResult r = f.commit(1, 10, {{"a", Kind::kFull}, {"x", Kind::kFull}});
  REQUIRE(r.outcome == Outcome::kCommitted);
  CHECK_EQ(r.shards, 2u);
  CHECK_EQ(r.commit_ts, int64_t{1001});  // proposals 1000 (shard 0) and 1001 (shard 1)
  for (uint32_t s = 0; s < 2; ++s) {
    CHECK_EQ(f.map->shard(s).stats().keys, 1u);
    CHECK_EQ(f.map->shard(s).stats().pending_txns, 0u);
    CHECK(f.map->shard(s).check_invariants());
  }
  // Recorded on both: a later conflicting transaction started before it aborts on either.
  CHECK(f.commit(2, 1000, {{"a", Kind::kNonKey}}).outcome == Outcome::kConflict);
  const CommitResult x = f.commit(3, 1000, {{"b", Kind::kFull}, {"x", Kind::kKeyShare}});
  CHECK(x.outcome == Outcome::kConflict && x.conflict.key == "x");
  CHECK(f.commit(4, 1001, {{"a", Kind::kFull}, {"x", Kind::kFull}}).outcome ==
        Outcome::kCommitted);
}

DSQL_TEST(ShardMap, ANoVoteAbortsAndReleasesTheOtherShards) {
  MapFixture f({"m"});
  CHECK(f.commit(1, 10, {{"x", Kind::kFull}}).outcome == Outcome::kCommitted);
  const CommitResult r = f.commit(2, 10, {{"a", Kind::kFull}, {"x", Kind::kNonKey}});
  CHECK(r.outcome == Outcome::kConflict && r.conflict.key == "x" && !r.conflict.pending);
  // Shard 0 voted yes and was told to abort: "a" is free and unrecorded.
  CHECK_EQ(f.map->shard(0).stats().held_keys, 0u);
  CHECK_EQ(f.map->shard(0).stats().keys, 0u);
  CHECK(f.commit(3, 10, {{"a", Kind::kFull}}).outcome == Outcome::kCommitted);
}

DSQL_TEST(ShardMap, StepByStepVoteHoldsKeysAndAbortsConflicts) {
  MapFixture f({"m"});
  std::vector<KeyWrite> w{{"a", Kind::kNonKey}, {"x", Kind::kFull}};
  const std::vector<PrepareRequest> reqs = f.map->split(TxnRequest{7, 10, w});
  std::vector<Vote> votes;
  for (const PrepareRequest& r : reqs) votes.push_back(f.map->shard(r.shard).prepare(r));
  REQUIRE(votes[0].yes && votes[1].yes);
  // While pending, a conflicting transaction is aborted at once; a compatible one commits.
  const CommitResult held = f.commit(8, 5000, {{"x", Kind::kKeyShare}});
  CHECK(held.outcome == Outcome::kConflict && held.conflict.pending);
  CHECK_EQ(held.conflict.other_txn, 7u);
  CHECK(f.commit(9, 10, {{"a", Kind::kKeyShare}}).outcome == Outcome::kCommitted);
  // Heartbeats stay below the lowest pending proposal.
  CHECK(f.map->heartbeat() < votes[0].proposed_ts);
  const Decision d = decide_votes(7, votes, f.clock->read().latest_ns);
  CHECK(d.commit);
  CHECK_EQ(d.commit_ts, std::max(votes[0].proposed_ts, votes[1].proposed_ts));
  for (const Vote& v : votes) CHECK(f.map->shard(v.shard).decide(d).ok);
  CHECK(f.map->heartbeat() > d.commit_ts);
}

DSQL_TEST(ShardMap, DecideVotesRule) {
  Vote a;
  a.txn_id = 1;
  a.yes = true;
  a.proposed_ts = 50;
  a.hold_until_ns = 1000;
  Vote b = a;
  b.shard = 1;
  b.proposed_ts = 70;
  std::vector<Vote> votes{a, b};
  Decision d = decide_votes(1, votes, 999);
  CHECK(d.commit && d.commit_ts == 70);
  CHECK(!decide_votes(1, votes, 1000).commit);  // a hold may be gone: abort
  votes[1].yes = false;
  CHECK(!decide_votes(1, votes, 0).commit);
}

DSQL_TEST(ShardMap, ExpiredHoldMakesTheCommitExpire) {
  AdjudicatorConfig c;
  c.hold_ns = 100;
  MapFixture f({"m"}, c);
  std::vector<KeyWrite> w{{"a", Kind::kFull}, {"x", Kind::kFull}};
  const std::vector<PrepareRequest> reqs = f.map->split(TxnRequest{7, 10, w});
  std::vector<Vote> votes;
  for (const PrepareRequest& r : reqs) votes.push_back(f.map->shard(r.shard).prepare(r));
  f.source->advance(500);
  CHECK(!decide_votes(7, votes, f.clock->read().latest_ns).commit);
  CHECK_EQ(f.map->shard(0).expire_pending(), 1u);
  CHECK(f.commit(8, 10, {{"a", Kind::kFull}}).outcome == Outcome::kCommitted);
}

DSQL_TEST(ShardMap, RefusalAndTooOldPropagate) {
  AdjudicatorConfig c;
  c.single_timestamp_authority = false;
  MapFixture f({"m"}, c);
  f.source->set_status(clock::Status::kUnknown);
  CHECK(f.commit(1, 10, {{"a", Kind::kFull}, {"x", Kind::kFull}}).outcome == Outcome::kRefused);
  f.source->set_status(clock::Status::kSynchronized);
  AdjudicatorConfig w;
  w.window_ns = 10;
  MapFixture g({"m"}, w);
  g.map->heartbeat();  // last 1001 -> floor 991 on both shards
  CHECK(g.commit(2, 5, {{"a", Kind::kFull}, {"x", Kind::kFull}}).outcome == Outcome::kTooOld);
}

}  // namespace
}  // namespace dsql::adjudicator
