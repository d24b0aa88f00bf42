// Prepares the journal's next segment file ahead of need, in a background thread.
//
// Why: a record appended to a growing file makes its fdatasync also commit the file's new size
// (on ext4 a journal commit). Over blocks the file already has, fdatasync flushes data only
// (measured on ext4: a 150-byte write+fdatasync ~150 us appending, ~105 us over written zeros).
// So segments are created full size and written with zeros before any record goes in; not
// fallocate()d, which leaves unwritten extents whose first write into each block is again a
// metadata commit (4 KiB writes: ~150 us over fallocate'd blocks, ~105 us over written zeros).
//
// The spare is kSpareFileName in the journal directory: `bytes` zero bytes, fdatasync'ed when
// `sync`. take() hands it over (waiting while it is being prepared; preparing it in the calling
// thread when none is ready: at open, or after a failed attempt). The caller writes the new
// segment's header into it, renames it to the segment's name, syncs the directory, then calls
// request() so the next one is prepared in the background. The spare's own directory entry is
// never synced: only the rename must be durable, and a spare left by a crash is removed on open
// (recovery.h).
//
// Thread-safety: every method may be called from any thread; take() and request() by one
// thread at a time (the journal's leader, or open). Only the background thread, or take() with
// mu_ held, writes a spare being prepared.
// Invariants (under mu_):
//   1. At most one spare file exists, at spare_path(). ready_ == ready_fd_.valid(): the spare is
//      whole (and synced when sync) and nobody has taken it.
//   2. preparing_ is true only while the background thread writes the spare, with mu_ released.
//   3. After stop(), the background thread has exited and no spare prepared by it is left.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "journal/file_util.h"

namespace dsql::journal {

class SegmentPreparer {
 public:
  struct Counters {
    uint64_t prepared = 0;  // spares made whole
    uint64_t waits = 0;     // take() calls that had to wait for (or make) the spare
    uint64_t failures = 0;  // background attempts that failed (the next take() retries)
  };

  // Starts the background thread, idle until request(). REQUIRES: bytes >= the segment header.
  SegmentPreparer(std::string dir, uint64_t bytes, bool sync);
  ~SegmentPreparer();
  SegmentPreparer(const SegmentPreparer&) = delete;
  SegmentPreparer& operator=(const SegmentPreparer&) = delete;

  // The spare, whole and zero-filled, open read-write; its path is spare_path(). *waited says
  // whether it was not ready at once. Throws JournalError when it cannot be made.
  // REQUIRES: not stopped.
  UniqueFd take(bool* waited);
  // Has the next spare prepared in the background (after the last one was taken and renamed);
  // nothing more when one is ready or being prepared. REQUIRES: not stopped.
  void request();
  // Stops the thread (a spare being prepared is abandoned within one chunk) and removes an
  // untaken spare. Idempotent.
  void stop();

  // True when a spare is ready: take() would not wait.
  bool ready() const;
  // Waits at most timeout_ns for a spare to be ready; returns ready().
  bool wait_ready(int64_t timeout_ns) const;
  const std::string& spare_path() const { return spare_path_; }
  uint64_t bytes() const { return bytes_; }
  Counters counters() const;

 private:
  void run();
  // Creates (or truncates) the spare and fills it; invalid fd when stop_ cut it short.
  UniqueFd prepare() const;

  const std::string spare_path_;
  const uint64_t bytes_;
  const bool sync_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // request() or stop()
  mutable std::condition_variable done_cv_;  // preparing_ became false, or stopped
  bool wanted_ = false;              // GUARDED_BY(mu_)
  bool preparing_ = false;           // GUARDED_BY(mu_)
  bool ready_ = false;               // GUARDED_BY(mu_)
  UniqueFd ready_fd_;                // GUARDED_BY(mu_)
  Counters counters_;                // GUARDED_BY(mu_)
  std::atomic<bool> stop_{false};    // also read by write_zeros() between chunks
  std::thread thread_;
};

}  // namespace dsql::journal
