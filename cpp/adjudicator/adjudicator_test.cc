// The adjudicator's decisions.
// Goal: the conflict rule for every pair of kinds, merged duplicate keys, commit timestamps
// above starts and promises, the bounded window (time and memory), both clock-authority modes
// when the clock status is unknown, batches, and the prepare/decide holds of the vote.
// Method: a SimulatedSource in manual mode makes every timestamp predictable; each test
// scripts a few transactions and checks outcomes, timestamps, stats and check_invariants().
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adjudicator/adjudicator.h"
#include "clock/simulated_source.h"
#include "testing/unit.h"

namespace dsql::adjudicator {
namespace {

using Writes = std::vector<std::pair<std::string, Kind>>;

struct Fixture {
  std::shared_ptr<clock::SimulatedSource> source;
  std::shared_ptr<clock::HybridClock> clock;
  std::unique_ptr<Adjudicator> adj;

  explicit Fixture(AdjudicatorConfig config = {}, int64_t start_ns = 1000) {
    clock::SimulatedSource::Options opt;
    opt.start_ns = start_ns;
    source = std::make_shared<clock::SimulatedSource>(opt);
    clock = std::make_shared<clock::HybridClock>(source);
    config.hash_seed = 99;
    adj = std::make_unique<Adjudicator>(clock, config);
  }

  TxnResult run(uint64_t id, int64_t start, const Writes& writes) {
    std::vector<KeyWrite> w;
    for (const auto& [k, kind] : writes) w.push_back(KeyWrite{k, kind});
    return adj->adjudicate(TxnRequest{id, start, w});
  }

