// ShardMap: routing, splits, and reads across shards.
// Goal: a sharded store answers exactly like one store, before, during and after splits.
// Method: boundary cases of route() and split(); seeded random operation sequences (applies
// out of order, watermark advances, splits at random keys, GC, gets, batch gets and resumed
// scans across shard boundaries) against RefModel; and readers at fixed snapshots running
// while one thread applies and another splits.
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "storage/shard_map.h"
#include "storage/store_test_util.h"
#include "testing/unit.h"

namespace dsql::storage {
namespace {

using test::RefModel;
using test::Txn;
using test::Value;

DSQL_TEST(ShardMap, RouteAndSplit) {
  ShardMap map;
  CHECK_EQ(map.shard_count(), size_t{1});
  CHECK_EQ(map.route(""), size_t{0});
  CHECK_EQ(map.split("m"), size_t{1});
  CHECK_EQ(map.split("d"), size_t{1});
  CHECK_EQ(map.split("x"), size_t{3});
  const std::vector<std::string> bounds = map.lower_bounds();
  CHECK(bounds == (std::vector<std::string>{"", "d", "m", "x"}));
  CHECK_EQ(map.route(""), size_t{0});
  CHECK_EQ(map.route("c\xff"), size_t{0});
  CHECK_EQ(map.route("d"), size_t{1});
  CHECK_EQ(map.route("l"), size_t{1});
  CHECK_EQ(map.route("m"), size_t{2});
  CHECK_EQ(map.route("\xff"), size_t{3});
  bool empty_refused = false;
  bool dup_refused = false;
  try {
    map.split("");
  } catch (const std::invalid_argument&) {
    empty_refused = true;
  }
  try {
    map.split("m");
  } catch (const std::invalid_argument&) {
    dup_refused = true;
  }
  CHECK(empty_refused && dup_refused);
}

DSQL_TEST(ShardMap, SplitMovesDataAndKeepsOldViews) {
  ShardMap map;
  Txn t{5, {}};
  for (char c = 'a'; c <= 'z'; ++c) t.writes.emplace_back(std::string(1, c), std::string(3, c));
  test::apply_txn(map, t);
  test::apply_txn(map, Txn{6, {{"q", std::nullopt}}});
  map.advance_watermark(6);
  const MapView before = map.view(6);
  map.split("k");
  const std::vector<StoreStats> shards = map.shard_stats();
  REQUIRE(shards.size() == 2);
  CHECK_EQ(shards[0].keys, uint64_t{10});  // a..j
  CHECK_EQ(shards[1].keys, uint64_t{16});  // k..z
  CHECK_EQ(shards[1].watermark, int64_t{6});
  const MapView after = map.view(6);
  for (char c = 'a'; c <= 'z'; ++c) {
    const std::string key(1, c);
    CHECK(test::from_view(before.get(key)) == test::from_view(after.get(key)));
  }
  size_t calls = 0;
  CHECK(test::scan_all(before, "", "", 4, false, &calls) == test::scan_all(after, "", "", 4, false, &calls));
  CHECK(test::scan_all(before, "c", "t", 3, true, &calls) == test::scan_all(after, "c", "t", 3, true, &calls));
}

void random_map_run(uint64_t seed) {
  test::Rng rng(seed);
  ShardMap map;
  RefModel model;
  int64_t watermark = 0;
  int64_t horizon = INT64_MIN;
  std::vector<Txn> pending;
  int64_t next_ts = 1;
  auto random_key = [&] {
    std::string k(1, static_cast<char>('a' + rng.below(16)));
    if (rng.below(2)) k.push_back(static_cast<char>('a' + rng.below(4)));
    return k;
  };
  for (int step = 0; step < 1200; ++step) {
    const uint64_t op = rng.below(12);
    if (op < 3) {
      Txn t{next_ts, {}};
      next_ts += 1 + static_cast<int64_t>(rng.below(2));
      for (size_t i = 0, n = 1 + rng.below(5); i < n; ++i) {
        t.writes.emplace_back(random_key(), rng.below(4) == 0 ? Value() : Value("v" + std::to_string(t.ts) + "." + std::to_string(i)));
      }
      pending.push_back(std::move(t));
    } else if (op < 5 && !pending.empty()) {
      const size_t i = rng.below(pending.size());
      test::apply_txn(map, pending[i]);
      model.apply(pending[i]);
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (op == 5) {
      int64_t limit = next_ts - 1;
      for (const Txn& t : pending) limit = std::min(limit, t.ts - 1);
      if (limit > watermark) {
        watermark += static_cast<int64_t>(rng.below(static_cast<uint64_t>(limit - watermark) + 1));
        map.advance_watermark(watermark);
      }
    } else if (op == 6 && map.shard_count() < 12) {
      const std::string at = random_key();
      const auto bounds = map.lower_bounds();
      if (std::find(bounds.begin(), bounds.end(), at) == bounds.end()) map.split(at);
    } else if (op == 7 && watermark > 0 && rng.below(3) == 0) {
      const int64_t h = static_cast<int64_t>(rng.below(static_cast<uint64_t>(watermark) + 1));
      map.gc(h);
      horizon = std::max(horizon, h);
    } else if (watermark > 0) {
      const int64_t lo_ts = std::max<int64_t>(horizon, 0);
      if (lo_ts > watermark) continue;
      const int64_t ts = lo_ts + static_cast<int64_t>(rng.below(static_cast<uint64_t>(watermark - lo_ts) + 1));
      const MapView view = map.view(ts);
      std::vector<std::string> keys;
      for (int i = 0; i < 6; ++i) keys.push_back(random_key());
      std::vector<std::string_view> kv(keys.begin(), keys.end());
      std::vector<std::string_view> out(kv.size());
      view.get_many(kv.data(), kv.size(), out.data());
      for (size_t i = 0; i < keys.size(); ++i) {
        CHECK(test::from_view(out[i]) == model.get(keys[i], ts));
        CHECK(test::from_view(view.get(keys[i])) == model.get(keys[i], ts));
      }
      const std::string lo = rng.below(3) ? random_key() : std::string();
      const std::string hi = rng.below(3) ? random_key() : std::string();
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

DSQL_TEST(ShardMap, RandomOpsWithSplitsMatchModel) {
  for (uint64_t seed = 21; seed <= 28; ++seed) random_map_run(seed);
}

DSQL_TEST(ShardMap, ReadersDuringSplits) {
  RefModel model;
  std::vector<Txn> history;
  test::Rng rng(77);
  for (int i = 0; i < 6000; ++i) {
    Txn t{10 * (i + 1), {}};
    for (size_t w = 0, n = 1 + rng.below(4); w < n; ++w) {
      char k[24];
      std::snprintf(k, sizeof k, "k%05d", static_cast<int>(rng.below(5000)));
      t.writes.emplace_back(k, rng.below(5) == 0 ? Value() : Value("v" + std::to_string(t.ts)));
    }
    model.apply(t);
    history.push_back(std::move(t));
  }
  ShardMap map;
  std::atomic<bool> done{false};
  std::atomic<int64_t> mismatches{0};
  std::atomic<int64_t> checks{0};
  std::thread applier([&] {
    for (size_t i = 0; i < history.size(); i += 4) {
      for (size_t j = std::min(history.size(), i + 4); j-- > i;) test::apply_txn(map, history[j]);
      map.advance_watermark(history[std::min(history.size(), i + 4) - 1].ts);
      std::this_thread::yield();
      if (i % 400 == 0) {
        char at[24];
        std::snprintf(at, sizeof at, "k%05d", static_cast<int>((i * 37) % 5000));
        const auto bounds = map.lower_bounds();
        if (std::find(bounds.begin(), bounds.end(), at) == bounds.end()) map.split(at);
      }
    }
    done.store(true);
  });
  auto reader = [&](uint64_t seed) {
    test::Rng r(seed);
    while (!done.load()) {
      const int64_t ts = map.watermark() - static_cast<int64_t>(r.below(300));
      const MapView view = map.view(ts);
      const int a = static_cast<int>(r.below(5000));
      char lo[24];
      char hi[24];
      std::snprintf(lo, sizeof lo, "k%05d", a);
      std::snprintf(hi, sizeof hi, "k%05d", a + 1 + static_cast<int>(r.below(400)));
      size_t calls = 0;
      const bool reverse = r.below(2);
      auto got = test::scan_all(view, lo, hi, 1 + r.below(50), reverse, &calls);
      auto expect = model.range(lo, hi, ts);
      if (reverse) std::reverse(expect.begin(), expect.end());
      if (got != expect) mismatches.fetch_add(1);
      if (test::from_view(view.get(lo)) != model.get(lo, ts)) mismatches.fetch_add(1);
      checks.fetch_add(1);
    }
  };
  std::thread r1(reader, 1);
  std::thread r2(reader, 2);
  applier.join();
  r1.join();
  r2.join();
  CHECK_EQ(mismatches.load(), int64_t{0});
  CHECK(checks.load() > 50);
  CHECK(map.shard_count() > 5);
  std::printf("    %lld snapshot checks across %zu shards\n", static_cast<long long>(checks.load()),
              map.shard_count());
}

}  // namespace
}  // namespace dsql::storage
