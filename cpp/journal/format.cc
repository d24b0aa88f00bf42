// The journal's on-disk format (version 2).
//
// All integers are little-endian; u32/u64/i64 are 4/8/8 bytes. crc32c is CRC32C (Castagnoli),
// see crc32c.h.
//
//   journal-dir   := "LOCK"? spare-file? segment-file*   ; any other name is ignored (reported)
//   spare-file    := name "journal-spare.tmp"            ; a segment being preallocated: zeros,
//                                                        ; maybe a header; removed on open
//   segment-file  := name "journal-" hex16(first_lsn) ".seg", contents segment
//   segment       := seg-header record* zero-tail
//   seg-header    := magic "DSQLJRNL"                        ; 8 bytes
//                    version:u32 (= 2)  flags:u32 (= 0)
//                    segment_seq:u64  first_lsn:u64
//                    header_crc:u32                          ; crc32c of the 32 bytes above
//                    reserved:u32 (= 0)                      ; 40 bytes in all
//   record        := length:u32  checksum:u32  commit_ts:i64  lsn:u64  payload
//                    ; payload is `length` bytes, 4 <= length <= 2^30
//   checksum      := crc32c(payload || length || commit_ts || lsn)
//                    ; the payload first, so it can be summed before the lsn is known
//   payload       := write_count:u32  write{write_count}     ; nothing after the last write
//   write         := key_len:u32  value_len:u32  key[key_len]  value
//   value         := bytes[value_len]          when value_len != 0xFFFFFFFF
//                  | (nothing: a tombstone)    when value_len == 0xFFFFFFFF
//   zero-tail     := 0x00*                     ; to the end of the file (may be empty)
//
// Where the records end. Segments are preallocated: written full of zeros before any record
// goes in, so that records overwrite blocks the file already has and fdatasync need not commit
// a new file size. A record's length is >= 4, so its first 4 bytes are never all zero. At a
// record boundary a reader decides, looking at the bytes from there to the end of the file:
//   - none left, or all of them zero           -> the clean end of the segment's records;
//   - a zero length field (or fewer than 4 bytes, all zero) but a non-zero byte further on
//                                               -> damage: a zero-filled gap where a record
//                                                  should be (a later record is not skipped to);
//   - otherwise a record, which must be whole and valid, else damage (torn: cut short or bad
//     checksum, e.g. a partly written record followed by zeros; corrupt: bad length, checksum
//     or payload).
// Version 1 (before preallocation) had no zero tail; this build refuses version 1 files
// rather than misreading them (nothing was deployed with version 1).
//
// Sequence rules, checked by recovery and readers:
//   - segment_seq increases by one from one segment file to the next;
//   - the first record of a segment has lsn == first_lsn (== the lsn in the file name);
//   - every next record has lsn == previous lsn + 1, across segments too;
//   - commit_ts is free: records are in lsn (file) order, which may differ from commit_ts order.
// The first record that breaks a rule, or whose length or checksum is bad, or that is cut short
// by the end of the file, or a zero-filled gap followed by non-zero bytes, ends the journal:
// recovery truncates the file there and removes the later segment files.
#include "journal/format.h"

#include <cassert>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "common/crc32c.h"

namespace dsql::journal {
namespace {

template <typename T>
void put(char* dst, T v) {
  std::memcpy(dst, &v, sizeof v);
}

template <typename T>
T get(const char* src) {
  T v;
  std::memcpy(&v, src, sizeof v);
  return v;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

}  // namespace

// ---- segment files ----------------------------------------------------------------------------

std::string encode_segment_header(const SegmentHeader& header) {
  assert(header.seq >= 1);
  assert(header.first_lsn >= 1);
  std::string out(kSegmentHeaderBytes, '\0');
  char* p = out.data();
  std::memcpy(p, kSegmentMagic, sizeof kSegmentMagic);
  put<uint32_t>(p + 8, kFormatVersion);
  put<uint32_t>(p + 12, 0);
  put<uint64_t>(p + 16, header.seq);
  put<uint64_t>(p + 24, header.first_lsn);
  put<uint32_t>(p + 32, crc32c::value(p, 32));
  put<uint32_t>(p + 36, 0);
  return out;
}

bool decode_segment_header(std::string_view bytes, SegmentHeader* out, std::string* why,
                           uint32_t* other_version) {
  assert(out != nullptr && why != nullptr);
  if (other_version != nullptr) *other_version = 0;
  if (bytes.size() < kSegmentHeaderBytes) {
    *why = "segment header cut short (" + std::to_string(bytes.size()) + " of " +
           std::to_string(kSegmentHeaderBytes) + " bytes)";
    return false;
  }
  const char* p = bytes.data();
  if (std::memcmp(p, kSegmentMagic, sizeof kSegmentMagic) != 0) {
    *why = "not a journal segment (bad magic)";
    return false;
  }
  const uint32_t stored = get<uint32_t>(p + 32);
  const uint32_t computed = crc32c::value(p, 32);
  if (stored != computed) {
    *why = "segment header checksum mismatch (stored " + hex32(stored) + ", computed " +
           hex32(computed) + ")";
    return false;
  }
  const uint32_t version = get<uint32_t>(p + 8);
  if (version != kFormatVersion) {
    *why = "segment format version " + std::to_string(version) + " (this build reads version " +
           std::to_string(kFormatVersion) + " only)";
    if (other_version != nullptr) *other_version = version;
    return false;
  }
  if (get<uint32_t>(p + 12) != 0 || get<uint32_t>(p + 36) != 0) {
    *why = "segment header has unknown flags";
    return false;
  }
  out->seq = get<uint64_t>(p + 16);
  out->first_lsn = get<uint64_t>(p + 24);
  if (out->seq == 0 || out->first_lsn == 0) {
    *why = "segment header has a zero sequence or lsn";
    return false;
  }
  return true;
}

std::string segment_file_name(uint64_t first_lsn) {
  assert(first_lsn >= 1);
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "journal-%016llx.seg",
                              static_cast<unsigned long long>(first_lsn));
  assert(n == 28);
  return std::string(buf, static_cast<size_t>(n));
}

bool parse_segment_file_name(std::string_view name, uint64_t* first_lsn) {
  assert(first_lsn != nullptr);
  constexpr std::string_view kPrefix = "journal-";
  constexpr std::string_view kSuffix = ".seg";
  if (name.size() != kPrefix.size() + 16 + kSuffix.size()) return false;
  if (name.substr(0, kPrefix.size()) != kPrefix) return false;
  if (name.substr(kPrefix.size() + 16) != kSuffix) return false;
  uint64_t v = 0;
  for (char c : name.substr(kPrefix.size(), 16)) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;  // upper case is not a name we write
    }
    v = (v << 4) | digit;
  }
  if (v == 0) return false;
  *first_lsn = v;
  return true;
}

