// Measures what a clock read costs, in C++, for `dsql clock` and `dsql bench clock`.
//
// Thread-safety: the functions only read clocks; call them from any thread.
#pragma once

#include <cstdint>

#include "clock/source.h"

namespace dsql::clock {

// Mean nanoseconds per source.now() over `iterations` back-to-back reads.
// REQUIRES: iterations > 0.
double mean_read_cost_ns(Source& source, int64_t iterations) noexcept;

// The floor to compare with: mean nanoseconds per bare clock_gettime(CLOCK_REALTIME).
// REQUIRES: iterations > 0.
double mean_clock_gettime_ns(int64_t iterations) noexcept;

}  // namespace dsql::clock
