// The hybrid-logical clock: start and commit timestamps that never go backwards.
//
// Timestamps are int64 nanoseconds since the Unix epoch, like physical readings, so that a
// timestamp can be compared with a clock reading directly. next() returns
//
//   max(previous + 1, physical estimate)
//
// so within the process every timestamp handed out is unique and strictly greater than every
// earlier one, even when the physical source steps back (the logical part is the nanoseconds the
// clock runs ahead of physical time until physical time catches up). observe() folds in a
// timestamp seen elsewhere (another component's commit), so that later timestamps order after it.
//
// Thread-safety: all methods may be called concurrently; last_ is advanced with a CAS loop.
// Invariants:
//   1. last_ never decreases.
//   2. Every value next() returns is > every value returned or observed before it began.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "clock/source.h"

namespace dsql::clock {

class HybridClock {
 public:
  // REQUIRES: source != nullptr.
  explicit HybridClock(std::shared_ptr<Source> source);
  HybridClock(const HybridClock&) = delete;
  HybridClock& operator=(const HybridClock&) = delete;

  // A physical reading, passed through.
  Reading read() noexcept { return source_->now(); }
  // A fresh timestamp; see the file comment.
  int64_t next() noexcept;
  // A fresh timestamp that is also > floor_ns (a commit above its start and its promises).
  int64_t next_above(int64_t floor_ns) noexcept;
  // No timestamp handed out after this returns is <= ts_ns.
  void observe(int64_t ts_ns) noexcept;
  // The newest timestamp handed out or observed.
  int64_t last() const noexcept { return last_.load(std::memory_order_acquire); }

  // How often, and how far at most, the physical source was seen stepping back.
  uint64_t backward_steps() const noexcept { return backward_steps_.load(); }
  int64_t max_backward_ns() const noexcept { return max_backward_ns_.load(); }

  Source& source() noexcept { return *source_; }
  const std::shared_ptr<Source>& shared_source() const noexcept { return source_; }

 private:
  void note_physical(int64_t physical_ns) noexcept;

  std::shared_ptr<Source> source_;
  std::atomic<int64_t> last_{INT64_MIN};
  std::atomic<int64_t> last_physical_{INT64_MIN};
  std::atomic<uint64_t> backward_steps_{0};
  std::atomic<int64_t> max_backward_ns_{0};
};

}  // namespace dsql::clock
