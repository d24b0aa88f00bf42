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

bool SegmentReader::read_header(SegmentHeader* out, std::string* why) {
  assert(offset_ == 0);
  assert(out != nullptr && why != nullptr);
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
  if (!decode_segment_header(std::string_view(buf_).substr(0, kSegmentHeaderBytes), out, why)) {
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