  PrepareRequest prep(uint64_t id, int64_t start, const Writes& writes) {
    PrepareRequest r;
    r.txn_id = id;
    r.start_ts = start;
    for (const auto& [k, kind] : writes) r.writes.push_back(OwnedWrite{k, kind});
    return r;
  }
};

constexpr Kind kAll[] = {Kind::kKeyShare, Kind::kNonKey, Kind::kFull};

DSQL_TEST(Adjudicator, EveryPairOfKinds) {
  for (Kind first : kAll) {
    for (Kind second : kAll) {
      Fixture f;
      const TxnResult a = f.run(1, 10, {{"k", first}});
      REQUIRE(a.outcome == Outcome::kCommitted);
      CHECK(a.commit_ts > 10);
      // Started before the first committed: conflicts exactly when the kinds do.
      const TxnResult b = f.run(2, a.commit_ts - 1, {{"k", second}});
      if (conflicts(first, second)) {
        CHECK(b.outcome == Outcome::kConflict);
        CHECK(b.mine == second && b.theirs == first);
        CHECK(!b.pending && b.key_index == 0u);
      } else {
        CHECK(b.outcome == Outcome::kCommitted);
      }
      // Started at or after the commit: never a conflict.
      Fixture g;
      const TxnResult c = g.run(1, 10, {{"k", first}});
      CHECK(g.run(3, c.commit_ts, {{"k", second}}).outcome == Outcome::kCommitted);
      CHECK(f.adj->check_invariants() && g.adj->check_invariants());
    }
  }
}

DSQL_TEST(Adjudicator, DifferentKeysNeverConflict) {
  Fixture f;
  CHECK(f.run(1, 10, {{"a", Kind::kFull}}).outcome == Outcome::kCommitted);
  CHECK(f.run(2, 10, {{"b", Kind::kFull}}).outcome == Outcome::kCommitted);
  CHECK(f.run(3, 10, {{"ab", Kind::kFull}, {"", Kind::kFull}}).outcome == Outcome::kCommitted);
  CHECK_EQ(f.adj->stats().keys, 4u);
}

DSQL_TEST(Adjudicator, DuplicateKeysMergeToStrongest) {
  Fixture f;
  CHECK(f.run(1, 10, {{"k", Kind::kNonKey}}).outcome == Outcome::kCommitted);
  // keyshare twice does not conflict with nonkey; keyshare + full merges to full, reported at
  // the first occurrence.
  CHECK(f.run(2, 10, {{"k", Kind::kKeyShare}, {"k", Kind::kKeyShare}}).outcome ==
        Outcome::kCommitted);
  const TxnResult r = f.run(3, 10, {{"x", Kind::kFull}, {"k", Kind::kKeyShare},
                                    {"k", Kind::kFull}});
  CHECK(r.outcome == Outcome::kConflict);
  CHECK_EQ(r.key_index, 1u);
  CHECK(r.mine == Kind::kFull && r.theirs == Kind::kNonKey);
}

DSQL_TEST(Adjudicator, LargeWriteSetsMergeBySorting) {
  Fixture f;
  CHECK(f.run(1, 10, {{"key5", Kind::kNonKey}}).outcome == Outcome::kCommitted);
  Writes w;
  for (int i = 0; i < 40; ++i) w.push_back({"key" + std::to_string(i), Kind::kKeyShare});
  w.push_back({"key5", Kind::kNonKey});  // the duplicate comes last
  w.push_back({"key7", Kind::kFull});
  const TxnResult r = f.run(2, 10, w);
  CHECK(r.outcome == Outcome::kConflict);
  CHECK_EQ(r.key_index, 5u);
  CHECK(r.mine == Kind::kNonKey && r.theirs == Kind::kNonKey);
  w.pop_back();
  w.pop_back();
  const TxnResult ok = f.run(3, 10, w);  // all keyshare: no conflict with nonkey
  CHECK(ok.outcome == Outcome::kCommitted);
  CHECK_EQ(f.adj->stats().keys, 40u);
  CHECK(f.adj->check_invariants());
}

DSQL_TEST(Adjudicator, ReportsStrongestCommittedKind) {
  Fixture f;
  CHECK(f.run(1, 10, {{"k", Kind::kKeyShare}}).outcome == Outcome::kCommitted);
  CHECK(f.run(2, 10, {{"k", Kind::kNonKey}}).outcome == Outcome::kCommitted);
  const TxnResult r = f.run(3, 10, {{"k", Kind::kFull}});
  CHECK(r.outcome == Outcome::kConflict);
  CHECK(r.theirs == Kind::kNonKey);
  CHECK(f.run(4, 10, {{"k", Kind::kKeyShare}}).outcome == Outcome::kCommitted);
}

DSQL_TEST(Adjudicator, CommitTimestampsAboveStartPromisesAndEachOther) {
  Fixture f;  // physical time is 1000 and does not move
  const TxnResult a = f.run(1, 5000, {{"a", Kind::kFull}});
  CHECK_EQ(a.commit_ts, int64_t{5001});
  const TxnResult b = f.run(2, 10, {{"b", Kind::kFull}});
  CHECK_EQ(b.commit_ts, int64_t{5002});  // unique and increasing even below physical time
  const int64_t h = f.adj->heartbeat();
  CHECK(h > b.commit_ts);
  CHECK(f.run(3, 10, {{"c", Kind::kFull}}).commit_ts > h);
  CHECK_EQ(f.adj->promise_through(9000), int64_t{9000});
  CHECK_EQ(f.adj->promise_through(100), int64_t{9000});  // promises never go back
  CHECK_EQ(f.run(4, 10, {{"d", Kind::kFull}}).commit_ts, int64_t{9001});
}

DSQL_TEST(Adjudicator, TooOldBelowTheTimeWindow) {
  AdjudicatorConfig c;
  c.window_ns = 100;
  Fixture f(c);
  f.source->advance(1000);  // physical 2000
  const TxnResult a = f.run(1, 1950, {{"a", Kind::kFull}});
  CHECK_EQ(a.commit_ts, int64_t{2000});
  // The floor is clock.last() - window = 1900 at the next decision.
  CHECK(f.run(2, 1899, {{"b", Kind::kFull}}).outcome == Outcome::kTooOld);
  CHECK(f.run(3, 1900, {{"b", Kind::kFull}}).outcome == Outcome::kCommitted);
  CHECK_EQ(f.adj->stats().window_floor_ts, int64_t{1900});
  CHECK_EQ(f.adj->stats().too_old, uint64_t{1});
}

DSQL_TEST(Adjudicator, TimeWindowEvictsOldKeys) {
  AdjudicatorConfig c;
  c.window_ns = 1000;
  Fixture f(c);
  for (int i = 0; i < 10; ++i) f.run(i, 1000, {{"k" + std::to_string(i), Kind::kFull}});
  CHECK_EQ(f.adj->stats().keys, 10u);
  f.source->advance(5000);
  f.adj->heartbeat();  // last = 6000: floor 5000 is above every commit
  const AdjudicatorStats s = f.adj->stats();
  CHECK_EQ(s.keys, 0u);
  CHECK_EQ(s.evicted_by_time, uint64_t{10});
  CHECK_EQ(s.evicted_by_memory, uint64_t{0});
  CHECK(f.adj->check_invariants());
}

DSQL_TEST(Adjudicator, MemoryBoundEvictsOldestAndRaisesFloor) {
  AdjudicatorConfig c;
  c.max_keys = 4;
  Fixture f(c);
  std::vector<int64_t> ts;
  for (int i = 0; i < 6; ++i) {
    // Each starts after the previous commit, so it stays above the rising floor.
    const int64_t start = ts.empty() ? 10 : ts.back();
    ts.push_back(f.run(i, start, {{"k" + std::to_string(i), Kind::kFull}}).commit_ts);
  }
  AdjudicatorStats s = f.adj->stats();
  CHECK_EQ(s.keys, 4u);
  CHECK_EQ(s.evicted_by_memory, uint64_t{2});
  CHECK_EQ(s.window_floor_ts, ts[1]);  // the newest evicted commit
  CHECK(f.run(10, ts[1] - 1, {{"zz", Kind::kFull}}).outcome == Outcome::kTooOld);
  CHECK(f.run(11, ts[1], {{"k0", Kind::kFull}}).outcome == Outcome::kCommitted);
  // Re-touching a key moves it to the back: k2 survives the next eviction, k3 does not.
  f.run(12, 10000, {{"k2", Kind::kKeyShare}});
  f.run(13, 10000, {{"new", Kind::kFull}});
  s = f.adj->stats();
  CHECK_EQ(s.keys, 4u);
  CHECK(f.run(14, s.window_floor_ts, {{"k2", Kind::kFull}}).outcome == Outcome::kConflict);
  CHECK(f.adj->check_invariants());
}

DSQL_TEST(Adjudicator, UnknownClockWithSingleAuthorityCommitsAndFlags) {
  Fixture f;
  CHECK(!f.adj->clock_unsynchronized_seen());
  f.source->set_status(clock::Status::kUnknown);
  CHECK(f.run(1, 10, {{"a", Kind::kFull}}).outcome == Outcome::kCommitted);
  CHECK(f.adj->clock_unsynchronized_seen());
}

DSQL_TEST(Adjudicator, UnknownClockWithSeveralAuthoritiesRefuses) {
  AdjudicatorConfig c;
  c.single_timestamp_authority = false;
  Fixture f(c);
  CHECK(f.run(1, 10, {{"a", Kind::kFull}}).outcome == Outcome::kCommitted);
  f.source->set_status(clock::Status::kUnknown);
  CHECK(f.run(2, 10, {{"b", Kind::kFull}}).outcome == Outcome::kRefused);
  const Vote v = f.adj->prepare(f.prep(3, 10, {{"c", Kind::kFull}}));
  CHECK(!v.yes && v.reason == Outcome::kRefused);
  std::vector<KeyWrite> w{{"d", Kind::kFull}};
  std::vector<TxnRequest> txns{{4, 10, w}, {5, 10, w}};
  std::vector<TxnResult> out(2);
  f.adj->adjudicate_batch(txns, out);
  CHECK(out[0].outcome == Outcome::kRefused && out[1].outcome == Outcome::kRefused);
  CHECK_EQ(f.adj->stats().refused, uint64_t{4});
  CHECK_EQ(f.adj->stats().keys, 1u);  // nothing recorded
  f.source->set_status(clock::Status::kSynchronized);
  CHECK(f.run(6, 10, {{"b", Kind::kFull}}).outcome == Outcome::kCommitted);
}

DSQL_TEST(Adjudicator, BatchSeesEarlierTransactions) {
  Fixture f;
  std::vector<KeyWrite> w1{{"a", Kind::kFull}, {"b", Kind::kNonKey}};
  std::vector<KeyWrite> w2{{"b", Kind::kNonKey}};
  std::vector<KeyWrite> w3{{"b", Kind::kKeyShare}, {"c", Kind::kFull}};
  std::vector<TxnRequest> txns{{1, 10, w1}, {2, 10, w2}, {3, 10, w3}};
  std::vector<TxnResult> out(3);
  f.adj->adjudicate_batch(txns, out);
  CHECK(out[0].outcome == Outcome::kCommitted);
  CHECK(out[1].outcome == Outcome::kConflict && out[1].theirs == Kind::kNonKey);
  CHECK(out[2].outcome == Outcome::kCommitted);
  CHECK(out[2].commit_ts > out[0].commit_ts);
  std::vector<TxnResult> wrong(2);
  bool threw = false;
  try {
    f.adj->adjudicate_batch(txns, wrong);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

DSQL_TEST(Adjudicator, PrepareHoldsKeysUntilDecided) {
  Fixture f;
  const Vote v = f.adj->prepare(f.prep(7, 10, {{"k", Kind::kNonKey}, {"j", Kind::kFull}}));
  REQUIRE(v.yes);
  CHECK(v.proposed_ts > 10);
  // While held: a conflicting claim aborts at once, naming the holder; a compatible one passes.
  const TxnResult r = f.run(8, 5000, {{"k", Kind::kNonKey}});
  CHECK(r.outcome == Outcome::kConflict && r.pending && r.other_txn == 7u);
  CHECK(f.run(9, 10, {{"k", Kind::kKeyShare}}).outcome == Outcome::kCommitted);
  const Vote w = f.adj->prepare(f.prep(10, 5000, {{"j", Kind::kKeyShare}}));
  CHECK(!w.yes && w.reason == Outcome::kConflict && w.conflict.key == "j");
  CHECK(w.conflict.pending && w.conflict.other_txn == 7u && w.conflict.theirs == Kind::kFull);
  CHECK_EQ(f.adj->stats().held_keys, 2u);
  CHECK(f.adj->check_invariants());
  // Commit at a time above the proposal: recorded, holds gone, clock moved past it.
  const Ack ack = f.adj->decide(Decision{7, true, v.proposed_ts + 100});
  CHECK(ack.ok);
  CHECK_EQ(f.adj->stats().held_keys, 0u);
  CHECK(f.clock->last() >= v.proposed_ts + 100);
  const TxnResult after = f.run(11, v.proposed_ts + 99, {{"j", Kind::kKeyShare}});
  CHECK(after.outcome == Outcome::kConflict && !after.pending);
  CHECK(f.run(12, v.proposed_ts + 100, {{"j", Kind::kFull}}).outcome == Outcome::kCommitted);
  CHECK(f.adj->check_invariants());
}

DSQL_TEST(Adjudicator, AbortReleasesHolds) {
  Fixture f;
  const Vote v = f.adj->prepare(f.prep(1, 10, {{"k", Kind::kFull}}));
  REQUIRE(v.yes);
  CHECK(f.adj->decide(Decision{1, false, 0}).ok);
  CHECK(f.run(2, 10, {{"k", Kind::kFull}}).outcome == Outcome::kCommitted);
  CHECK(f.adj->decide(Decision{1, false, 0}).ok);   // aborting again is harmless
  CHECK(!f.adj->decide(Decision{1, true, 99}).ok);  // committing what is not held is not
}

DSQL_TEST(Adjudicator, PromisesStayBelowPendingProposals) {
  Fixture f;
  const int64_t before = f.adj->heartbeat();
  const Vote v = f.adj->prepare(f.prep(1, 10, {{"k", Kind::kFull}}));
  REQUIRE(v.yes);
  CHECK(v.proposed_ts > before);
  CHECK_EQ(f.adj->heartbeat(), v.proposed_ts - 1);
  CHECK_EQ(f.adj->promise_through(v.proposed_ts + 1000), v.proposed_ts - 1);
  CHECK(f.adj->decide(Decision{1, true, v.proposed_ts}).ok);
  CHECK(f.adj->heartbeat() > v.proposed_ts);
}

DSQL_TEST(Adjudicator, ExpiredHoldsAreReleased) {
  AdjudicatorConfig c;
  c.hold_ns = 100;
  Fixture f(c);
  const Vote v = f.adj->prepare(f.prep(1, 10, {{"k", Kind::kFull}}));
  REQUIRE(v.yes);
  CHECK_EQ(v.hold_until_ns, int64_t{1100});
  CHECK_EQ(f.adj->expire_pending(), 0u);  // earliest 1000 is not past 1100
  f.source->advance(101);
  CHECK_EQ(f.adj->expire_pending(), 1u);
  CHECK(f.run(2, 10, {{"k", Kind::kFull}}).outcome == Outcome::kCommitted);
  const Ack late = f.adj->decide(Decision{1, true, v.proposed_ts});
  CHECK(!late.ok && !late.error.empty());
  CHECK_EQ(f.adj->stats().expired, uint64_t{1});
}

DSQL_TEST(Adjudicator, KeyShareHoldersShareAndAreNamed) {
  Fixture f;
  CHECK(f.adj->prepare(f.prep(1, 10, {{"k", Kind::kKeyShare}})).yes);
  CHECK(f.adj->prepare(f.prep(2, 10, {{"k", Kind::kKeyShare}})).yes);
  CHECK(f.adj->prepare(f.prep(3, 10, {{"k", Kind::kNonKey}})).yes);
  const Vote no = f.adj->prepare(f.prep(4, 10, {{"k", Kind::kNonKey}}));
  CHECK(!no.yes && no.conflict.other_txn == 3u);
  CHECK(f.adj->decide(Decision{1, false, 0}).ok);
  CHECK(f.adj->decide(Decision{3, false, 0}).ok);
  const TxnResult r = f.run(5, 10, {{"k", Kind::kFull}});
  CHECK(r.outcome == Outcome::kConflict && r.pending && r.other_txn == 2u);
  CHECK(r.theirs == Kind::kKeyShare);
  CHECK(f.adj->check_invariants());
}

DSQL_TEST(Adjudicator, BusyWhenTooManyPrepared) {
  AdjudicatorConfig c;
  c.max_pending_txns = 2;
  Fixture f(c);
  CHECK(f.adj->prepare(f.prep(1, 10, {{"a", Kind::kFull}})).yes);
  CHECK(f.adj->prepare(f.prep(2, 10, {{"b", Kind::kFull}})).yes);
  const Vote v = f.adj->prepare(f.prep(3, 10, {{"c", Kind::kFull}}));
  CHECK(!v.yes && v.reason == Outcome::kBusy);
  bool threw = false;
  try {
    f.adj->prepare(f.prep(1, 10, {{"z", Kind::kFull}}));
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

DSQL_TEST(Adjudicator, RejectsMalformedInput) {
  AdjudicatorConfig c;
  c.max_txn_keys = 3;
  Fixture f(c);
  int threw = 0;
  auto expect_throw = [&](auto fn) {
    try {
      fn();
    } catch (const std::invalid_argument&) {
      ++threw;
    }
  };
  expect_throw([&] { f.run(1, -1, {{"a", Kind::kFull}}); });
  expect_throw([&] { f.run(1, 10, {{"a", Kind::kFull}, {"b", Kind::kFull}, {"c", Kind::kFull},
                                   {"d", Kind::kFull}}); });
  expect_throw([&] { f.run(1, 10, {{"a", static_cast<Kind>(7)}}); });
  expect_throw([&] { f.run(1, 10, {{std::string((1 << 20) + 1, 'x'), Kind::kFull}}); });
  expect_throw([&] {
    AdjudicatorConfig bad;
    bad.window_ns = 0;
    Adjudicator a(f.clock, bad);
  });
  CHECK_EQ(threw, 5);
  CHECK_EQ(f.adj->stats().keys, 0u);
}

DSQL_TEST(Adjudicator, RewritingFewKeysKeepsTheRingSmall) {
  // Every commit appends to the touch ring; rewriting the same keys leaves stale entries that
  // rebuilds must drop, or the ring would grow with the number of commits.
  AdjudicatorConfig c;
  c.max_keys = 8;
  Fixture f(c);
  int64_t last = 10;
  for (int i = 0; i < 50000; ++i) {
    const TxnResult r = f.run(i, last, {{"k" + std::to_string(i % 5), Kind::kFull},
                                        {"j" + std::to_string(i % 7), Kind::kNonKey}});
    REQUIRE(r.outcome == Outcome::kCommitted);
    last = r.commit_ts;
    if (i % 9973 == 0) CHECK(f.adj->check_invariants());
  }
  const AdjudicatorStats s = f.adj->stats();
  CHECK_EQ(s.keys, 8u);
  CHECK(s.memory_bytes < 64 * 1024);
  CHECK(f.adj->check_invariants());
  // The least recently written keys went first: the 8 kept are the last 8 written.
  CHECK(f.run(1, last - 1, {{"k4", Kind::kFull}}).outcome == Outcome::kConflict);
}

DSQL_TEST(Adjudicator, ConcurrentCallersGetUniqueTimestamps) {
  Fixture f;
  std::vector<std::vector<int64_t>> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        std::vector<KeyWrite> w{{key, Kind::kFull}};
        std::vector<TxnRequest> txns{{static_cast<uint64_t>(i), 10, w}};
        std::vector<TxnResult> out(1);
        if (i % 2 == 0) {
          out[0] = f.adj->adjudicate(txns[0]);
        } else {
          f.adj->adjudicate_batch(txns, out);
        }
        CHECK(out[0].outcome == Outcome::kCommitted);
        seen[t].push_back(out[0].commit_ts);
        if (i % 500 == 0) f.adj->heartbeat();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  std::set<int64_t> all;
  for (const auto& v : seen) all.insert(v.begin(), v.end());
  CHECK_EQ(all.size(), size_t{8000});
  CHECK_EQ(f.adj->stats().keys, 8000u);
  CHECK(f.adj->check_invariants());
}

DSQL_TEST(Adjudicator, EmptyWriteSetCommits) {
  Fixture f;
  const TxnResult r = f.run(1, 10, {});
  CHECK(r.outcome == Outcome::kCommitted && r.commit_ts > 10);
  CHECK_EQ(f.adj->stats().keys, 0u);
}

}  // namespace
}  // namespace dsql::adjudicator
