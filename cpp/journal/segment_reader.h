// Reads one segment file's header and records in file order, checking each frame, and tells the
// zero tail of a preallocated segment (the clean end of its records) from damage (format.cc).
//
// A reader never looks at bytes at or past the limit its caller passes, so a cursor can read the
// durable prefix of the active segment while the writer appends past it (bytes past the durable
// end may be half-written). Bytes before the limit never change once durable, so the reader
// caches them in a buffer of a few hundred KiB (more only for a larger record).
//
// Thread-safety: one thread at a time per reader.
// Invariants:
//   1. offset() is the file offset of the next record; it only moves forward, by whole frames.
//   2. The buffer holds file bytes [buf_start_, buf_start_ + buf_.size()), all below a limit
//      some caller passed.
#pragma once

#include <cstdint>
#include <string>

#include "journal/file_util.h"
#include "journal/format.h"

namespace dsql::journal {

class SegmentReader {
 public:
  enum class Next { kRecord, kEnd, kZeroTail, kBad };

  // Opens path read-only; throws JournalError when it cannot.
  explicit SegmentReader(std::string path);
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  // Reads and checks the header at offset 0 and moves to the first record. False (with why)
  // when the file is too short or the header is invalid; *other_version as in
  // decode_segment_header().
  // REQUIRES: offset() == 0.
  bool read_header(SegmentHeader* out, std::string* why, uint32_t* other_version = nullptr);

  // The next record that ends at or before limit_offset: kRecord (out's payload is a view into
  // the reader's buffer, valid until the next call), kEnd when offset() == limit_offset,
  // kZeroTail when every byte of [offset(), limit_offset) is zero (the clean end of a
  // preallocated segment's records), or kBad (with why) when the bytes at offset() are not a
  // whole valid record before the limit (bad length, bad checksum, malformed payload, cut
  // short, or a zero length followed by non-zero bytes). offset() moves past a kRecord only.
  // REQUIRES: limit_offset >= offset().
  Next next(uint64_t limit_offset, RecordView* out, std::string* why);

  uint64_t offset() const { return offset_; }
  uint64_t file_size() const;
  const std::string& path() const { return path_; }

 private:
  // Makes the buffer hold [offset, offset + n); false on a short read.
  // REQUIRES: offset + n <= limit.
  bool ensure(uint64_t offset, size_t n, uint64_t limit);
  // The offset of the first non-zero byte in [from, limit), or limit when there is none.
  // Reads past the buffer, in kZeroScanBytes chunks, without changing it.
  uint64_t find_nonzero(uint64_t from, uint64_t limit);

  static constexpr size_t kChunkBytes = 256 * 1024;
  static constexpr size_t kZeroScanBytes = 1024 * 1024;

  std::string path_;
  UniqueFd fd_;
  uint64_t offset_ = 0;
  std::string buf_;
  uint64_t buf_start_ = 0;
};

}  // namespace dsql::journal
