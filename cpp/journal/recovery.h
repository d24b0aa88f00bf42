// Recovery: find the journal's valid prefix on open, and cut away whatever follows it.
//
// plan_recovery() reads the directory without changing it: it walks the segment files in lsn
// order and stops at the first problem (a torn or corrupt record, a zero-filled gap followed by
// non-zero bytes, a bad segment header, a break in the segment or lsn sequence); a zero tail
// after a segment's last record is its clean end (format.cc). apply_recovery() then truncates the
// file with the problem at the problem's offset (or removes it when the problem is its header)
// and removes every later segment file, syncing what it changed. A spare (a preallocated next
// segment, kSpareFileName) was never part of the log: it is removed without counting as damage.
// Files whose names are not journal names are left alone and listed as ignored. A segment whose
// intact header names another format version stops recovery with JournalError: it was written
// by another build, and nothing is changed or removed.
//
// Thread-safety: plain functions; the caller holds the journal directory's lock (journal.h).
// Invariants of a plan:
//   1. keep is a contiguous chain: seq and first_lsn continue from one segment to the next.
//   2. report.next_lsn == report.last_lsn + 1 when any record is kept, else the first lsn of
//      the first segment file found (or 1), so that lsns never go back below a dropped prefix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dsql::journal {

// What recovery found and did; also the Python-visible recovery report.
struct RecoveryReport {
  uint64_t first_lsn = 0;  // oldest record present; 0 when there is none
  uint64_t last_lsn = 0;   // last durable record; 0 when there is none
  uint64_t next_lsn = 1;   // the lsn the next append gets
  std::optional<int64_t> last_commit_ts;  // commit_ts of last_lsn
  std::optional<int64_t> max_commit_ts;   // largest commit_ts present (records are in lsn order)
  uint64_t records = 0;
  uint64_t segments = 0;  // segment files kept

  bool truncated = false;       // true when any bytes were cut or any segment file removed
  std::string truncated_file;   // the file where the journal now ends, and where in it
  uint64_t truncated_offset = 0;
  uint64_t truncated_bytes = 0;  // bytes cut from that file plus the sizes of removed files
  std::string reason;            // why the journal ends there ("" when clean)
  std::vector<std::string> dropped_files;  // segment files removed (paths)
  std::vector<std::string> ignored_files;  // names in the directory that are not the journal's
  std::vector<std::string> spare_files;    // unused preallocated segments (removed on open)
  std::vector<std::string> messages;       // one human-readable line per finding

  bool clean() const { return !truncated; }
};

struct SegmentInfo {
  uint64_t seq = 0;
  uint64_t first_lsn = 0;
  std::string path;
  uint64_t bytes = 0;    // valid (durable) bytes, header included; a zero tail may follow
  uint64_t records = 0;  // records in it
};

struct RecoveryPlan {
  RecoveryReport report;
  std::vector<SegmentInfo> keep;      // the valid chain; bytes = size after truncation
  std::vector<std::string> remove;    // paths to delete, in lsn order
  std::vector<std::string> spares;    // spare files to delete (not damage)
  std::optional<uint64_t> cut_offset;  // truncate report.truncated_file to this size
  uint64_t next_seq = 1;              // seq for a new segment when keep is empty
};

// Reads dir (which must exist) and decides; changes nothing. Throws JournalError on I/O errors
// and when a segment was written in another format version.
RecoveryPlan plan_recovery(const std::string& dir);

// Carries out the plan: truncates, removes, and syncs the changed file and the directory
// (unless sync is false, for the unsafe-no-sync durability).
void apply_recovery(const std::string& dir, const RecoveryPlan& plan, bool sync);

}  // namespace dsql::journal
