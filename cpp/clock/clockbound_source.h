// ClockBound as a source: the shared-memory segment that AWS's clock-bound daemon publishes.
//
// Segment layout (native endian; protocol versions 1 and 2; byte offsets):
//
//   segment    := header body
//   header     := magic:u8[8] = 41 4D 5A 4E 43 42 02 00     @0
//                 segment_size:u32                          @8
//                 version:u16 (1 or 2)                      @12
//                 generation:u16                            @14
//   body (v2)  := as_of:timespec  void_after:timespec       @16, @32  (CLOCK_MONOTONIC_COARSE)
//                 bound_ns:i64                              @48
//                 disruption_marker:u64                     @56
//                 max_drift_ppb:u32                         @64
//                 clock_status:i32                          @68
//                 disruption_support:u8                     @72
//   body (v1)  := as_of  void_after  bound_ns:i64  max_drift_ppb:u32 @56  reserved:u32 @60
//                 clock_status:i32 @64
//   timespec   := tv_sec:i64 tv_nsec:i64
//
// Generation protocol: the daemon makes generation odd before it writes and even after; it
// never wraps to 0. A reader copies the body between two loads of generation and keeps the copy
// only if both loads are equal, even and non-zero; otherwise it retries (a bounded number of
// times, then reports status kUnknown).
//
// What a reading means (the daemon's rules):
//   bound(now) = bound_ns + (mono_now - as_of) * max_drift_ppb / 1e9
//   [earliest, latest] = CLOCK_REALTIME -/+ bound(now)
//   status: 1 -> kSynchronized, 2 -> kFreeRunning, 0 and 3 (disrupted) -> kUnknown;
//   and kUnknown whenever mono_now > void_after (the daemon stopped updating: stale segment).
//
// Thread-safety: now() may be called concurrently; it only reads the mapping.
// Invariants: 1. the mapping is read-only and at least kMinSegmentBytes long.
//             2. version_ is 1 or 2 for the life of the object.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "clock/source.h"

namespace dsql::clock {

class ClockBoundSource final : public Source {
 public:
  static constexpr const char* kDefaultPath = "/var/run/clockbound/shm0";
  static constexpr size_t kMinSegmentBytes = 72;

  // Maps the segment at path. On failure returns nullptr and says why in *why.
  static std::unique_ptr<ClockBoundSource> open(const std::string& path, std::string* why);
  ~ClockBoundSource() override;

  Reading now() noexcept override;
  std::string_view name() const noexcept override { return "clockbound"; }
  int version() const noexcept { return version_; }

 private:
  ClockBoundSource(const uint8_t* base, size_t length, int version);

  struct Snapshot {
    int64_t as_of_ns;
    int64_t void_after_ns;
    int64_t bound_ns;
    uint32_t max_drift_ppb;
    int32_t status;
  };
  // Copies a consistent snapshot under the generation protocol; false if none could be had.
  bool load(Snapshot* out) const noexcept;

  const uint8_t* base_;
  size_t length_;
  int version_;
};

}  // namespace dsql::clock
