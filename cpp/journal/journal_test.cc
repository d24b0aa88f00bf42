// Journal: append, group commit, rollover, readers, drop_through, reopen.
// Goal: every acknowledged append is readable in lsn order with its exact writes, across
// segment rollovers, reopen and concurrent appenders and readers. Method: small journals with
// tiny segments, records whose contents derive from their commit_ts so any reader can check
// them, threads hammering append while a cursor follows, and option/misuse edge cases.
#include <algorithm>
#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>

#include "journal/journal.h"
#include "journal/test_support.h"
#include "testing/unit.h"

namespace dsql::journal {
namespace {

using test::append_ts;
using test::read_all;
using test::record_matches;
using test::TempDir;
using test::unsafe_options;

template <typename E, typename F>
bool throws(F&& f) {
  try {
    f();
  } catch (const E&) {
    return true;
  }
  return false;
}

DSQL_TEST(Journal, AppendReadReopen) {
  TempDir dir;
  const std::string path = dir.sub("j");
  {
    auto j = Journal::open(path, Options{});  // fdatasync durability
    CHECK(j->recovery().clean());
    CHECK_EQ(j->recovery().next_lsn, uint64_t{1});
    CHECK_EQ(append_ts(*j, 100), uint64_t{1});
    CHECK_EQ(append_ts(*j, 300), uint64_t{2});
    CHECK_EQ(append_ts(*j, 200), uint64_t{3});  // commit_ts order is free
    CHECK_EQ(j->durable_lsn(), uint64_t{3});
    const auto recs = read_all(j);
    REQUIRE(recs.size() == 3);
    CHECK_EQ(recs[1].commit_ts, int64_t{300});
    for (const Record& r : recs) CHECK(record_matches(r));
    CHECK_EQ(j->stats().appends, uint64_t{3});
    CHECK_EQ(j->stats().syncs, uint64_t{3});
  }
  auto j = Journal::open(path, Options{});
  const RecoveryReport& r = j->recovery();
  CHECK(r.clean());
  CHECK_EQ(r.first_lsn, uint64_t{1});
  CHECK_EQ(r.last_lsn, uint64_t{3});
  CHECK_EQ(r.records, uint64_t{3});
  CHECK(r.last_commit_ts == std::optional<int64_t>(200));
  CHECK(r.max_commit_ts == std::optional<int64_t>(300));
  CHECK_EQ(append_ts(*j, 50), uint64_t{4});
  CHECK_EQ(read_all(j, 3).size(), size_t{2});
  CHECK(read_all(j, 5).empty());
}

DSQL_TEST(Journal, RolloverKeepsSegmentsBoundedAndReadable) {
  TempDir dir;
  auto j = Journal::open(dir.path(), unsafe_options(512));
  for (int64_t ts = 1; ts <= 200; ++ts) CHECK_EQ(append_ts(*j, ts), static_cast<uint64_t>(ts));
  const auto segs = j->segments();
  CHECK(segs.size() > 20);
  uint64_t next_first = 1;
  for (size_t i = 0; i < segs.size(); ++i) {
    CHECK_EQ(segs[i].first_lsn, next_first);
    CHECK_EQ(segs[i].seq, static_cast<uint64_t>(i + 1));
    CHECK(segs[i].bytes <= 512);
    CHECK(segs[i].records >= 1);
    CHECK(segs[i].path.find(segment_file_name(segs[i].first_lsn)) != std::string::npos);
    next_first += segs[i].records;
  }
  CHECK_EQ(next_first, uint64_t{201});
  const auto all = read_all(j);
  REQUIRE(all.size() == 200);
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK_EQ(all[i].lsn, static_cast<uint64_t>(i + 1));
    CHECK(record_matches(all[i]));
  }
  // From the middle of a middle segment.
  const auto tail = read_all(j, 137);
  REQUIRE(tail.size() == 64);
  CHECK_EQ(tail.front().lsn, uint64_t{137});
  j->close();
  auto again = Journal::open(dir.path(), unsafe_options(512));
  CHECK(again->recovery().clean());
  CHECK_EQ(again->recovery().segments, static_cast<uint64_t>(segs.size()));
  CHECK_EQ(read_all(again).size(), size_t{200});
}

DSQL_TEST(Journal, OversizedRecordGetsASegmentToItself) {
  TempDir dir;
  auto j = Journal::open(dir.path(), unsafe_options(256));
  append_ts(*j, 1);
  const std::string big(1000, 'b');
  CHECK_EQ(j->append(2, {WriteView{"big", big, false}}), uint64_t{2});
  append_ts(*j, 3);
  const auto segs = j->segments();
  REQUIRE(segs.size() == 3);
  CHECK_EQ(segs[1].records, uint64_t{1});
  CHECK(segs[1].bytes > 1000);
  const auto all = read_all(j);
  REQUIRE(all.size() == 3);
  CHECK(*all[1].writes()[0].value == big);
}

DSQL_TEST(Journal, DropThroughRemovesWholeSealedSegments) {
  TempDir dir;
  auto j = Journal::open(dir.path(), unsafe_options(400));
  for (int64_t ts = 1; ts <= 60; ++ts) append_ts(*j, ts);
  const auto before = j->segments();
  REQUIRE(before.size() >= 4);
  const uint64_t cut = before[2].first_lsn;  // segment 2 holds `cut`, so it must stay
  CHECK_EQ(j->drop_through(cut), size_t{2});
  CHECK_EQ(j->first_lsn(), cut);
  CHECK_EQ(test::segment_files(dir.path()).size(), before.size() - 2);
  CHECK(throws<JournalError>([&] { read_all(j, 1); }));
  CHECK_EQ(read_all(j, cut).size(), size_t{61 - cut});
  CHECK_EQ(j->drop_through(cut), size_t{0});  // idempotent
  CHECK(throws<std::invalid_argument>([&] { j->drop_through(61); }));
  // Everything durable: every sealed segment goes, the active one stays.
  CHECK_EQ(j->drop_through(60), before.size() - 3);
  CHECK_EQ(j->segments().size(), size_t{1});
  CHECK_EQ(j->stats().segments_dropped, before.size() - 1);
  const uint64_t first = j->first_lsn();
  j->close();
  auto again = Journal::open(dir.path(), unsafe_options(400));
  CHECK(again->recovery().clean());
  CHECK_EQ(again->recovery().first_lsn, first);
  CHECK_EQ(again->recovery().last_lsn, uint64_t{60});
  CHECK_EQ(append_ts(*again, 61), uint64_t{61});
}

DSQL_TEST(Journal, SecondOpenOfTheSameDirectoryIsRefused) {
  TempDir dir;
  auto j = Journal::open(dir.path(), unsafe_options());
  CHECK(throws<JournalError>([&] { Journal::open(dir.path(), unsafe_options()); }));
  j->close();
  auto k = Journal::open(dir.path(), unsafe_options());  // released by close
  CHECK(!k->closed());
}

DSQL_TEST(Journal, CloseFailsLaterAppendsAndIsIdempotent) {
  TempDir dir;
  auto j = Journal::open(dir.path(), unsafe_options());
  append_ts(*j, 1);
  CHECK(j->wait_durable(1, 0));
  CHECK(!j->wait_durable(2, 1'000'000));  // times out
  j->close();
  j->close();
  CHECK(j->closed());
  CHECK(throws<JournalError>([&] { append_ts(*j, 2); }));
  CHECK(throws<JournalError>([&] { read_all(j); }));
}

DSQL_TEST(Journal, OptionsAreValidated) {
  TempDir dir;
  Options o;
  o.batch_records_max = 0;
  CHECK(throws<std::invalid_argument>([&] { Journal::open(dir.path(), o); }));
  o = Options{};
  o.batch_records_max = 2000;
  CHECK(throws<std::invalid_argument>([&] { Journal::open(dir.path(), o); }));
  o = Options{};
  o.segment_bytes = 10;
  CHECK(throws<std::invalid_argument>([&] { Journal::open(dir.path(), o); }));
  o = Options{};
  o.create = false;
  CHECK(throws<JournalError>([&] { Journal::open(dir.sub("missing"), o); }));
  o = unsafe_options();
  o.record_bytes_max = 16;
  auto j = Journal::open(dir.path(), o);
  CHECK(throws<std::invalid_argument>([&] { append_ts(*j, 50); }));
  CHECK_EQ(j->durable_lsn(), uint64_t{0});  // a refused record takes no lsn
}

// Many appenders, with and without fdatasync: lsns are unique and contiguous, each record
// holds exactly what its appender wrote, and every ack comes after durability.
void hammer(Durability durability, int threads, int per_thread, size_t batch_records_max) {
  TempDir dir;
  Options o;
  o.durability = durability;
  o.segment_bytes = 8192;
  o.batch_records_max = batch_records_max;
  o.queue_records_max = std::max<size_t>(batch_records_max, 4);
  auto j = Journal::open(dir.path(), o);
  std::vector<std::vector<std::pair<uint64_t, int64_t>>> acks(threads);
  std::atomic<int> not_durable_at_ack{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const int64_t ts = int64_t{t} * 1'000'000 + i;
        const uint64_t lsn = append_ts(*j, ts);
        if (j->durable_lsn() < lsn) not_durable_at_ack.fetch_add(1);
        acks[t].push_back({lsn, ts});
      }
    });
  }
  for (auto& th : pool) th.join();
  CHECK_EQ(not_durable_at_ack.load(), 0);
  const uint64_t total = static_cast<uint64_t>(threads) * per_thread;
  std::vector<int64_t> ts_of(total + 1, -1);
  for (const auto& per : acks) {
    uint64_t prev = 0;
    for (const auto& [lsn, ts] : per) {
      REQUIRE(lsn >= 1 && lsn <= total);
      CHECK(lsn > prev);  // one thread's appends are ordered
      CHECK_EQ(ts_of[lsn], int64_t{-1});  // unique
      ts_of[lsn] = ts;
      prev = lsn;
    }
  }
  const auto all = read_all(j);
  REQUIRE(all.size() == total);
  for (const Record& r : all) {
    CHECK_EQ(r.commit_ts, ts_of[r.lsn]);
    CHECK(record_matches(r));
  }
  const Stats s = j->stats();
  CHECK_EQ(s.appends, total);
  CHECK(s.batches >= 1 && s.batches <= total);
  CHECK(s.max_batch_records <= batch_records_max);
  CHECK_EQ(s.syncs, durability == Durability::kFdatasync ? s.batches : uint64_t{0});
  j->close();
  auto again = Journal::open(dir.path(), o);
  CHECK(again->recovery().clean());
  CHECK_EQ(again->recovery().last_lsn, total);
}

