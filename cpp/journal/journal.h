// The journal: the durable, ordered log of committed transactions, with group commit.
//
// A directory of segment files (format in format.cc and docs/journal-format.md). append() frames
// a transaction's writes as one record, gives it the next lsn, and returns only once the record
// is durable: written and fdatasync'ed (Durability::kFdatasync, the default), or just written
// (Durability::kUnsafeNoSync, for tests and benchmarks: a power loss can lose acknowledged
// records).
//
// Group commit. Appenders queue in lsn order. The appender at the front of the queue is the
// leader: it takes a batch from the front (bounded by batch_records_max, batch_bytes_max and the
// room left in the segment), writes it and makes it durable (below), publishes the new durable end, wakes the batch's appenders and hands leadership to the new
// front. Appenders that arrive while a batch is being synced wait and form the next batch, so N
// concurrent committers share roughly one disk flush per batch instead of one each. A leader may
// also wait up to group_wait_ns for a fuller batch. At most queue_records_max appenders are
// queued; later ones wait for room before taking an lsn.
//
// Segments roll over before a batch that would take the active segment past segment_bytes (a
// single record larger than that gets a segment to itself); the new file is created, its header
// synced, and the directory synced before any record goes into it. drop_through(lsn) removes
// whole sealed segments whose records are all <= lsn, oldest first, then syncs the directory.
//
// Preallocation (on by default with fdatasync durability). Every segment file is created
// segment_bytes long and written full of zeros before a record goes in, and records are written
// (pwritev) at the segment's logical end, so a batch's fdatasync flushes data only: the file's
// size and blocks do not change. A background SegmentPreparer (segment_preparer.h) makes the
// next segment's file ahead of need, so a rollover only writes a header into it and renames it;
// a committer waits for zero-filling only if a whole segment fills before its successor is
// ready (Stats::rollover_waits). Recovery reads a segment's zero tail as its clean end
// (format.cc). Open never waits for zero-filling: a new journal's first segment is created
// with just its header, and the active segment may be shorter than segment_bytes (cut by
// recovery, or written without preallocation); records then grow the file until the spare is
// ready, and the leader moves to the spare at the first batch that would run past the zero-filled
// part of the file (a segment may end before segment_bytes).
//
// Direct writes (Options::direct_writes, on by default; kFdatasync only). The leader writes a
// batch with one pwrite through a second descriptor on the active segment, opened
// O_DIRECT|O_DSYNC (direct_writer.h): the file's last partial block, then the batch, zero-padded
// to a block boundary, in one aligned write that returns once the bytes are on stable storage,
// so no fdatasync follows. Everything else (headers, recovery, cursors) uses buffered
// descriptors; a direct write invalidates the page cache over the blocks it covers before it
// returns, and a cursor reads only bytes below the durable end published after that, so it never
// sees stale cached bytes (nothing maps a segment file). A segment whose filesystem refuses
// O_DIRECT (open, or its first direct write, fails with EINVAL) is written with pwritev +
// fdatasync instead (Stats::direct_fallbacks); the next segment tries again. The bytes in the
// files are the same either way; only the padded block end may make a file longer than
// segment_bytes (by less than a block) or than its records (a growing file is extended with
// zeros to the block end, which recovery reads as the clean end).
//
// Open runs recovery (recovery.h): the journal keeps its valid prefix and appends after it;
// recovery() says what was found and cut. A LOCK file in the directory, held with flock(), keeps
// a second Journal (in this or another process) from opening the same directory.
//
// Thread-safety: append, wait_durable, drop_through, segments, stats and the accessors may be
// called concurrently from any threads. Cursors read durable records concurrently with appends
// (each Cursor is used by one thread at a time). close() may be called from any thread; it
// lets queued appends finish, then fails later ones with JournalError.
// Invariants (under mu_):
//   1. Records are in the files in lsn order, lsns consecutive from first_lsn(); the queue holds
//      lsns durable_lsn_+1 .. next_lsn_-1 in order.
//   2. durable_lsn_ only grows; every record with lsn <= durable_lsn_ is whole in the bytes
//      [0, segments_[i].bytes) of its segment file and, with kFdatasync, on disk (fdatasync'ed,
//      or written by an O_DSYNC direct write).
//   3. When a leader is active it is queue_.front(), and no other thread writes the active
//      segment file.
//   4. segments_ is a contiguous chain; its back() is the active segment, never dropped.
//   5. After an I/O failure (failure_ set) nothing more is written; every queued and later
//      append fails with JournalError, until the directory is reopened (and recovered).
//   6. Every byte of the active segment file past its durable end that no batch in flight has
//      written is zero (so a crash leaves records, then at most one torn batch, then zeros).
//   7. active_file_bytes_ is the active segment file's size; bytes before it need no change of
//      file size or block allocation when written.
//   8. When direct_ is open it is open on the active segment file with direct_.end() equal to
//      the active segment's bytes, and its tail equal to the file's bytes of the last partial
//      block (direct_writer.h invariant 1). It is open only with kFdatasync and direct_writes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "journal/direct_writer.h"
#include "journal/errors.h"
#include "journal/file_util.h"
#include "journal/format.h"
#include "journal/recovery.h"
#include "journal/segment_preparer.h"
#include "journal/segment_reader.h"

