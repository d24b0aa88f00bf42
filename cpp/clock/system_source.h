// The system clock as a source: CLOCK_REALTIME, bounded by the kernel's own error estimate.
//
// The bound is adjtimex()'s maxerror: the kernel's worst-case error of CLOCK_REALTIME, which a
// time daemon (chrony, ntpd) sets and the kernel grows by 500 ppm of elapsed time between
// updates, capped at 16 s (NTP_PHASE_LIMIT). A clock no daemon disciplines (STA_UNSYNC set, or
// adjtimex() answering TIME_ERROR) reports status kUnknown with that bound: it is still a valid
// source, but callers must not take the bound as a promise.
//
// Cost: adjtimex() is a system call, so its answer is cached and re-read at most once per
// refresh interval; between refreshes the cached maxerror is grown at the kernel's own 500 ppm,
// so the reported bound never shrinks below what the kernel would say. A read is then one vDSO
// clock_gettime(CLOCK_REALTIME), one CLOCK_MONOTONIC_COARSE read and a seqlock load.
//
// Thread-safety: now() may be called from any number of threads. One of them at a time
// refreshes the cache (try-lock); the others keep reading the previous snapshot.
//
// Invariants:
//   1. seq_ is even whenever no refresh is writing; a reader that sees an odd or changed seq_
//      retries.
//   2. The cached maxerror_ns_ is in [0, kMaxErrorCapNs].
#pragma once

#include <atomic>
#include <cstdint>

#include "clock/source.h"

namespace dsql::clock {

// What adjtimex() tells about CLOCK_REALTIME.
struct KernelTimex {
  int64_t maxerror_ns = 0;
  int64_t esterror_ns = 0;
  bool synchronized = false;
};

// Reads the kernel's timex state; returns false when it cannot. Tests substitute their own.
using TimexReader = bool (*)(KernelTimex* out);
bool read_kernel_timex(KernelTimex* out) noexcept;

class SystemSource final : public Source {
 public:
  // The kernel caps maxerror here (NTP_PHASE_LIMIT, 16 s).
  static constexpr int64_t kMaxErrorCapNs = kUnvouchedBoundNs;
  // The kernel grows maxerror by this much per second without an update (MAXFREQ, 500 ppm).
  static constexpr int64_t kGrowthPpm = 500;

  struct Options {
    int64_t refresh_interval_ns = 100'000'000;
    TimexReader timex = &read_kernel_timex;
  };

  SystemSource() : SystemSource(Options{}) {}
  explicit SystemSource(Options options);

  Reading now() noexcept override;
  std::string_view name() const noexcept override { return "system"; }

  // Re-reads adjtimex() now, regardless of the interval (tests use it after changing a fake).
  void refresh() noexcept;

 private:
  Options options_;
  std::atomic<uint64_t> seq_{0};
  std::atomic<int64_t> maxerror_ns_{kMaxErrorCapNs};
  std::atomic<int64_t> refreshed_mono_ns_{0};
  std::atomic<uint8_t> status_{static_cast<uint8_t>(Status::kUnknown)};
  std::atomic<bool> refreshing_{false};
};

}  // namespace dsql::clock