DSQL_TEST(Journal, ConcurrentAppendersUnsafeNoSync) {
  hammer(Durability::kUnsafeNoSync, 8, 400, 64);
}
DSQL_TEST(Journal, ConcurrentAppendersFdatasync) { hammer(Durability::kFdatasync, 8, 40, 512); }
DSQL_TEST(Journal, ConcurrentAppendersTinyBatchesAndQueue) {
  hammer(Durability::kUnsafeNoSync, 6, 200, 1);
}

DSQL_TEST(Journal, GroupWaitStillAcksEveryAppend) {
  TempDir dir;
  Options o = unsafe_options(4096);
  o.group_wait_ns = 2'000'000;
  o.batch_records_max = 4;
  auto j = Journal::open(dir.path(), o);
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) append_ts(*j, t * 100 + i);
    });
  }
  for (auto& th : pool) th.join();
  CHECK_EQ(j->durable_lsn(), uint64_t{80});
  CHECK_EQ(read_all(j).size(), size_t{80});
}

DSQL_TEST(Journal, ReaderFollowsConcurrentAppends) {
  TempDir dir;
  auto j = Journal::open(dir.path(), unsafe_options(2048));
  CHECK(test::cursor_follows_appenders(j, 4, 150, 16));
}

DSQL_TEST(Journal, CursorBatchLimits) {
  TempDir dir;
  auto j = Journal::open(dir.path(), unsafe_options(300));
  for (int64_t ts = 1; ts <= 30; ++ts) append_ts(*j, ts);
  Cursor c(j, 5);
  CHECK_EQ(c.next_batch(3, 1 << 20).size(), size_t{3});
  CHECK_EQ(c.next_lsn(), uint64_t{8});
  const auto one = c.next_batch(100, 1);  // a byte budget stops after the first record
  CHECK_EQ(one.size(), size_t{1});
  CHECK_EQ(c.next_batch(100, 1 << 20).size(), size_t{30 - 8});
}

}  // namespace
}  // namespace dsql::journal