namespace dsql::journal {

enum class Durability {
  kFdatasync,     // acknowledged == written and fdatasync'ed
  kUnsafeNoSync,  // acknowledged == written to the OS only; UNSAFE: for tests and benchmarks
};

struct Options {
  Durability durability = Durability::kFdatasync;
  uint64_t segment_bytes = uint64_t{64} << 20;  // roll to a new segment past this size
  size_t batch_records_max = 512;               // records per writev()+fdatasync(), <= 1024
  size_t batch_bytes_max = size_t{8} << 20;     // bytes per batch (one larger record goes alone)
  int64_t group_wait_ns = 0;                    // a leader waits at most this for a fuller batch
  size_t queue_records_max = 16384;             // appenders queued at most
  size_t record_bytes_max = size_t{32} << 20;   // payload bytes per record
  bool create = true;                           // create the directory when missing
  // Zero-fill segment files to segment_bytes before use (see the file comment); unset: on with
  // kFdatasync, off with kUnsafeNoSync (nothing to gain without fdatasync).
  std::optional<bool> preallocate;
  // With kFdatasync: write each batch with one O_DIRECT|O_DSYNC write instead of pwritev +
  // fdatasync (see the file comment; falls back per segment where O_DIRECT is refused). Ignored
  // with kUnsafeNoSync, which always writes through the page cache.
  bool direct_writes = true;
  // Tests only: a fault injected into the direct path (direct_writer.h).
  DirectFault direct_fault_for_testing = DirectFault::kNone;
};

// Whether options preallocate segments (resolving the unset default).
bool preallocates(const Options& options);

// Throws std::invalid_argument when an option is out of range (the message says which).
void validate(const Options& options);

struct Stats {
  uint64_t appends = 0;           // records made durable since open
  uint64_t batches = 0;           // writev() calls
  uint64_t syncs = 0;             // batches made durable (fdatasync, or an O_DSYNC direct write)
  uint64_t bytes_written = 0;     // record bytes
  uint64_t segments_created = 0;  // rollovers (and the first segment of a new journal)
  uint64_t segments_dropped = 0;
  uint64_t max_batch_records = 0;
  uint64_t rollover_waits = 0;  // rollovers that waited for the next segment's zero-filling
  uint64_t direct_writes = 0;   // batches written with O_DIRECT|O_DSYNC (no fdatasync)
  // Segments written with pwritev + fdatasync because O_DIRECT was refused there (open or the
  // first direct write failed with EINVAL); 0 when direct writes are off or not tried.
  uint64_t direct_fallbacks = 0;
};

// One record as read back.
struct Record {
  uint64_t lsn = 0;
  int64_t commit_ts = 0;
  std::string payload;  // the writes payload (format.h); decode_writes() or PayloadIterator
  std::vector<Write> writes() const { return decode_writes(payload); }
};

class Cursor;

class Journal : public std::enable_shared_from_this<Journal> {
 public:
  // Opens (and with options.create, creates) the journal in dir, recovering it first.
  // Throws JournalError (directory missing or in use, I/O error) or std::invalid_argument.
  static std::shared_ptr<Journal> open(const std::string& dir, const Options& options);

  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Frames writes with this journal's record limit (no lock; any thread).
  // Throws std::invalid_argument when the record is too large.
  EncodedRecord encode(int64_t commit_ts, const WriteView* writes, size_t count) const;
  // Appends one record and returns its lsn once it is durable. Throws JournalError when the
  // journal is closed or has failed (then the record is not durable).
  // REQUIRES: record came from encode() (of any open journal).
  uint64_t append(EncodedRecord record);
  uint64_t append(int64_t commit_ts, const std::vector<WriteView>& writes);

  // True once durable_lsn() >= lsn; waits at most timeout_ns (0: do not wait).
  bool wait_durable(uint64_t lsn, int64_t timeout_ns) const;
  // True once the next segment's file is preallocated (a rollover would not wait); waits at
  // most timeout_ns. Always false without preallocation. For tests and benchmarks that want
  // the steady state from their first append.
  bool wait_spare_ready(int64_t timeout_ns) const;
  bool preallocate() const { return preparer_ != nullptr; }
  // Removes sealed segments whose records are all <= lsn; returns how many.
  // Throws std::invalid_argument when lsn > durable_lsn().
  size_t drop_through(uint64_t lsn);
  // Lets queued appends finish, then closes the files and releases the directory lock.
  // Idempotent.
  void close();

