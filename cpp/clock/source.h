// Clock sources: where physical time and its error bound come from.
//
// A Source answers now() with an interval [earliest_ns, latest_ns] (nanoseconds since the Unix
// epoch, UTC) that contains true time, a status saying how far that interval can be trusted,
// and, through name(), which source produced it. Sources, in the order the selector tries them
// (select.h): ClockBound shared memory, a PTP hardware clock, the system clock; a simulated
// source exists for tests.
//
// Thread-safety: every Source's now() may be called concurrently from any number of threads.
//
// Invariants of every Reading returned by now():
//   1. earliest_ns <= latest_ns.
//   2. The estimate (the midpoint) is the source's best value for the current time.
//   3. status == kUnknown whenever the source cannot vouch for the bound (stale data, a clock no
//      daemon disciplines, a disrupted clock); the bound is then the best the source knows.
#pragma once

#include <cstdint>
#include <string_view>

namespace dsql::clock {

enum class Status : uint8_t {
  kUnknown = 0,       // the bound cannot be vouched for; callers decide what that means
  kSynchronized = 1,  // a daemon keeps the clock within the bound
  kFreeRunning = 2,   // the daemon lost its reference; the bound grows with the maximum drift
};

std::string_view status_name(Status s) noexcept;

// The bound reported when a source knows nothing better: the kernel's own cap on its error
// estimate (NTP_PHASE_LIMIT, 16 s).
inline constexpr int64_t kUnvouchedBoundNs = 16'000'000'000;

struct Reading {
  int64_t earliest_ns = 0;
  int64_t latest_ns = 0;
  Status status = Status::kUnknown;

  int64_t estimate_ns() const noexcept { return earliest_ns + (latest_ns - earliest_ns) / 2; }
  int64_t bound_ns() const noexcept { return (latest_ns - earliest_ns) / 2; }
};

// Builds a Reading from a point estimate and a symmetric error bound; saturates instead of
// overflowing. REQUIRES: bound_ns >= 0.
Reading make_reading(int64_t estimate_ns, int64_t bound_ns, Status status) noexcept;

class Source {
 public:
  virtual ~Source() = default;
  Source() = default;
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  virtual Reading now() noexcept = 0;
  // A stable short name: "clockbound", "ptp", "system", "simulated".
  virtual std::string_view name() const noexcept = 0;
};

// Nanoseconds from a clock_gettime() clock id; aborts if the clock cannot be read (the ids used
// with it are ones the kernel always provides).
int64_t read_clock_ns(int clock_id) noexcept;

}  // namespace dsql::clock
