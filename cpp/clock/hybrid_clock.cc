#include "clock/hybrid_clock.h"

#include <cassert>
#include <limits>

namespace dsql::clock {

HybridClock::HybridClock(std::shared_ptr<Source> source) : source_(std::move(source)) {
  assert(source_ != nullptr);
}

void HybridClock::note_physical(int64_t physical_ns) noexcept {
  const int64_t prev = last_physical_.exchange(physical_ns, std::memory_order_relaxed);
  if (prev != INT64_MIN && physical_ns < prev) {
    backward_steps_.fetch_add(1, std::memory_order_relaxed);
    const int64_t back = prev - physical_ns;
    int64_t seen = max_backward_ns_.load(std::memory_order_relaxed);
    while (back > seen && !max_backward_ns_.compare_exchange_weak(seen, back)) {
    }
  }
}

int64_t HybridClock::next_above(int64_t floor_ns) noexcept {
  const int64_t physical = source_->now().estimate_ns();
  note_physical(physical);
  int64_t prev = last_.load(std::memory_order_acquire);
  int64_t candidate;
  do {
    assert(prev < std::numeric_limits<int64_t>::max());
    candidate = prev + 1;
    if (physical > candidate) candidate = physical;
    if (floor_ns != std::numeric_limits<int64_t>::min() && candidate <= floor_ns) {
      candidate = floor_ns + 1;
    }
  } while (!last_.compare_exchange_weak(prev, candidate, std::memory_order_acq_rel));
  assert(candidate > prev && candidate > floor_ns);
  return candidate;
}

int64_t HybridClock::next() noexcept { return next_above(std::numeric_limits<int64_t>::min()); }

void HybridClock::observe(int64_t ts_ns) noexcept {
  int64_t prev = last_.load(std::memory_order_acquire);
  while (ts_ns > prev && !last_.compare_exchange_weak(prev, ts_ns, std::memory_order_acq_rel)) {
  }
  assert(last_.load() >= ts_ns);
}

}  // namespace dsql::clock
