#include "journal/segment_reader.h"

#include <fcntl.h>

#include <algorithm>
#include <cassert>

namespace dsql::journal {

SegmentReader::SegmentReader(std::string path) : path_(std::move(path)) {
  fd_ = open_or_throw(path_, O_RDONLY);
  assert(fd_.valid());
}

uint64_t SegmentReader::file_size() const { return journal::file_size(fd_.get(), path_); }

bool SegmentReader::ensure(uint64_t offset, size_t n, uint64_t limit) {
  assert(offset + n <= limit);
  assert(offset >= buf_start_ || buf_.empty());
  const uint64_t buf_end = buf_start_ + buf_.size();
  if (offset >= buf_start_ && offset + n <= buf_end) return true;
  // Keep the part of the buffer at or after offset, then read after it.
  if (offset >= buf_start_ && offset <= buf_end) {
    buf_.erase(0, static_cast<size_t>(offset - buf_start_));
  } else {
    buf_.clear();
  }
  buf_start_ = offset;
  const size_t have = buf_.size();
  const size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(n, kChunkBytes),
                                                             limit - offset));
  assert(want >= n && want >= have);
  buf_.resize(want);
  const size_t got = pread_full(fd_.get(), buf_.data() + have, want - have, offset + have, path_);
  buf_.resize(have + got);
  return buf_.size() >= n;
}

uint64_t SegmentReader::find_nonzero(uint64_t from, uint64_t limit) {
  assert(from <= limit);
  std::string chunk;
  // Bounded: each pass moves from on by a whole chunk or returns.
  while (from < limit) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kZeroScanBytes, limit - from));
    chunk.resize(want);
    const size_t got = pread_full(fd_.get(), chunk.data(), want, from, path_);
    if (got < want) return from + got;  // the file shrank under us: not a clean tail
    if (!all_zero(chunk.data(), want)) {
      size_t i = 0;
      while (chunk[i] == '\0') ++i;  // ends: the chunk holds a non-zero byte
      assert(i < want);
      return from + i;
    }
    from += want;
  }
  assert(from == limit);
  return limit;
}

bool SegmentReader::read_header(SegmentHeader* out, std::string* why, uint32_t* other_version) {
  assert(offset_ == 0);
  assert(out != nullptr && why != nullptr);
  if (other_version != nullptr) *other_version = 0;
  const uint64_t size = file_size();
  if (size < kSegmentHeaderBytes) {
    *why = "segment header cut short (" + std::to_string(size) + " of " +
           std::to_string(kSegmentHeaderBytes) + " bytes)";
    return false;
  }
  if (!ensure(0, kSegmentHeaderBytes, kSegmentHeaderBytes)) {
    *why = "short read of the segment header";
    return false;
  }
  if (!decode_segment_header(std::string_view(buf_).substr(0, kSegmentHeaderBytes), out, why,
                             other_version)) {
    return false;
  }
  offset_ = kSegmentHeaderBytes;
  return true;
}

SegmentReader::Next SegmentReader::next(uint64_t limit_offset, RecordView* out, std::string* why) {
  assert(limit_offset >= offset_);
  assert(offset_ >= kSegmentHeaderBytes);
  if (offset_ == limit_offset) return Next::kEnd;
  const uint64_t left = limit_offset - offset_;
  // A record's length field is never zero (format.cc): zeros here are the zero tail, or damage
  // when anything non-zero follows them.
  const size_t lead = static_cast<size_t>(std::min<uint64_t>(left, 4));
  if (!ensure(offset_, lead, limit_offset)) {
    *why = "short read of a record header";
    return Next::kBad;
  }
  if (all_zero(buf_.data() + (offset_ - buf_start_), lead)) {
    const uint64_t nonzero = find_nonzero(offset_ + lead, limit_offset);
    if (nonzero == limit_offset) return Next::kZeroTail;
    *why = "zero bytes where a record should start, but non-zero bytes follow at offset " +
           std::to_string(nonzero) + " (a zero-filled gap in the records)";
    return Next::kBad;
  }
  if (left < kRecordHeaderBytes) {
    *why = "record header cut short (" + std::to_string(left) + " of " +
           std::to_string(kRecordHeaderBytes) + " bytes before the end)";
    return Next::kBad;
  }
  if (!ensure(offset_, kRecordHeaderBytes, limit_offset)) {
    *why = "short read of a record header";
    return Next::kBad;
  }
  const size_t at = static_cast<size_t>(offset_ - buf_start_);
  if (!parse_record_header(std::string_view(buf_).substr(at, kRecordHeaderBytes), out, why)) {
    return Next::kBad;
  }
  const size_t frame = out->frame_bytes();
  if (frame > left) {
    *why = "record of " + std::to_string(frame) + " bytes cut short (" + std::to_string(left) +
           " bytes before the end)";
    return Next::kBad;
  }
  if (!ensure(offset_, frame, limit_offset)) {
    *why = "short read of a " + std::to_string(frame) + "-byte record";
    return Next::kBad;
  }
  const size_t start = static_cast<size_t>(offset_ - buf_start_);
  if (!check_record(std::string_view(buf_).substr(start, frame), out, why)) return Next::kBad;
  offset_ += frame;
  assert(offset_ <= limit_offset);
  return Next::kRecord;
}

}  // namespace dsql::journal
