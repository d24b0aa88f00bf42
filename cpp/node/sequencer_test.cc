// The sequencer kernel.
// Goal: the watermark never passes a commit that is decided but not finished, never goes back,
// and reaches every timestamp a reader asked for as soon as nothing older is in flight; the
// replay point never lies above a pending commit's lsn bound. Method: a fake adjudicator (a
// monotonic timestamp source with promises), fixed scenarios, a seeded random interleaving of
// decisions, journal acks, finishes and promises checked after every step, and concurrent
// committers. (tests/test_node_kernel.py also diffs this kernel against the Python reference.)
#include "node/sequencer.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "testing/unit.h"

namespace dsql::node {
namespace {

struct FakeAdjudicator {
  int64_t last = 100;
  int64_t promised = 100;
  int64_t decide() {
    last = std::max(last, promised) + 1;
    return last;
  }
  int64_t promise_through(int64_t ts) {
    promised = std::max(promised, ts);
    return promised;
  }
};

struct Fixture {
  FakeAdjudicator adj;
  uint64_t lsn = 1;
  Sequencer seq{100, [this] { return lsn; }, [this](int64_t ts) { return adj.promise_through(ts); }};

  int64_t decide() {
    return seq.decide([&] { return adj.decide(); });
  }
};

DSQL_TEST(Sequencer, ReaderBehindAnInFlightCommitIsServedWhenItFinishes) {
  Fixture f;
  const int64_t ts = f.decide();
  const int64_t reader = f.adj.last + 5;
  CHECK(!f.seq.promise(reader));
  CHECK(f.seq.watermark() < ts);
  CHECK_EQ(f.seq.in_flight(), size_t{1});
  f.seq.finish(ts);
  CHECK(f.seq.watermark() >= reader);  // promised by finish(), no timer involved
  CHECK_EQ(f.seq.in_flight(), size_t{0});
}

DSQL_TEST(Sequencer, IdlePromiseIsImmediate) {
  Fixture f;
  CHECK(f.seq.promise(500));
  CHECK_EQ(f.seq.watermark(), int64_t{500});
  CHECK_EQ(f.adj.promised, int64_t{500});
  CHECK(f.decide() > 500);
}

DSQL_TEST(Sequencer, NoCommitRegistersNothing) {
  Fixture f;
  const int64_t r = f.seq.decide([] { return Sequencer::kNoCommit; });
  CHECK_EQ(r, Sequencer::kNoCommit);
  CHECK_EQ(f.seq.in_flight(), size_t{0});
  CHECK_EQ(f.seq.watermark(), int64_t{100});
}

DSQL_TEST(Sequencer, ADecisionBelowAPromiseIsRefused) {
  Fixture f;
  CHECK(f.seq.promise(300));
  bool threw = false;
  try {
    f.seq.decide([] { return int64_t{200}; });
  } catch (const std::logic_error&) {
    threw = true;
  }
  CHECK(threw);
  CHECK_EQ(f.seq.in_flight(), size_t{0});
}

DSQL_TEST(Sequencer, ReplayPointIsTheLowestPendingLsn) {
  Fixture f;
  f.lsn = 7;
  const int64_t a = f.decide();
  f.lsn = 9;
  const int64_t b = f.decide();
  auto [w, lsn] = f.seq.replay_point();
  CHECK(w < a);
  CHECK_EQ(lsn, uint64_t{7});
  f.seq.journaled(a, 8);
  CHECK_EQ(f.seq.replay_point().second, uint64_t{8});
  f.seq.finish(b);  // a still in flight: the watermark stays below it
  CHECK(f.seq.watermark() < a);
  f.seq.finish(a);
  CHECK_EQ(f.seq.watermark(), b);
  f.lsn = 12;
  CHECK_EQ(f.seq.replay_point().second, uint64_t{12});  // nothing pending: the next lsn
}

DSQL_TEST(Sequencer, RandomInterleavingsKeepTheRules) {
  std::mt19937_64 rng(4242);
  for (int run = 0; run < 200; ++run) {
    Fixture f;
    std::set<int64_t> in_flight;    // decided, not finished
    std::set<int64_t> unjournaled;  // in flight, lsn not yet known
    int64_t wanted = 100;
    for (int step = 0; step < 150; ++step) {
      const int64_t before = f.seq.watermark();
      switch (rng() % 4) {
        case 0: {
          const int64_t ts = f.decide();
          CHECK(ts > before);
          in_flight.insert(ts);
          unjournaled.insert(ts);
          break;
        }
        case 1:
          if (!unjournaled.empty()) {
            f.seq.journaled(*unjournaled.begin(), ++f.lsn);
            unjournaled.erase(unjournaled.begin());
          }
          break;
        case 2:
          if (!in_flight.empty()) {
            auto it = in_flight.begin();
            std::advance(it, static_cast<long>(rng() % in_flight.size()));
            const int64_t ts = *it;
            in_flight.erase(it);
            unjournaled.erase(ts);
            CHECK_EQ(f.seq.finish(ts), f.seq.watermark());
          }
          break;
        default: {
          const int64_t ts = f.adj.last + static_cast<int64_t>(rng() % 20) - 5;
          const bool now = f.seq.promise(ts);
          CHECK_EQ(now, f.seq.watermark() >= ts);
          wanted = std::max(wanted, ts);
          break;
        }
      }
      const int64_t w = f.seq.watermark();
      CHECK(w >= before);                                         // never back
      if (!in_flight.empty()) CHECK(w < *in_flight.begin());       // never past in flight
      if (in_flight.empty() || *in_flight.begin() > wanted) CHECK(w >= wanted);  // no waiting
      CHECK_EQ(f.seq.in_flight(), in_flight.size());
    }
  }
}

DSQL_TEST(Sequencer, ConcurrentCommittersEndWithNothingInFlight) {
  std::atomic<int64_t> clock{100};
  std::atomic<int64_t> promised{100};
  Sequencer seq(100, [] { return uint64_t{1}; }, [&](int64_t ts) {
    int64_t p = promised.load();
    while (p < ts && !promised.compare_exchange_weak(p, ts)) {
    }
    return std::max(p, ts);
  });
  std::vector<std::thread> threads;
  std::atomic<bool> bad{false};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        const int64_t ts = seq.decide([&] {
          const int64_t next = std::max(clock.load(), promised.load()) + 1;
          clock.store(next);
          return next;
        });
        if (seq.watermark() >= ts) bad = true;  // in flight: never visible
        seq.finish(ts);
        seq.promise(clock.load());
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(!bad.load());
  CHECK_EQ(seq.in_flight(), size_t{0});
  CHECK_EQ(seq.watermark(), clock.load());
}

}  // namespace
}  // namespace dsql::node
