#include "journal/recovery.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>

#include "journal/errors.h"
#include "journal/file_util.h"
#include "journal/format.h"
#include "journal/segment_reader.h"

namespace dsql::journal {
namespace {

constexpr const char* kLockName = "LOCK";

struct Candidate {
  uint64_t first_lsn;
  std::string name;
  std::string path;
};

// Marks the journal as ending at (path, offset) for `why`; every later candidate is removed.
void end_here(RecoveryPlan* plan, const std::vector<Candidate>& found, size_t index,
              uint64_t offset, uint64_t file_bytes, const std::string& why, bool whole_file) {
  RecoveryReport& r = plan->report;
  const Candidate& c = found[index];
  r.truncated = true;
  r.truncated_file = c.path;
  r.truncated_offset = offset;
  r.reason = why;
  if (whole_file) {
    plan->remove.push_back(c.path);
    r.dropped_files.push_back(c.path);
    r.truncated_bytes += file_bytes;
    r.messages.push_back(c.name + " offset " + std::to_string(offset) + ": " + why +
                         "; removed the segment file (" + std::to_string(file_bytes) + " bytes)");
  } else {
    assert(offset <= file_bytes);
    plan->cut_offset = offset;
    r.truncated_bytes += file_bytes - offset;
    r.messages.push_back(c.name + " offset " + std::to_string(offset) + ": " + why +
                         "; truncated the file there (removed " +
                         std::to_string(file_bytes - offset) + " bytes)");
  }
  for (size_t j = index + 1; j < found.size(); ++j) {
    plan->remove.push_back(found[j].path);
    r.dropped_files.push_back(found[j].path);
    uint64_t bytes = 0;
    try {
      UniqueFd fd = open_or_throw(found[j].path, O_RDONLY);
      bytes = file_size(fd.get(), found[j].path);
    } catch (const JournalError&) {
      bytes = 0;  // it is being removed anyway; its size is only reported
    }
    r.truncated_bytes += bytes;
    r.messages.push_back("removed " + found[j].name + " (" + std::to_string(bytes) +
                         " bytes), which follows the end of the journal");
  }
}

}  // namespace

RecoveryPlan plan_recovery(const std::string& dir) {
  RecoveryPlan plan;
  RecoveryReport& r = plan.report;
  std::vector<Candidate> found;
  for (const DirEntry& e : list_dir(dir)) {
    uint64_t lsn = 0;
    if (e.name == kLockName) continue;
    if (e.regular_file && e.name == kSpareFileName) {
      const std::string path = join_path(dir, e.name);
      plan.spares.push_back(path);
      r.spare_files.push_back(path);
      r.messages.push_back("removed " + e.name +
                           ": an unused preallocated segment, not part of the log");
      continue;
    }
    if (e.regular_file && parse_segment_file_name(e.name, &lsn)) {
      found.push_back(Candidate{lsn, e.name, join_path(dir, e.name)});
    } else {
      r.ignored_files.push_back(e.name);
      r.messages.push_back("ignored " + e.name + ": not a journal segment file name");
    }
  }
  std::sort(found.begin(), found.end(),
            [](const Candidate& a, const Candidate& b) { return a.first_lsn < b.first_lsn; });
  std::sort(r.ignored_files.begin(), r.ignored_files.end());
  if (!found.empty()) r.next_lsn = found.front().first_lsn;

  uint64_t expect_lsn = r.next_lsn;  // lsn of the next record in the chain
  uint64_t expect_seq = 0;           // 0: the first segment may have any sequence number
  for (size_t i = 0; i < found.size(); ++i) {
    const Candidate& c = found[i];
    SegmentReader reader(c.path);
    const uint64_t size = reader.file_size();
    SegmentHeader header;
    std::string why;
    uint32_t other_version = 0;
    if (!reader.read_header(&header, &why, &other_version)) {
      if (other_version != 0) {
        throw JournalError("journal " + dir + ": " + c.name + " has " + why +
                           "; it was written by another build of dsql. Nothing was changed; "
                           "open it with that build (older formats are not converted: no "
                           "journal was deployed with one)");
      }
      end_here(&plan, found, i, 0, size, why, /*whole_file=*/true);
      break;
    }
    if (header.first_lsn != c.first_lsn) {
      end_here(&plan, found, i, 0, size,
               "segment header says first lsn " + std::to_string(header.first_lsn) +
                   " but the file name says " + std::to_string(c.first_lsn),
               true);
      break;
    }
    if (c.first_lsn != expect_lsn || (expect_seq != 0 && header.seq != expect_seq)) {
      end_here(&plan, found, i, 0, size,
               "segment breaks the sequence (expected lsn " + std::to_string(expect_lsn) +
                   (expect_seq != 0 ? " and segment " + std::to_string(expect_seq) : "") +
                   ", found lsn " + std::to_string(c.first_lsn) + " and segment " +
                   std::to_string(header.seq) + ")",
               true);
      break;
    }
    SegmentInfo seg{header.seq, c.first_lsn, c.path, kSegmentHeaderBytes, 0};
    bool stopped = false;
    // One pass per record; each consumes >= kRecordHeaderBytes of the file or ends the loop.
    for (uint64_t pass = 0; pass <= size / kRecordHeaderBytes; ++pass) {
      RecordView rec;
      const uint64_t at = reader.offset();
      const SegmentReader::Next n = reader.next(size, &rec, &why);
      if (n == SegmentReader::Next::kEnd || n == SegmentReader::Next::kZeroTail) break;
      if (n == SegmentReader::Next::kRecord && rec.lsn != expect_lsn) {
        why = "record lsn out of sequence (expected " + std::to_string(expect_lsn) + ", found " +
              std::to_string(rec.lsn) + ")";
      } else if (n == SegmentReader::Next::kRecord) {
        if (r.records == 0) r.first_lsn = rec.lsn;
        r.last_lsn = rec.lsn;
        r.last_commit_ts = rec.commit_ts;
        r.max_commit_ts = std::max(r.max_commit_ts.value_or(rec.commit_ts), rec.commit_ts);
        ++r.records;
        ++seg.records;
        seg.bytes = reader.offset();
        ++expect_lsn;
        continue;
      }
      end_here(&plan, found, i, at, size,
               why + " in the record expected to be lsn " + std::to_string(expect_lsn), false);
      stopped = true;
      break;
    }
    assert(seg.bytes <= size);
    plan.keep.push_back(seg);
    expect_seq = header.seq + 1;
    if (stopped) break;
  }

  r.segments = plan.keep.size();
  r.next_lsn = expect_lsn;
  plan.next_seq = plan.keep.empty() ? 1 : plan.keep.back().seq + 1;
  assert(r.records == 0 || r.next_lsn == r.last_lsn + 1);
  assert(plan.remove.size() == r.dropped_files.size());
  if (r.truncated) {
    r.messages.push_back("the journal now ends at lsn " + std::to_string(r.last_lsn) +
                         (r.last_lsn == 0 ? " (no records)" : "") + "; the next append gets lsn " +
                         std::to_string(r.next_lsn));
  }
  return plan;
}

void apply_recovery(const std::string& dir, const RecoveryPlan& plan, bool sync) {
  const RecoveryReport& r = plan.report;
  assert(r.truncated || (plan.remove.empty() && !plan.cut_offset));
  if (plan.cut_offset) {
    assert(!plan.keep.empty() && plan.keep.back().path == r.truncated_file);
    UniqueFd fd = open_or_throw(r.truncated_file, O_WRONLY);
    if (::ftruncate(fd.get(), static_cast<off_t>(*plan.cut_offset)) != 0) {
      throw JournalError(errno_message("cannot truncate", r.truncated_file, errno));
    }
    if (sync) fdatasync_or_throw(fd.get(), r.truncated_file);
  }
  // Newest first, so that a crash part-way leaves a chain that recovery again cuts the same way.
  for (auto it = plan.remove.rbegin(); it != plan.remove.rend(); ++it) {
    if (::unlink(it->c_str()) != 0 && errno != ENOENT) {
      throw JournalError(errno_message("cannot remove", *it, errno));
    }
  }
  if (sync && !plan.remove.empty()) fsync_dir(dir);
  // A spare holds no records; if its removal is lost in a crash, the next open removes it.
  for (const std::string& spare : plan.spares) {
    if (::unlink(spare.c_str()) != 0 && errno != ENOENT) {
      throw JournalError(errno_message("cannot remove", spare, errno));
    }
  }
}

}  // namespace dsql::journal