bool all_zero(const char* data, size_t n) {
  assert(data != nullptr || n == 0);
  // Word at a time, then the bytes left; memcpy keeps it free of alignment assumptions.
  size_t i = 0;
  uint64_t acc = 0;
  for (; i + 8 <= n; i += 8) acc |= get<uint64_t>(data + i);
  for (; i < n; ++i) acc |= static_cast<unsigned char>(data[i]);
  assert(i == n);
  return acc == 0;
}

// ---- records ------------------------------------------------------------------------------------

EncodedRecord encode_record(int64_t commit_ts, const WriteView* writes, size_t count,
                            size_t payload_bytes_max) {
  assert(writes != nullptr || count == 0);
  assert(payload_bytes_max <= kPayloadBytesLimit);
  if (count > 0xFFFFFFFFu) throw std::invalid_argument("too many writes in one record");
  size_t payload = kPayloadBytesMin;
  for (size_t i = 0; i < count; ++i) {
    const WriteView& w = writes[i];
    if (w.key.size() >= kTombstoneLen || (!w.tombstone && w.value.size() >= kTombstoneLen)) {
      throw std::invalid_argument("a key or value is too long for the journal (4 GiB)");
    }
    payload += kWriteHeaderBytes + w.key.size() + (w.tombstone ? 0 : w.value.size());
    if (payload > payload_bytes_max) {
      throw std::invalid_argument("the record's writes exceed the journal's record limit of " +
                                  std::to_string(payload_bytes_max) + " bytes");
    }
  }
  EncodedRecord rec;
  rec.commit_ts = commit_ts;
  rec.frame.resize(kRecordHeaderBytes + payload);
  char* p = rec.frame.data();
  put<uint32_t>(p, static_cast<uint32_t>(payload));
  put<uint32_t>(p + 4, 0);  // checksum, set by seal_record
  put<int64_t>(p + 8, commit_ts);
  put<uint64_t>(p + 16, 0);  // lsn, set by seal_record
  char* q = p + kRecordHeaderBytes;
  put<uint32_t>(q, static_cast<uint32_t>(count));
  q += 4;
  for (size_t i = 0; i < count; ++i) {
    const WriteView& w = writes[i];
    put<uint32_t>(q, static_cast<uint32_t>(w.key.size()));
    put<uint32_t>(q + 4, w.tombstone ? kTombstoneLen : static_cast<uint32_t>(w.value.size()));
    q += kWriteHeaderBytes;
    if (!w.key.empty()) std::memcpy(q, w.key.data(), w.key.size());
    q += w.key.size();
    if (!w.tombstone && !w.value.empty()) std::memcpy(q, w.value.data(), w.value.size());
    if (!w.tombstone) q += w.value.size();
  }
  assert(q == p + rec.frame.size());
  rec.payload_crc = crc32c::value(p + kRecordHeaderBytes, payload);
  return rec;
}

uint32_t record_checksum(uint32_t payload_crc, uint32_t length, int64_t commit_ts, uint64_t lsn) {
  char tail[20];
  put<uint32_t>(tail, length);
  put<int64_t>(tail + 4, commit_ts);
  put<uint64_t>(tail + 12, lsn);
  return crc32c::extend(payload_crc, tail, sizeof tail);
}

