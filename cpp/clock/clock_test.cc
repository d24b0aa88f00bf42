// Clock sources and the hybrid-logical clock.
// Goal: every source reports a sound interval and the right status under good and bad
// conditions, and timestamps never go backwards. Method: fakes for what the machine provides
// (a file laid out as a ClockBound segment, an adjtimex stand-in, paths that are not PTP clocks)
// and a simulated source driven through steps back, drift and freezes.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "clock/clockbound_source.h"
#include "clock/hybrid_clock.h"
#include "clock/ptp_source.h"
#include "clock/select.h"
#include "clock/simulated_source.h"
#include "clock/system_source.h"
#include "testing/unit.h"

namespace dsql::clock {
namespace {

// ---- system source with a fake adjtimex ---------------------------------------------------
KernelTimex g_fake_timex;
bool g_fake_timex_ok = true;
bool fake_timex(KernelTimex* out) {
  *out = g_fake_timex;
  return g_fake_timex_ok;
}

SystemSource::Options fake_options() {
  SystemSource::Options opt;
  opt.timex = &fake_timex;
  opt.refresh_interval_ns = 1'000'000'000'000;  // only explicit refresh() in these tests
  return opt;
}

DSQL_TEST(SystemSource, SynchronizedReportsKernelBound) {
  g_fake_timex = KernelTimex{2'000'000, 1000, true};
  g_fake_timex_ok = true;
  SystemSource src(fake_options());
  const int64_t before = read_clock_ns(CLOCK_REALTIME);
  const Reading r = src.now();
  const int64_t after = read_clock_ns(CLOCK_REALTIME);
  CHECK(r.status == Status::kSynchronized);
  CHECK(r.bound_ns() >= 2'000'000);
  CHECK(r.bound_ns() < 3'000'000);
  CHECK(r.estimate_ns() >= before && r.estimate_ns() <= after);
  CHECK(r.earliest_ns <= r.latest_ns);
}

DSQL_TEST(SystemSource, UnsyncedKernelIsUnknownButValid) {
  g_fake_timex = KernelTimex{16'000'000'000, 16'000'000'000, false};
  g_fake_timex_ok = true;
  SystemSource src(fake_options());
  const Reading r = src.now();
  CHECK(r.status == Status::kUnknown);
  CHECK_EQ(r.bound_ns(), int64_t{16'000'000'000});
}

DSQL_TEST(SystemSource, UnreadableTimexIsUnknownWithCap) {
  g_fake_timex_ok = false;
  SystemSource src(fake_options());
  const Reading r = src.now();
  CHECK(r.status == Status::kUnknown);
  CHECK_EQ(r.bound_ns(), SystemSource::kMaxErrorCapNs);
  g_fake_timex_ok = true;
}

DSQL_TEST(SystemSource, StatusTransitionsOnRefresh) {
  g_fake_timex = KernelTimex{1'000'000, 0, true};
  g_fake_timex_ok = true;
  SystemSource src(fake_options());
  CHECK(src.now().status == Status::kSynchronized);
  g_fake_timex.synchronized = false;
  CHECK(src.now().status == Status::kSynchronized);  // cached until the next refresh
  src.refresh();
  CHECK(src.now().status == Status::kUnknown);
  g_fake_timex.synchronized = true;
  g_fake_timex.maxerror_ns = 5'000'000;
  src.refresh();
  const Reading r = src.now();
  CHECK(r.status == Status::kSynchronized);
  CHECK(r.bound_ns() >= 5'000'000);
}

DSQL_TEST(SystemSource, RealKernelReadingIsSound) {
  SystemSource src;
  for (int i = 0; i < 1000; ++i) {
    const Reading r = src.now();
    CHECK(r.earliest_ns <= r.latest_ns);
    CHECK(r.bound_ns() <= SystemSource::kMaxErrorCapNs);
  }
}

// ---- ClockBound with a file laid out as a segment ----------------------------------------
struct FakeSegment {
  std::string path;
  uint8_t bytes[80] = {};

  explicit FakeSegment(int version) {
    char tmpl[] = "/tmp/dsql-clockbound-XXXXXX";
    const int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
    const uint8_t magic[8] = {0x41, 0x4D, 0x5A, 0x4E, 0x43, 0x42, 0x02, 0x00};
    std::memcpy(bytes, magic, 8);
    put<uint32_t>(8, 80);
    put<uint16_t>(12, static_cast<uint16_t>(version));
    put<uint16_t>(14, 2);
  }
  ~FakeSegment() { unlink(path.c_str()); }

  template <typename T>
  void put(size_t off, T v) { std::memcpy(bytes + off, &v, sizeof v); }
  void put_timespec(size_t off, int64_t ns) {
    put<int64_t>(off, ns / 1'000'000'000);
    put<int64_t>(off + 8, ns % 1'000'000'000);
  }
  // v2 body; as_of and void_after relative to CLOCK_MONOTONIC_COARSE now.
  void body_v2(int64_t as_of_ago_ns, int64_t void_in_ns, int64_t bound, uint32_t ppb, int32_t st) {
    const int64_t mono = read_clock_ns(CLOCK_MONOTONIC_COARSE);
    put_timespec(16, mono - as_of_ago_ns);
    put_timespec(32, mono + void_in_ns);
    put<int64_t>(48, bound);
    put<uint32_t>(64, ppb);
    put<int32_t>(68, st);
  }
  void body_v1(int64_t bound, uint32_t ppb, int32_t st) {
    const int64_t mono = read_clock_ns(CLOCK_MONOTONIC_COARSE);
    put_timespec(16, mono);
    put_timespec(32, mono + 10'000'000'000);
    put<int64_t>(48, bound);
    put<uint32_t>(56, ppb);
    put<int32_t>(64, st);
  }
  // Rewrites the whole file in place (the mapping sees the change).
  void flush() {
    FILE* f = std::fopen(path.c_str(), "r+b");
    REQUIRE(f != nullptr);
    REQUIRE(std::fwrite(bytes, 1, sizeof bytes, f) == sizeof bytes);
    std::fclose(f);
  }
};

DSQL_TEST(ClockBound, SynchronizedSegment) {
  FakeSegment seg(2);
  seg.body_v2(0, 10'000'000'000, 50'000, 0, 1);
  seg.flush();
  std::string why;
  auto src = ClockBoundSource::open(seg.path, &why);
  REQUIRE(src != nullptr);
  CHECK_EQ(src->version(), 2);
  const Reading r = src->now();
  CHECK(r.status == Status::kSynchronized);
  CHECK_EQ(r.bound_ns(), int64_t{50'000});
}

DSQL_TEST(ClockBound, BoundGrowsWithDriftSinceAsOf) {
  FakeSegment seg(2);
  seg.body_v2(2'000'000'000, 10'000'000'000, 1000, 1'000'000, 1);  // 1000 ppm, 2 s ago
  seg.flush();
  std::string why;
  auto src = ClockBoundSource::open(seg.path, &why);
  REQUIRE(src != nullptr);
  const int64_t bound = src->now().bound_ns();
  CHECK(bound >= 1000 + 2'000'000);
  CHECK(bound < 1000 + 2'200'000);
}

DSQL_TEST(ClockBound, StatusTransitionsAndStaleness) {
  FakeSegment seg(2);
  seg.body_v2(0, 10'000'000'000, 1000, 0, 1);
  seg.flush();
  std::string why;
  auto src = ClockBoundSource::open(seg.path, &why);
  REQUIRE(src != nullptr);
  CHECK(src->now().status == Status::kSynchronized);
  seg.body_v2(0, 10'000'000'000, 1000, 0, 2);
  seg.flush();
  CHECK(src->now().status == Status::kFreeRunning);
  seg.body_v2(0, 10'000'000'000, 1000, 0, 3);  // disrupted
  seg.flush();
  CHECK(src->now().status == Status::kUnknown);
  seg.body_v2(20'000'000'000, -1'000'000'000, 1000, 0, 1);  // void_after is in the past
  seg.flush();
  CHECK(src->now().status == Status::kUnknown);
  seg.body_v2(0, 10'000'000'000, 1000, 0, 1);
  seg.flush();
  CHECK(src->now().status == Status::kSynchronized);
}

DSQL_TEST(ClockBound, OddGenerationMeansWriteInProgress) {
  FakeSegment seg(2);
  seg.body_v2(0, 10'000'000'000, 1000, 0, 1);
  seg.put<uint16_t>(14, 7);
  seg.flush();
  std::string why;
  auto src = ClockBoundSource::open(seg.path, &why);
  REQUIRE(src != nullptr);
  const Reading r = src->now();
  CHECK(r.status == Status::kUnknown);
  CHECK_EQ(r.bound_ns(), kUnvouchedBoundNs);
}

DSQL_TEST(ClockBound, VersionOneLayout) {
  FakeSegment seg(1);
  seg.body_v1(7000, 0, 1);
  seg.flush();
  std::string why;
  auto src = ClockBoundSource::open(seg.path, &why);
  REQUIRE(src != nullptr);
  CHECK_EQ(src->version(), 1);
  CHECK(src->now().status == Status::kSynchronized);
  CHECK_EQ(src->now().bound_ns(), int64_t{7000});
}

DSQL_TEST(ClockBound, RejectsBadSegments) {
  std::string why;
  CHECK(ClockBoundSource::open("/nonexistent/clockbound/shm0", &why) == nullptr);
  CHECK(why.find("cannot open") != std::string::npos);
  FakeSegment seg(2);
  seg.bytes[0] = 'X';
  seg.flush();
  CHECK(ClockBoundSource::open(seg.path, &why) == nullptr);
  CHECK(why.find("magic") != std::string::npos);
  FakeSegment v9(9);
  v9.flush();
  CHECK(ClockBoundSource::open(v9.path, &why) == nullptr);
  CHECK(why.find("version 9") != std::string::npos);
}

// ---- PTP and selection -----------------------------------------------------------------
DSQL_TEST(Ptp, UnopenableAndNonPtpPathsAreRefused) {
  std::string why;
  CHECK(PtpSource::open("/nonexistent/ptp0", {}, &why) == nullptr);
  CHECK(why.find("cannot open") != std::string::npos);
  CHECK(PtpSource::open("/dev/null", {}, &why) == nullptr);
  CHECK(why.find("not a readable PTP clock") != std::string::npos);
}

DSQL_TEST(Select, FallsBackToSystemAndSaysWhy) {
  ClockConfig config;
  config.source = "ptp";
  config.ptp_path = "/nonexistent/ptp0";
  const Selection sel = select_source(config);
  CHECK(sel.source->name() == "system");
  REQUIRE(sel.log.size() == 2);
  CHECK(sel.log[0].find("ptp: cannot open /nonexistent/ptp0") == 0);
  CHECK(sel.log[1].find("system: using") == 0);
}

DSQL_TEST(Select, StrictExplicitSourceFails) {
  ClockConfig config;
  config.source = "clockbound";
  config.clockbound_path = "/nonexistent/shm0";
  config.strict = true;
  bool threw = false;
  try {
    select_source(config);
  } catch (const ClockConfigError&) {
    threw = true;
  }
  CHECK(threw);
  config.source = "sundial";
  config.strict = false;
  threw = false;
  try {
    select_source(config);
  } catch (const ClockConfigError&) {
    threw = true;
  }
  CHECK(threw);
}

DSQL_TEST(Select, AutoPicksClockBoundWhenPresent) {
  FakeSegment seg(2);
  seg.body_v2(0, 10'000'000'000, 1000, 0, 1);
  seg.flush();
  ClockConfig config;
  config.clockbound_path = seg.path;
  const Selection sel = select_source(config);
  CHECK(sel.source->name() == "clockbound");
}

// ---- simulated source and the hybrid clock ----------------------------------------------
SimulatedSource::Options manual_at(int64_t start_ns) {
  SimulatedSource::Options opt;
  opt.start_ns = start_ns;
  return opt;
}

DSQL_TEST(Simulated, OffsetStepDriftFreeze) {
  SimulatedSource sim(manual_at(1'000'000'000));
  CHECK_EQ(sim.now().estimate_ns(), int64_t{1'000'000'000});
  sim.advance(500);
  CHECK_EQ(sim.now().estimate_ns(), int64_t{1'000'000'500});
  sim.step(-1000);
  CHECK_EQ(sim.now().estimate_ns(), int64_t{999'999'500});
  sim.set_offset(0);
  sim.set_drift_ppb(1'000'000);  // 1 ms per s
  sim.advance(1'000'000'000);
  CHECK_EQ(sim.now().estimate_ns(), int64_t{2'000'000'500} + 1'000'000);
  sim.freeze();
  sim.advance(5'000);
  CHECK_EQ(sim.now().estimate_ns(), int64_t{2'000'000'500} + 1'000'000);
  sim.unfreeze();
  CHECK(sim.now().estimate_ns() > int64_t{2'000'000'500} + 1'000'000 + 5'000);
  sim.set_bound(42);
  sim.set_status(Status::kFreeRunning);
  CHECK_EQ(sim.now().bound_ns(), int64_t{42});
  CHECK(sim.now().status == Status::kFreeRunning);
}

DSQL_TEST(Hybrid, NeverGoesBackwardsWhenPhysicalStepsBack) {
  auto sim = std::make_shared<SimulatedSource>(manual_at(10'000));
  HybridClock hlc(sim);
  int64_t prev = hlc.next();
  CHECK_EQ(prev, int64_t{10'000});
  sim->step(-5'000);
  for (int i = 0; i < 100; ++i) {
    const int64_t t = hlc.next();
    CHECK(t > prev);
    prev = t;
  }
  CHECK(hlc.backward_steps() >= 1);
  CHECK_EQ(hlc.max_backward_ns(), int64_t{5'000});
  sim->advance(100'000);  // physical passes the logical run-ahead again
  CHECK_EQ(hlc.next(), int64_t{105'000});
}

DSQL_TEST(Hybrid, ObserveAndFloor) {
  auto sim = std::make_shared<SimulatedSource>(manual_at(1'000));
  HybridClock hlc(sim);
  hlc.observe(50'000);
  CHECK_EQ(hlc.next(), int64_t{50'001});
  CHECK_EQ(hlc.next_above(90'000), int64_t{90'001});
  CHECK_EQ(hlc.last(), int64_t{90'001});
  hlc.observe(10);  // older than last: no effect
  CHECK_EQ(hlc.last(), int64_t{90'001});
}

DSQL_TEST(Hybrid, UniqueAcrossThreads) {
  auto sim = std::make_shared<SimulatedSource>(manual_at(0));  // frozen physical time
  HybridClock hlc(sim);
  constexpr int kThreads = 4;
  constexpr int kEach = 20'000;
  std::vector<std::vector<int64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      int64_t prev = INT64_MIN;
      for (int i = 0; i < kEach; ++i) {
        const int64_t ts = hlc.next();
        CHECK(ts > prev);
        prev = ts;
        got[t].push_back(ts);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<int64_t> all;
  for (auto& v : got) all.insert(v.begin(), v.end());
  CHECK_EQ(all.size(), size_t{kThreads * kEach});
}

}  // namespace
}  // namespace dsql::clock
