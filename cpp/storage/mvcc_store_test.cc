// MvccStore semantics: reads as of a timestamp, out-of-order applies, scans with resume, the
// watermark wait, GC and its memory, and the REQUIRES checks.
// Goal: every read equals the reference model's answer at that timestamp. Method: hand-made
// cases for each rule, then seeded random operation sequences (applies in shuffled commit_ts
// order above the watermark, watermark advances, gets, batch gets, forward and reverse scans
// with small limits followed through their resume positions, GC) diffed against RefModel.
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "storage/mvcc_store.h"
#include "storage/store_test_util.h"
#include "testing/unit.h"

namespace dsql::storage {
namespace {

using test::RefModel;
using test::Txn;
using test::Value;
using test::show;

Value get(const MvccStore& s, const std::string& key, int64_t ts) {
  auto v = s.get(key, ts);
  return v;
}

DSQL_TEST(MvccStore, ReadsAsOfTimestamp) {
  MvccStore s;
  test::apply_txn(s, Txn{10, {{"a", "a10"}, {"b", "b10"}}});
  test::apply_txn(s, Txn{20, {{"a", "a20"}, {"b", std::nullopt}}});
  s.advance_watermark(30);
  CHECK_EQ(show(get(s, "a", 9)), show(std::nullopt));
  CHECK_EQ(show(get(s, "a", 10)), show(std::string("a10")));
  CHECK_EQ(show(get(s, "a", 19)), show(std::string("a10")));
  CHECK_EQ(show(get(s, "a", 20)), show(std::string("a20")));
  CHECK_EQ(show(get(s, "b", 15)), show(std::string("b10")));
  CHECK_EQ(show(get(s, "b", 20)), show(std::nullopt));  // tombstone
  CHECK_EQ(show(get(s, "zz", 30)), show(std::nullopt));
  const StoreStats st = s.stats();
  CHECK_EQ(st.keys, uint64_t{2});
  CHECK_EQ(st.versions, uint64_t{4});
  CHECK_EQ(st.live_bytes, uint64_t{2 + 3 * 3});
}

DSQL_TEST(MvccStore, EmptyValueIsNotAbsent) {
  MvccStore s;
  test::apply_txn(s, Txn{5, {{"k", std::string()}, {"", "empty key"}}});
  s.advance_watermark(5);
  auto v = s.get("k", 5);
  REQUIRE(v.has_value());
  CHECK(v->empty());
  CHECK_EQ(show(s.get("", 5)), show(std::string("empty key")));
}

DSQL_TEST(MvccStore, OutOfOrderAppliesKeepChainsSorted) {
  MvccStore s;
  test::apply_txn(s, Txn{30, {{"k", "v30"}}});
  test::apply_txn(s, Txn{10, {{"k", "v10"}}});
  test::apply_txn(s, Txn{20, {{"k", std::nullopt}}});
  test::apply_txn(s, Txn{25, {{"k", "v25"}}});
  s.advance_watermark(40);
  CHECK_EQ(show(get(s, "k", 10)), show(std::string("v10")));
  CHECK_EQ(show(get(s, "k", 20)), show(std::nullopt));
  CHECK_EQ(show(get(s, "k", 24)), show(std::nullopt));
  CHECK_EQ(show(get(s, "k", 27)), show(std::string("v25")));
  CHECK_EQ(show(get(s, "k", 40)), show(std::string("v30")));
}

DSQL_TEST(MvccStore, SameKeyTwiceInOneApplyLastWins) {
  MvccStore s;
  test::apply_txn(s, Txn{7, {{"k", "first"}, {"k", "second"}}});
  s.advance_watermark(7);
  CHECK_EQ(show(get(s, "k", 7)), show(std::string("second")));
}

DSQL_TEST(MvccStore, RequiresCommitAboveWatermarkAndRefusesWhole) {
  MvccStore s;
  s.advance_watermark(100);
  bool threw = false;
  try {
    test::apply_txn(s, Txn{100, {{"k", "v"}}});
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  threw = false;
  try {
    test::apply_txn(s, Txn{101, {{"ok", "v"}, {std::string(kMaxKeyBytes + 1, 'k'), "v"}}});
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  CHECK_EQ(s.stats().versions, uint64_t{0});  // nothing of the refused transaction
  s.advance_watermark(50);                    // stale: ignored
  CHECK_EQ(s.watermark(), int64_t{100});
}

DSQL_TEST(MvccStore, ReadWaitsForWatermarkThenTimesOut) {
  MvccStore s;
  test::apply_txn(s, Txn{10, {{"k", "v"}}});
  std::thread advancer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    s.advance_watermark(10);
  });
  const auto start = std::chrono::steady_clock::now();
  CHECK_EQ(show(get(s, "k", 10)), show(std::string("v")));  // waited for the advance
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(20));
  advancer.join();
  s.set_read_wait_timeout_ns(20'000'000);
  bool timed_out = false;
  try {
    get(s, "k", 11);
  } catch (const WatermarkTimeout& e) {
    timed_out = std::string(e.what()).find("watermark") != std::string::npos;
  }
  CHECK(timed_out);
}

DSQL_TEST(MvccStore, ScanForwardReverseWithResume) {
  MvccStore s;
  Txn t{5, {}};
  for (int i = 0; i < 50; ++i) {
    char k[8];
    std::snprintf(k, sizeof k, "k%02d", i);
    t.writes.emplace_back(k, i % 5 == 0 ? Value() : Value("v" + std::to_string(i)));
  }
  test::apply_txn(s, t);
  s.advance_watermark(5);
  RefModel model;
  model.apply(t);
  const ReadView view = s.view(5);
  for (size_t limit : {1, 3, 7, 100}) {
    size_t calls = 0;
    auto fwd = test::scan_all(view, "k03", "k41", limit, false, &calls);
    CHECK(fwd == model.range("k03", "k41", 5));
    auto rev = test::scan_all(view, "k03", "", limit, true, &calls);
    auto expect = model.range("k03", "", 5);
    std::reverse(expect.begin(), expect.end());
    CHECK(rev == expect);
    // resume is only handed out when rows remain: the calls are exactly ceil(rows / limit).
    const size_t want_calls = std::max<size_t>(1, (expect.size() + limit - 1) / limit);
    CHECK_EQ(calls, want_calls);
  }
  std::vector<Row> rows;
  std::string resume;
  CHECK(!view.scan("k10", "k10", 5, false, &rows, &resume));  // empty range
  CHECK(rows.empty());
}

DSQL_TEST(MvccStore, GcKeepsAnswersAndReclaimsMemory) {
  MvccStore s;
  RefModel model;
  const std::string value(84, 'v');
  for (int64_t ts = 1; ts <= 20; ++ts) {
    Txn t{ts, {}};
    for (int k = 0; k < 500; ++k) {
      t.writes.emplace_back("key" + std::to_string(k),
                            (k % 7 == 0 && ts == 20) ? Value() : Value(value + std::to_string(ts)));
    }
    test::apply_txn(s, t);
    model.apply(t);
  }
  s.advance_watermark(20);
  const StoreStats before = s.stats();
  const ReadView old_view = s.view(3);  // held across the GC: must keep its generation alive
  const GcResult r = s.gc(20);
  CHECK(r.rebuilt);
  CHECK(r.allocated_bytes_after * 5 < r.allocated_bytes_before);
  const StoreStats after = s.stats();
  CHECK(after.allocated_bytes < before.allocated_bytes / 5);
  CHECK_EQ(after.keys, uint64_t{500 - 72});  // keys deleted at the horizon are gone
  CHECK_EQ(after.versions, after.keys);
  CHECK_EQ(after.generation, before.generation + 1);
  for (int k = 0; k < 500; k += 13) {
    const std::string key = "key" + std::to_string(k);
    CHECK_EQ(show(get(s, key, 20)), show(model.get(key, 20)));
    CHECK_EQ(show(test::from_view(old_view.get(key))), show(model.get(key, 3)));
  }
  bool too_old = false;
  try {
    get(s, "key1", 19);
  } catch (const SnapshotTooOld&) {
    too_old = true;
  }
  CHECK(too_old);
  CHECK(!s.gc(10).rebuilt);  // below the horizon: nothing to do
  bool above = false;
  try {
    s.gc(21);
  } catch (const std::invalid_argument&) {
    above = true;
  }
  CHECK(above);
}

// Random operation sequences against the model.
void random_run(uint64_t seed, bool with_gc) {
  test::Rng rng(seed);
  MvccStore s;
  RefModel model;
  int64_t watermark = 0;
  int64_t horizon = INT64_MIN;
  std::vector<Txn> pending;  // built, not yet applied
  int64_t next_ts = 1;
  auto random_key = [&] { return std::string(1, static_cast<char>('a' + rng.below(12))) +
                                 (rng.below(2) ? std::string(1, static_cast<char>(0xF0 + rng.below(3))) : std::string()); };
  for (int step = 0; step < 1500; ++step) {
    const uint64_t op = rng.below(10);
    if (op < 3) {  // build a transaction with a fresh commit_ts
      Txn t{next_ts, {}};
      next_ts += 1 + static_cast<int64_t>(rng.below(3));
      const size_t n = 1 + rng.below(4);
      for (size_t i = 0; i < n; ++i) {
        t.writes.emplace_back(random_key(), rng.below(4) == 0 ? Value() : Value("v" + std::to_string(t.ts) + "." + std::to_string(i)));
      }
      pending.push_back(std::move(t));
    } else if (op < 5 && !pending.empty()) {  // apply a random pending one (out of order)
      const size_t i = rng.below(pending.size());
      test::apply_txn(s, pending[i]);
      model.apply(pending[i]);
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (op == 5) {  // advance the watermark below the oldest pending commit
      int64_t limit = next_ts - 1;
      for (const Txn& t : pending) limit = std::min(limit, t.ts - 1);
      if (limit > watermark) {
        watermark = watermark + static_cast<int64_t>(rng.below(static_cast<uint64_t>(limit - watermark) + 1));
        s.advance_watermark(watermark);
      }
    } else if (op == 6 && with_gc && watermark > 0) {
      const int64_t h = static_cast<int64_t>(rng.below(static_cast<uint64_t>(watermark) + 1));
      s.gc(h);
      horizon = std::max(horizon, h);
    } else if (watermark > 0) {  // reads at a random settled ts at or above the horizon
      const int64_t lo_ts = std::max<int64_t>(horizon, 0);
      if (lo_ts > watermark) continue;
      const int64_t ts = lo_ts + static_cast<int64_t>(rng.below(static_cast<uint64_t>(watermark - lo_ts) + 1));
      const ReadView view = s.view(ts);
      const std::string key = random_key();
      CHECK_EQ(show(test::from_view(view.get(key))), show(model.get(key, ts)));
      std::vector<std::string> keys;
      for (int i = 0; i < 5; ++i) keys.push_back(random_key());
      std::vector<std::string_view> kv(keys.begin(), keys.end());
      std::vector<std::string_view> out(kv.size());
      view.get_many(kv.data(), kv.size(), out.data());
      for (size_t i = 0; i < keys.size(); ++i) CHECK_EQ(show(test::from_view(out[i])), show(model.get(keys[i], ts)));
      std::string lo = rng.below(3) ? random_key() : std::string();
      std::string hi = rng.below(3) ? random_key() : std::string();
      const size_t limit = 1 + rng.below(4);
      const bool reverse = rng.below(2);
      size_t calls = 0;
      auto got = test::scan_all(view, lo, hi, limit, reverse, &calls);
      auto expect = (!hi.empty() && lo >= hi) ? decltype(got){} : model.range(lo, hi, ts);
      if (reverse) std::reverse(expect.begin(), expect.end());
      CHECK(got == expect);
      const size_t want_calls = std::max<size_t>(1, (expect.size() + limit - 1) / limit);
      CHECK_EQ(calls, want_calls);
    }
  }
}

DSQL_TEST(MvccStore, RandomOpsMatchModel) {
  for (uint64_t seed = 1; seed <= 6; ++seed) random_run(seed, false);
}

DSQL_TEST(MvccStore, RandomOpsWithGcMatchModel) {
  for (uint64_t seed = 11; seed <= 16; ++seed) random_run(seed, true);
}

DSQL_TEST(MvccStore, MemoryPerHundredByteRow) {
  // 16-byte key + 84-byte value: allocated bytes per row must stay under 2x the raw 100 bytes,
  // both as applied (index growth included) and after a GC rebuild.
  MvccStore s;
  const int rows = 100000;
  int64_t ts = 1;
  for (int base = 0; base < rows; base += 1000) {
    std::vector<std::string> keys;
    std::vector<WriteView> writes;
    const std::string value(84, 'x');
    for (int i = base; i < base + 1000; ++i) {
      char k[17];
      std::snprintf(k, sizeof k, "%016d", (i * 7919) % rows);
      keys.emplace_back(k, 16);
    }
    for (const auto& k : keys) writes.push_back(WriteView{k, value, false});
    s.apply(ts++, writes);
  }
  s.advance_watermark(ts);
  const StoreStats st = s.stats();
  CHECK_EQ(st.keys, uint64_t(rows));
  const double ratio = double(st.allocated_bytes) / (100.0 * rows);
  CHECK(ratio <= 2.0);
  s.gc(ts);
  std::printf("    bytes/row ratio: %.3f applied, %.3f after gc\n", ratio,
              double(s.stats().allocated_bytes) / (100.0 * rows));
}

}  // namespace
}  // namespace dsql::storage
