#include "clock/simulated_source.h"

#include <cassert>
#include <ctime>

namespace dsql::clock {

SimulatedSource::SimulatedSource(Options options)
    : follow_real_time_(options.follow_real_time),
      manual_true_ns_(options.start_ns),
      real_base_mono_ns_(read_clock_ns(CLOCK_MONOTONIC)),
      drift_origin_ns_(options.start_ns),
      bound_ns_(options.bound_ns),
      status_(options.status) {
  assert(bound_ns_ >= 0);
}

int64_t SimulatedSource::true_locked() const noexcept {
  if (!follow_real_time_) return manual_true_ns_;
  return manual_true_ns_ + (read_clock_ns(CLOCK_MONOTONIC) - real_base_mono_ns_);
}

int64_t SimulatedSource::reported_locked() const noexcept {
  const int64_t t = true_locked();
  const __int128 drift = static_cast<__int128>(t - drift_origin_ns_) * drift_ppb_ / 1'000'000'000;
  return t + offset_ns_ + static_cast<int64_t>(drift);
}

Reading SimulatedSource::now() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t reported = frozen_ ? frozen_at_ns_ : reported_locked();
  return make_reading(reported, bound_ns_, status_);
}

int64_t SimulatedSource::true_time_ns() {
  std::lock_guard<std::mutex> lock(mu_);
  return true_locked();
}

void SimulatedSource::advance(int64_t delta_ns) {
  assert(delta_ns >= 0);
  std::lock_guard<std::mutex> lock(mu_);
  manual_true_ns_ += delta_ns;
}

void SimulatedSource::set_true_time(int64_t ns) {
  std::lock_guard<std::mutex> lock(mu_);
  assert(!follow_real_time_);
  assert(ns >= manual_true_ns_);
  manual_true_ns_ = ns;
}

void SimulatedSource::set_offset(int64_t offset_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  offset_ns_ = offset_ns;
}

void SimulatedSource::step(int64_t delta_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  offset_ns_ += delta_ns;
}

void SimulatedSource::set_drift_ppb(int64_t drift_ppb) {
  std::lock_guard<std::mutex> lock(mu_);
  // Fold the drift accrued so far into the offset, then drift at the new rate from now.
  const int64_t t = true_locked();
  const __int128 drift = static_cast<__int128>(t - drift_origin_ns_) * drift_ppb_ / 1'000'000'000;
  offset_ns_ += static_cast<int64_t>(drift);
  drift_origin_ns_ = t;
  drift_ppb_ = drift_ppb;
}

void SimulatedSource::freeze() {
  std::lock_guard<std::mutex> lock(mu_);
  if (frozen_) return;
  frozen_at_ns_ = reported_locked();
  frozen_ = true;
}

void SimulatedSource::unfreeze() {
  std::lock_guard<std::mutex> lock(mu_);
  frozen_ = false;
}

void SimulatedSource::set_bound(int64_t bound_ns) {
  assert(bound_ns >= 0);
  std::lock_guard<std::mutex> lock(mu_);
  bound_ns_ = bound_ns;
}

void SimulatedSource::set_status(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
}

}  // namespace dsql::clock
