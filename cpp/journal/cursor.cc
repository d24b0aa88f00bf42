// Cursor: reads durable records in lsn order across segment files (see journal.h).
#include <cassert>
#include <limits>

#include "journal/journal.h"

namespace dsql::journal {

Cursor::Cursor(std::shared_ptr<Journal> journal, uint64_t from_lsn)
    : journal_(std::move(journal)), next_lsn_(from_lsn) {
  assert(journal_ != nullptr);
  assert(from_lsn >= 1);
}

Cursor::~Cursor() = default;

uint64_t Cursor::next_lsn() const {
  std::lock_guard<std::mutex> guard(mu_);
  return next_lsn_;
}

std::vector<Record> Cursor::next_batch(size_t records_max, size_t bytes_max) {
  assert(records_max >= 1);
  std::lock_guard<std::mutex> guard(mu_);
  std::vector<Record> out;
  size_t bytes = 0;
  // Each pass emits or skips records of one segment, then either returns or moves the reader
  // to the next segment, so the loop runs at most (segments in the journal + 1) times.
  for (size_t pass = 0;; ++pass) {
    assert(pass <= std::numeric_limits<uint32_t>::max());
    const Journal::Locate at = journal_->locate(reader_ ? reader_lsn_ : next_lsn_);
    if (next_lsn_ > at.durable_lsn) break;
    if (!at.found) {
      throw JournalError("lsn " + std::to_string(next_lsn_) + " is no longer in the journal " +
                         journal_->dir() + " (dropped; the oldest lsn is " +
                         std::to_string(at.first_lsn) + ")");
    }
    if (!reader_ || reader_first_lsn_ != at.segment.first_lsn) {
      const bool continuing = reader_ != nullptr;
      auto reader = std::make_unique<SegmentReader>(at.segment.path);
      SegmentHeader header;
      std::string why;
      if (!reader->read_header(&header, &why) || header.first_lsn != at.segment.first_lsn ||
          (continuing && reader_lsn_ != at.segment.first_lsn)) {
        throw JournalCorruption(at.segment.path + " offset 0: " +
                                (why.empty() ? "segment does not continue the lsn sequence" : why));
      }
      reader_ = std::move(reader);
      reader_first_lsn_ = at.segment.first_lsn;
      reader_lsn_ = at.segment.first_lsn;
    }
    assert(reader_lsn_ <= next_lsn_);
    // Read within this segment's durable bytes.
    while (out.size() < records_max && bytes < bytes_max && reader_lsn_ <= at.durable_lsn) {
      RecordView rec;
      std::string why;
      const uint64_t offset = reader_->offset();
      const SegmentReader::Next n = reader_->next(at.segment.bytes, &rec, &why);
      if (n == SegmentReader::Next::kEnd) break;
      // Below the durable end every byte belongs to a record: zeros there are damage too.
      if (n == SegmentReader::Next::kZeroTail) why = "zero bytes where a record should start";
      if (n != SegmentReader::Next::kRecord || rec.lsn != reader_lsn_) {
        if (n == SegmentReader::Next::kRecord) {
          why = "record lsn out of sequence (expected " + std::to_string(reader_lsn_) +
                ", found " + std::to_string(rec.lsn) + ")";
        }
        throw JournalCorruption(reader_->path() + " offset " + std::to_string(offset) + ": " +
                                why + " in a durable record");
      }
      ++reader_lsn_;
      if (rec.lsn < next_lsn_) continue;  // positioning: skip to the starting lsn
      out.push_back(Record{rec.lsn, rec.commit_ts, std::string(rec.payload)});
      bytes += rec.payload.size();
      ++next_lsn_;
    }
    if (out.size() >= records_max || bytes >= bytes_max) break;
    if (reader_lsn_ > at.durable_lsn) break;  // caught up
    // The active segment's durable bytes hold every durable record (journal.h invariant 2).
    assert(at.sealed);
    assert(reader_->offset() == at.segment.bytes);  // end of a sealed segment: move on
  }
  assert(out.empty() || out.back().lsn + 1 == next_lsn_);
  return out;
}

}  // namespace dsql::journal
