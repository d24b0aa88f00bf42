#include "clock/system_source.h"

#include <sys/timex.h>

#include <algorithm>
#include <cassert>
#include <ctime>

namespace dsql::clock {

bool read_kernel_timex(KernelTimex* out) noexcept {
  assert(out != nullptr);
  timex tx{};
  tx.modes = 0;  // read only
  const int state = adjtimex(&tx);
  if (state == -1) return false;
  out->maxerror_ns = static_cast<int64_t>(tx.maxerror) * 1000;
  out->esterror_ns = static_cast<int64_t>(tx.esterror) * 1000;
  out->synchronized = state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
  return true;
}

SystemSource::SystemSource(Options options) : options_(options) {
  assert(options_.refresh_interval_ns > 0);
  assert(options_.timex != nullptr);
  refresh();
}

void SystemSource::refresh() noexcept {
  KernelTimex tx;
  int64_t maxerror_ns = kMaxErrorCapNs;
  Status status = Status::kUnknown;
  if (options_.timex(&tx)) {
    maxerror_ns = std::clamp<int64_t>(tx.maxerror_ns, 0, kMaxErrorCapNs);
    status = tx.synchronized ? Status::kSynchronized : Status::kUnknown;
  }
  const int64_t mono_ns = read_clock_ns(CLOCK_MONOTONIC_COARSE);
  // Seqlock write: odd while the fields change (invariant 1).
  const uint64_t seq = seq_.load(std::memory_order_relaxed);
  assert(seq % 2 == 0);
  seq_.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  maxerror_ns_.store(maxerror_ns, std::memory_order_relaxed);
  refreshed_mono_ns_.store(mono_ns, std::memory_order_relaxed);
  status_.store(static_cast<uint8_t>(status), std::memory_order_relaxed);
  seq_.store(seq + 2, std::memory_order_release);
}

Reading SystemSource::now() noexcept {
  const int64_t real_ns = read_clock_ns(CLOCK_REALTIME);
  const int64_t mono_ns = read_clock_ns(CLOCK_MONOTONIC_COARSE);

  int64_t maxerror_ns = kMaxErrorCapNs;
  int64_t refreshed_ns = mono_ns;
  Status status = Status::kUnknown;
  // Bounded: a refresh writes four words, so a reader retries at most a handful of times.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint64_t before = seq_.load(std::memory_order_acquire);
    if (before % 2 != 0) continue;
    const int64_t m = maxerror_ns_.load(std::memory_order_relaxed);
    const int64_t r = refreshed_mono_ns_.load(std::memory_order_relaxed);
    const uint8_t s = status_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seq_.load(std::memory_order_relaxed) != before) continue;
    maxerror_ns = m;
    refreshed_ns = r;
    status = static_cast<Status>(s);
    break;
  }

  const int64_t age_ns = std::max<int64_t>(0, mono_ns - refreshed_ns);
  if (age_ns >= options_.refresh_interval_ns &&
      !refreshing_.exchange(true, std::memory_order_acquire)) {
    refresh();
    refreshing_.store(false, std::memory_order_release);
  }
  // Grow the cached bound as the kernel would between its own updates.
  const int64_t grown_ns =
      std::min(kMaxErrorCapNs, maxerror_ns + age_ns / 1'000'000 * kGrowthPpm);
  assert(grown_ns >= 0);
  return make_reading(real_ns, grown_ns, status);
}

}  // namespace dsql::clock
