// A PTP hardware clock (/dev/ptpN) as a source.
//
// The device is opened read-only and read with clock_gettime(FD_TO_CLOCKID(fd)), a system call
// (no vDSO), so a read costs about a microsecond. The PHC is taken to keep UTC, as the PHCs that
// cloud hypervisors and NICs expose to guests do (AWS ENA, ptp_kvm); a PHC kept in TAI needs
// its offset configured (tai_offset_ns), which is subtracted.
//
// What the bound is made of:
//   bound = device_bound + read_window
//   device_bound: what the machine exposes for this clock: the driver's phc_error_bound
//     attribute in sysfs (nanoseconds; the AWS ENA driver publishes it) when present, re-read
//     at most every refresh interval. When the machine exposes none, the system's own estimate
//     stands in (adjtimex maxerror, see system_source.h) and the status is kUnknown, since
//     nothing vouches for the PHC itself.
//   read_window: half the CLOCK_MONOTONIC_RAW time the read took, since the PHC value belongs
//     somewhere inside that window.
// Status: kSynchronized when the device exposes a bound; a failed read reports kUnknown with
// the unvouched bound.
//
// Thread-safety: now() may be called concurrently; the cached device bound is an atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "clock/source.h"
#include "clock/system_source.h"

namespace dsql::clock {

class PtpSource final : public Source {
 public:
  struct Options {
    // sysfs file holding the device's error bound in ns; empty: derived from the device path
    // (/sys/class/ptp/<ptpN>/device/phc_error_bound). "none" disables the lookup.
    std::string error_bound_path;
    int64_t tai_offset_ns = 0;
    int64_t refresh_interval_ns = 1'000'000'000;
  };

  // Opens the device. On failure returns nullptr and says why in *why.
  static std::unique_ptr<PtpSource> open(const std::string& device_path, Options options,
                                         std::string* why);
  ~PtpSource() override;

  Reading now() noexcept override;
  std::string_view name() const noexcept override { return "ptp"; }
  const std::string& device_path() const noexcept { return device_path_; }

 private:
  PtpSource(int fd, std::string device_path, Options options);
  // The device bound in ns, or -1 when the machine exposes none.
  int64_t device_bound_ns() noexcept;

  int fd_;
  int clock_id_;
  std::string device_path_;
  Options options_;
  SystemSource system_;  // the system's estimate, used when the device exposes no bound
  std::atomic<int64_t> cached_bound_ns_{-1};
  std::atomic<int64_t> cached_at_mono_ns_{INT64_MIN};
};

}  // namespace dsql::clock
