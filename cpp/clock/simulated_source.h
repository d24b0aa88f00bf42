// A simulated clock for tests and deterministic simulation.
//
// True time is either set by hand (advance(), set_true_time()) or follows the machine's
// monotonic clock from a starting point (follow_real_time). What the source reports is
//
//   reported = true + offset + (true - drift_origin) * drift_ppb / 1e9
//
// with a settable bound and status. step() moves the reported time at once by a signed delta
// (a negative delta is a clock stepping back); freeze() holds the reported time still until
// unfreeze(), after which it jumps to where it would have been.
//
// Thread-safety: every method may be called concurrently; a mutex serialises them.
// Invariants: 1. bound_ns_ >= 0.  2. In manual mode true time never decreases.
#pragma once

#include <cstdint>
#include <mutex>

#include "clock/source.h"

namespace dsql::clock {

class SimulatedSource final : public Source {
 public:
  struct Options {
    int64_t start_ns = 0;  // true time at construction
    bool follow_real_time = false;
    int64_t bound_ns = 0;
    Status status = Status::kSynchronized;
  };

  explicit SimulatedSource(Options options);

  Reading now() noexcept override;
  std::string_view name() const noexcept override { return "simulated"; }

  int64_t true_time_ns();
  // REQUIRES: delta_ns >= 0.
  void advance(int64_t delta_ns);
  // REQUIRES: manual mode and ns >= the current true time.
  void set_true_time(int64_t ns);
  void set_offset(int64_t offset_ns);
  void step(int64_t delta_ns);
  void set_drift_ppb(int64_t drift_ppb);
  void freeze();
  void unfreeze();
  // REQUIRES: bound_ns >= 0.
  void set_bound(int64_t bound_ns);
  void set_status(Status status);

 private:
  int64_t true_locked() const noexcept;
  int64_t reported_locked() const noexcept;

  mutable std::mutex mu_;
  bool follow_real_time_;
  int64_t manual_true_ns_;
  int64_t real_base_mono_ns_;
  int64_t offset_ns_ = 0;
  int64_t drift_ppb_ = 0;
  int64_t drift_origin_ns_ = 0;
  bool frozen_ = false;
  int64_t frozen_at_ns_ = 0;
  int64_t bound_ns_;
  Status status_;
};

}  // namespace dsql::clock
