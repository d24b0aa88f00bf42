// The one-call commit path.
// Goal: a commit is decided, durable, applied and visible when commit() returns; a conflict
// changes nothing; a failed journal append is not visible and does not hold readers back; a
// failed apply (durable, not in storage) raises ApplyFailed and keeps the watermark below it.
// Method: the real adjudicator (simulated clock), journal (temporary directory, no fsync) and
// shard map wired as a node wires them; outcomes read back from storage and the journal.
#include "node/commit_path.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "node/test_support.h"
#include "testing/unit.h"

namespace dsql::node {
namespace {

using adjudicator::Kind;
using adjudicator::KeyWrite;
using adjudicator::Outcome;

struct Node : test::TestNode {
  adjudicator::TxnResult put(int64_t start_ts, const std::string& key, const std::string& value) {
    const KeyWrite claims[2] = {KeyWrite{key, Kind::kNonKey}, KeyWrite{"catalog", Kind::kKeyShare}};
    const journal::WriteView jw{key, value, false};
    const storage::WriteView sw{key, value, false};
    return path->commit(start_ts, claims, journal->encode(0, &jw, 1), &sw, 1);
  }
};

DSQL_TEST(CommitPath, CommitIsDurableAppliedAndVisible) {
  Node n;
  const auto r = n.put(1, "k", "v1");
  REQUIRE(r.outcome == Outcome::kCommitted);
  CHECK(r.commit_ts > 1);
  CHECK(n.storage->watermark() >= r.commit_ts);
  CHECK_EQ(n.seq->watermark(), n.storage->watermark());
  CHECK_EQ(n.read("k", r.commit_ts), std::string("v1"));
  CHECK_EQ(n.journal->durable_lsn(), uint64_t{1});
  // The journal holds the decided commit ts (restamped after framing).
  auto cursor = std::make_shared<journal::Cursor>(n.journal, 1);
  const auto records = cursor->next_batch(10, 1 << 20);
  REQUIRE(records.size() == 1);
  CHECK_EQ(records[0].commit_ts, r.commit_ts);
  const auto writes = records[0].writes();
  REQUIRE(writes.size() == 1);
  CHECK_EQ(writes[0].key, std::string("k"));
  CHECK(writes[0].value == std::optional<std::string>("v1"));
}

DSQL_TEST(CommitPath, ConflictChangesNothing) {
  Node n;
  const auto first = n.put(1, "k", "v1");
  REQUIRE(first.outcome == Outcome::kCommitted);
  const auto second = n.put(1, "k", "v2");  // started before the first committed
  CHECK(second.outcome == Outcome::kConflict);
  CHECK_EQ(second.key_index, uint32_t{0});
  CHECK_EQ(n.journal->durable_lsn(), uint64_t{1});
  CHECK_EQ(n.seq->in_flight(), size_t{0});
  CHECK_EQ(n.read("k", n.storage->watermark()), std::string("v1"));
  const auto third = n.put(first.commit_ts, "k", "v3");
  CHECK(third.outcome == Outcome::kCommitted);
  CHECK_EQ(n.read("k", third.commit_ts), std::string("v3"));
}

DSQL_TEST(CommitPath, FailedAppendIsNotVisibleAndDoesNotHoldReaders) {
  Node n;
  n.journal->close();
  bool threw = false;
  try {
    n.put(1, "k", "v1");
  } catch (const journal::JournalError&) {
    threw = true;
  }
  CHECK(threw);
  CHECK_EQ(n.seq->in_flight(), size_t{0});
  const int64_t w = n.storage->watermark();
  CHECK(w > 1);  // moved past the failed commit
  CHECK_EQ(n.read("k", w), std::string("<absent>"));
}

DSQL_TEST(CommitPath, FailedApplyKeepsTheWatermarkBelow) {
  Node n;
  const std::string big(storage::kMaxKeyBytes + 1, 'x');  // the adjudicator and journal take it
  bool threw = false;
  int64_t failed_ts = 0;
  try {
    n.put(1, big, "v");
  } catch (const ApplyFailed& e) {
    threw = true;
    failed_ts = e.commit_ts();
  }
  CHECK(threw);
  CHECK_EQ(n.journal->durable_lsn(), uint64_t{1});  // durable
  CHECK_EQ(n.seq->in_flight(), size_t{1});           // never finished
  CHECK(n.storage->watermark() < failed_ts);
  CHECK(!n.seq->promise(failed_ts + 10));
}

DSQL_TEST(CommitPath, AcknowledgedOnlyOnceVisibleAtTheWatermark) {
  Node n;
  int64_t earlier = 0;  // a commit decided first and still being applied
  n.seq->decide([&] {
    earlier = n.clock->next();
    return earlier;
  });
  std::atomic<bool> returned{false};
  adjudicator::TxnResult r;
  std::thread committer([&] {
    r = n.put(earlier, "k", "v");
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const bool early = returned.load();
  n.storage->advance_watermark(n.seq->finish(earlier));  // the earlier one is applied
  committer.join();
  CHECK(!early);
  CHECK(r.outcome == Outcome::kCommitted);
  CHECK(r.commit_ts > earlier);
  CHECK(n.storage->watermark() >= r.commit_ts);
}

}  // namespace
}  // namespace dsql::node
