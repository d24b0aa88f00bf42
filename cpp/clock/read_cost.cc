#include "clock/read_cost.h"

#include <cassert>
#include <ctime>

namespace dsql::clock {

double mean_read_cost_ns(Source& source, int64_t iterations) noexcept {
  assert(iterations > 0);
  int64_t sink = 0;
  const int64_t start = read_clock_ns(CLOCK_MONOTONIC);
  for (int64_t i = 0; i < iterations; ++i) sink ^= source.now().latest_ns;
  const int64_t elapsed = read_clock_ns(CLOCK_MONOTONIC) - start;
  asm volatile("" : : "r"(sink));  // keep the reads
  return static_cast<double>(elapsed) / static_cast<double>(iterations);
}

double mean_clock_gettime_ns(int64_t iterations) noexcept {
  assert(iterations > 0);
  int64_t sink = 0;
  const int64_t start = read_clock_ns(CLOCK_MONOTONIC);
  for (int64_t i = 0; i < iterations; ++i) sink ^= read_clock_ns(CLOCK_REALTIME);
  const int64_t elapsed = read_clock_ns(CLOCK_MONOTONIC) - start;
  asm volatile("" : : "r"(sink));
  return static_cast<double>(elapsed) / static_cast<double>(iterations);
}

}  // namespace dsql::clock