void restamp_record(EncodedRecord* rec, int64_t commit_ts) {
  assert(rec != nullptr && rec->frame.size() >= kRecordHeaderBytes + kPayloadBytesMin);
  assert(get<uint64_t>(rec->frame.data() + 16) == 0);  // not sealed: no lsn yet
  rec->commit_ts = commit_ts;
  put<int64_t>(rec->frame.data() + 8, commit_ts);
}

void seal_record(EncodedRecord* rec, uint64_t lsn) {
  assert(rec != nullptr && lsn >= 1);
  assert(rec->frame.size() >= kRecordHeaderBytes + kPayloadBytesMin);
  char* p = rec->frame.data();
  const uint32_t length = get<uint32_t>(p);
  assert(length + kRecordHeaderBytes == rec->frame.size());
  put<uint64_t>(p + 16, lsn);
  put<uint32_t>(p + 4, record_checksum(rec->payload_crc, length, rec->commit_ts, lsn));
}

bool parse_record_header(std::string_view bytes, RecordView* out, std::string* why) {
  assert(bytes.size() >= kRecordHeaderBytes);
  assert(out != nullptr && why != nullptr);
  const char* p = bytes.data();
  out->length = get<uint32_t>(p);
  out->checksum = get<uint32_t>(p + 4);
  out->commit_ts = get<int64_t>(p + 8);
  out->lsn = get<uint64_t>(p + 16);
  out->payload = {};
  if (out->length < kPayloadBytesMin || out->length > kPayloadBytesLimit) {
    *why = "bad record length " + std::to_string(out->length);
    return false;
  }
  return true;
}

bool check_record(std::string_view frame, RecordView* out, std::string* why) {
  assert(frame.size() >= kRecordHeaderBytes);
  if (!parse_record_header(frame, out, why)) return false;
  assert(frame.size() == out->frame_bytes());
  out->payload = frame.substr(kRecordHeaderBytes);
  const uint32_t computed = record_checksum(
      crc32c::value(out->payload.data(), out->payload.size()), out->length, out->commit_ts,
      out->lsn);
  if (computed != out->checksum) {
    *why = "checksum mismatch (stored " + hex32(out->checksum) + ", computed " + hex32(computed) +
           ")";
    return false;
  }
  if (out->lsn == 0) {
    *why = "record has lsn 0";
    return false;
  }
  return validate_payload(out->payload, why);
}

bool validate_payload(std::string_view payload, std::string* why) {
  assert(why != nullptr);
  if (payload.size() < kPayloadBytesMin) {
    *why = "payload shorter than its write count";
    return false;
  }
  const uint32_t count = get<uint32_t>(payload.data());
  size_t pos = 4;
  // One pass per declared write; each consumes >= 8 bytes or fails, so it ends within
  // payload.size() / 8 passes even when count is garbage.
  for (uint32_t i = 0; i < count; ++i) {
    if (payload.size() - pos < kWriteHeaderBytes) {
      *why = "malformed payload: write " + std::to_string(i) + " of " + std::to_string(count) +
             " runs past the end";
      return false;
    }
    const uint64_t key_len = get<uint32_t>(payload.data() + pos);
    const uint32_t value_len = get<uint32_t>(payload.data() + pos + 4);
    pos += kWriteHeaderBytes;
    const uint64_t body = key_len + (value_len == kTombstoneLen ? 0 : uint64_t{value_len});
    if (payload.size() - pos < body) {
      *why = "malformed payload: write " + std::to_string(i) + " of " + std::to_string(count) +
             " runs past the end";
      return false;
    }
    pos += body;
  }
  if (pos != payload.size()) {
    *why = "malformed payload: " + std::to_string(payload.size() - pos) +
           " bytes after the last write";
    return false;
  }
  return true;
}

PayloadIterator::PayloadIterator(std::string_view payload) : payload_(payload) {
  assert(payload.size() >= kPayloadBytesMin);
  count_ = get<uint32_t>(payload.data());
  pos_ = 4;
}

bool PayloadIterator::next(WriteView* out) {
  assert(out != nullptr);
  if (done_ == count_) {
    assert(pos_ == payload_.size());
    return false;
  }
  const uint32_t key_len = get<uint32_t>(payload_.data() + pos_);
  const uint32_t value_len = get<uint32_t>(payload_.data() + pos_ + 4);
  pos_ += kWriteHeaderBytes;
  out->key = payload_.substr(pos_, key_len);
  pos_ += key_len;
  out->tombstone = value_len == kTombstoneLen;
  out->value = out->tombstone ? std::string_view() : payload_.substr(pos_, value_len);
  if (!out->tombstone) pos_ += value_len;
  assert(pos_ <= payload_.size());
  ++done_;
  return true;
}

std::vector<Write> decode_writes(std::string_view payload) {
  PayloadIterator it(payload);
  std::vector<Write> out;
  out.reserve(it.count());
  WriteView w;
  while (it.next(&w)) {
    Write owned;
    owned.key = std::string(w.key);
    if (!w.tombstone) owned.value = std::string(w.value);
    out.push_back(std::move(owned));
  }
  assert(out.size() == it.count());
  return out;
}

}  // namespace dsql::journal
