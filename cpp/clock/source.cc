#include "clock/source.h"

#include <cassert>
#include <cstdlib>
#include <ctime>
#include <limits>

namespace dsql::clock {

std::string_view status_name(Status s) noexcept {
  switch (s) {
    case Status::kSynchronized:
      return "synchronized";
    case Status::kFreeRunning:
      return "free-running";
    case Status::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Reading make_reading(int64_t estimate_ns, int64_t bound_ns, Status status) noexcept {
  assert(bound_ns >= 0);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  Reading r;
  r.earliest_ns = estimate_ns < kMin + bound_ns ? kMin : estimate_ns - bound_ns;
  r.latest_ns = estimate_ns > kMax - bound_ns ? kMax : estimate_ns + bound_ns;
  r.status = status;
  assert(r.earliest_ns <= r.latest_ns);
  return r;
}

int64_t read_clock_ns(int clock_id) noexcept {
  timespec ts;
  if (clock_gettime(static_cast<clockid_t>(clock_id), &ts) != 0) std::abort();
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace dsql::clock