  const RecoveryReport& recovery() const { return recovery_; }  // immutable after open
  const std::string& dir() const { return dir_; }
  const Options& options() const { return options_; }
  uint64_t durable_lsn() const;
  uint64_t first_lsn() const;  // oldest lsn in the journal (durable_lsn()+1 when empty)
  bool closed() const;
  std::vector<SegmentInfo> segments() const;
  Stats stats() const;

 private:
  friend class Cursor;
  struct Pending;

  // What a cursor needs to read around `lsn`, taken under mu_.
  struct Locate {
    uint64_t durable_lsn = 0;
    uint64_t first_lsn = 0;
    bool found = false;  // false when lsn precedes the oldest segment
    bool sealed = false;
    SegmentInfo segment;
  };

  Journal(std::string dir, Options options);
  void open_locked_dir();
  Locate locate(uint64_t lsn) const;
  void throw_if_unusable_locked() const;
  void lead(std::unique_lock<std::mutex>& lock, Pending* self);
  // Creates and syncs the segment file for first_lsn with sequence seq, from the preparer's
  // spare when from_spare, else as a file of just the header; *fd gets it for writing,
  // *file_bytes its size, *waited whether it had to wait for the spare. Touches no guarded state
  // (the leader calls it without the lock).
  SegmentInfo create_segment_file(uint64_t seq, uint64_t first_lsn, bool from_spare, UniqueFd* fd,
                                  uint64_t* file_bytes, bool* waited) const;
  // Opens direct_ on the active segment (active_fd_, active_path_) at its logical end `end`,
  // with the tail read through active_fd_; false when O_DIRECT was refused (the segment falls
  // back). Leader or open only (invariant 3).
  // REQUIRES: direct writes are wanted; !direct_.is_open().
  bool open_direct(uint64_t end);
  bool direct_wanted() const {
    return options_.durability == Durability::kFdatasync && options_.direct_writes;
  }

  const std::string dir_;
  const Options options_;
  RecoveryReport recovery_;
  UniqueFd lock_fd_;

  mutable std::mutex mu_;
  std::deque<Pending*> queue_;        // GUARDED_BY(mu_)
  size_t queued_bytes_ = 0;           // GUARDED_BY(mu_)
  uint64_t next_lsn_ = 1;             // GUARDED_BY(mu_)
  uint64_t durable_lsn_ = 0;          // GUARDED_BY(mu_)
  std::vector<SegmentInfo> segments_;  // GUARDED_BY(mu_)
  bool leader_active_ = false;        // GUARDED_BY(mu_)
  bool leader_waiting_ = false;       // GUARDED_BY(mu_)
  bool closing_ = false;              // GUARDED_BY(mu_)
  bool closed_ = false;               // GUARDED_BY(mu_)
  std::string failure_;               // GUARDED_BY(mu_); sticky
  Stats stats_;                       // GUARDED_BY(mu_)
  std::condition_variable room_cv_;   // queue below its bound, or closing/failed
  std::condition_variable leader_cv_;  // a waiting leader: more appenders arrived
  std::condition_variable idle_cv_;   // queue drained (for close)
  mutable std::condition_variable durable_cv_;  // durable_lsn_ advanced, or closed/failed

  // Owned by the leader (invariant 3), or by open/close when no leader can exist.
  UniqueFd active_fd_;
  std::string active_path_;          // active_fd_'s path (segments_ may move while unlocked)
  uint64_t active_file_bytes_ = 0;  // invariant 7
  DirectWriter direct_;              // invariant 8
  // Set at open when preallocating; its methods are thread-safe.
  std::unique_ptr<SegmentPreparer> preparer_;
};

// Reads durable records in lsn (file) order from a starting lsn, in batches.
//
// Thread-safety: one thread at a time (next_batch serialises callers on its own mutex); any
// number of cursors may read while appends go on.
class Cursor {
 public:
  // REQUIRES: journal != nullptr, from_lsn >= 1.
  Cursor(std::shared_ptr<Journal> journal, uint64_t from_lsn);
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  // Up to records_max records, stopping once bytes_max payload bytes are reached, starting at
  // next_lsn(); empty when every durable record has been read. Throws JournalError when
  // next_lsn() has been dropped or the journal is closed, JournalCorruption on a bad record.
  // REQUIRES: records_max >= 1.
  std::vector<Record> next_batch(size_t records_max, size_t bytes_max);
  uint64_t next_lsn() const;

 private:
  std::shared_ptr<Journal> journal_;
  mutable std::mutex mu_;
  uint64_t next_lsn_;                      // GUARDED_BY(mu_): next lsn to return
  std::unique_ptr<SegmentReader> reader_;  // GUARDED_BY(mu_): open on the current segment
  uint64_t reader_first_lsn_ = 0;          // GUARDED_BY(mu_): first lsn of reader_'s segment
  uint64_t reader_lsn_ = 0;                // GUARDED_BY(mu_): lsn at reader_->offset()
};

}  // namespace dsql::journal
