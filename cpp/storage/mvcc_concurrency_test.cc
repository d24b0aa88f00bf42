// Concurrent readers against one applier.
// Goal: with applies arriving out of commit_ts order, watermark advances, index growth and GC
// rebuilds all happening concurrently, every read equals the reference model's answer at its
// snapshot, and a snapshot keeps giving the same answers while the store changes under it.
// Method: precompute a history and its RefModel (read-only, shared). One applier thread
// applies it in shuffled windows above the watermark, advances the watermark after each
// window and GCs now and then; reader threads pick snapshots (some above the watermark, so they
// wait), and check gets, batch gets and resumed scans against the model, then re-check the
// first answer at the end of the snapshot's life.
#include <algorithm>
#include <atomic>
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

std::string key_of(uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "k%06llu", static_cast<unsigned long long>(i));
  return buf;
}

std::vector<Txn> make_history(size_t txns, uint64_t key_space, uint64_t seed) {
  test::Rng rng(seed);
  std::vector<Txn> out;
  for (size_t i = 0; i < txns; ++i) {
    Txn t{static_cast<int64_t>(10 * (i + 1)), {}};
    const size_t n = 1 + rng.below(6);
    for (size_t w = 0; w < n; ++w) {
      t.writes.emplace_back(key_of(rng.below(key_space)),
                            rng.below(5) == 0 ? Value() : Value("v" + std::to_string(t.ts) + "-" + std::to_string(w)));
    }
    out.push_back(std::move(t));
  }
  return out;
}

DSQL_TEST(MvccConcurrency, ReadersAtFixedSnapshotsWhileApplying) {
  const uint64_t key_space = 20000;
  const std::vector<Txn> history = make_history(20000, key_space, 99);
  RefModel model;
  for (const Txn& t : history) model.apply(t);
  const int64_t last_ts = history.back().ts;

  MvccStore store;
  std::atomic<bool> done{false};
  std::atomic<int64_t> checks{0};
  std::atomic<int64_t> mismatches{0};
  std::atomic<int64_t> too_old{0};
  std::atomic<int64_t> waited{0};

  std::thread applier([&] {
    test::Rng rng(5);
    const size_t window = 8;
    for (size_t base = 0; base < history.size(); base += window) {
      std::vector<size_t> order;
      for (size_t i = base; i < std::min(history.size(), base + window); ++i) order.push_back(i);
      for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
      for (size_t i : order) test::apply_txn(store, history[i]);
      store.advance_watermark(history[order.empty() ? base : std::min(history.size(), base + window) - 1].ts);
      if ((base / window) % 100 == 99) store.gc(store.watermark() - 2000);
      if ((base / window) % 4 == 0) std::this_thread::yield();
    }
    done.store(true);
  });

  auto reader = [&](uint64_t seed) {
    test::Rng rng(seed);
    while (!done.load()) {
      const int64_t wm = store.watermark();
      // Mostly settled snapshots near the watermark; sometimes one just above it (waits).
      int64_t ts = wm - static_cast<int64_t>(rng.below(1000));
      if (rng.below(8) == 0) ts = std::min(last_ts, wm + 1 + static_cast<int64_t>(rng.below(50)));
      if (ts > wm) waited.fetch_add(1);
      try {
        const ReadView view = store.view(ts);
        const std::string first_key = key_of(rng.below(key_space));
        const Value first = test::from_view(view.get(first_key));
        if (first != model.get(first_key, ts)) mismatches.fetch_add(1);
        std::vector<std::string> keys;
        for (int i = 0; i < 32; ++i) keys.push_back(key_of(rng.below(key_space)));
        std::vector<std::string_view> kv(keys.begin(), keys.end());
        std::vector<std::string_view> out(kv.size());
        view.get_many(kv.data(), kv.size(), out.data());
        for (size_t i = 0; i < keys.size(); ++i) {
          if (test::from_view(out[i]) != model.get(keys[i], ts)) mismatches.fetch_add(1);
        }
        const uint64_t a = rng.below(key_space);
        const std::string lo = key_of(a);
        const std::string hi = key_of(a + 1 + rng.below(60));
        const bool reverse = rng.below(2);
        size_t calls = 0;
        auto got = test::scan_all(view, lo, hi, 1 + rng.below(7), reverse, &calls);
        auto expect = model.range(lo, hi, ts);
        if (reverse) std::reverse(expect.begin(), expect.end());
        if (got != expect) mismatches.fetch_add(1);
        // The snapshot still answers the same after everything applied meanwhile.
        if (test::from_view(view.get(first_key)) != first) mismatches.fetch_add(1);
        checks.fetch_add(1);
      } catch (const SnapshotTooOld&) {
        too_old.fetch_add(1);  // a GC passed the snapshot before the view was taken: allowed
      }
    }
  };
  std::vector<std::thread> readers;
  for (uint64_t r = 0; r < 3; ++r) readers.emplace_back(reader, 1000 + r);
  applier.join();
  for (auto& t : readers) t.join();

  CHECK_EQ(mismatches.load(), int64_t{0});
  CHECK(checks.load() > 100);
  CHECK(too_old.load() * 10 < checks.load());
  std::printf("    %lld snapshot checks (%lld waited for the watermark), %lld too old\n",
              static_cast<long long>(checks.load()), static_cast<long long>(waited.load()),
              static_cast<long long>(too_old.load()));
  // Final state equals the model everywhere.
  const ReadView view = store.view(last_ts);
  int64_t wrong = 0;
  for (uint64_t k = 0; k < key_space; ++k) {
    if (test::from_view(view.get(key_of(k))) != model.get(key_of(k), last_ts)) ++wrong;
  }
  CHECK_EQ(wrong, int64_t{0});
}

}  // namespace
}  // namespace dsql::storage
