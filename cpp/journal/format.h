// The journal's on-disk format: segment file names, segment headers, record frames and the
// writes payload. The grammar is at the top of format.cc and in docs/journal-format.md.
//
// A record is built in two steps so that group commit holds its lock only briefly:
// encode_record() frames the payload and checksums it (any thread, no lock), then seal_record()
// stamps the lsn and finishes the checksum over the 16 header bytes (under the journal's lock,
// where lsns are handed out in file order).
//
// Segment files may end in a zero tail (preallocation); format.cc says how a reader tells the
// clean end of the records from damage.
//
// Thread-safety: pure functions over caller-owned buffers.
// Invariants:
//   1. A sealed frame is kRecordHeaderBytes + length bytes; length == payload size.
//   2. check_record() accepts exactly the frames seal_record() produces (any single flipped bit
//      in a frame is caught by the CRC32C checksum).
//   3. A frame's first 4 bytes (its length, >= kPayloadBytesMin) are never all zero, so a zero
//      tail can never be read as a record, nor a record as a zero tail.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsql::journal {

static_assert(std::endian::native == std::endian::little,
              "the journal format is little-endian and is read with memcpy");

inline constexpr char kSegmentMagic[8] = {'D', 'S', 'Q', 'L', 'J', 'R', 'N', 'L'};
inline constexpr uint32_t kFormatVersion = 2;  // 2: segments may end in a zero tail
inline constexpr size_t kSegmentHeaderBytes = 40;
inline constexpr size_t kRecordHeaderBytes = 24;  // length, checksum, commit_ts, lsn
inline constexpr size_t kWriteHeaderBytes = 8;    // key_len, value_len
inline constexpr size_t kPayloadBytesMin = 4;     // write_count
inline constexpr size_t kPayloadBytesLimit = size_t{1} << 30;  // no record is larger, ever
inline constexpr uint32_t kTombstoneLen = 0xFFFFFFFFu;

// ---- segment files ----------------------------------------------------------------------------
struct SegmentHeader {
  uint64_t seq = 0;        // 1, 2, 3, ... in file order
  uint64_t first_lsn = 0;  // lsn of the segment's first record (>= 1)
};

std::string encode_segment_header(const SegmentHeader& header);
// False (with why) unless bytes starts with a valid header. When the header is intact (magic and
// checksum good) but of another format version, *other_version (if given) gets that version,
// else 0: such a file was written by another build and is not damage.
bool decode_segment_header(std::string_view bytes, SegmentHeader* out, std::string* why,
                           uint32_t* other_version = nullptr);

// The name of the spare: the next segment file, preallocated under this name until a rollover
// gives it a header and renames it (see format.cc).
inline constexpr std::string_view kSpareFileName = "journal-spare.tmp";

// "journal-<first_lsn as 16 lowercase hex digits>.seg".
std::string segment_file_name(uint64_t first_lsn);
bool parse_segment_file_name(std::string_view name, uint64_t* first_lsn);

// True when every byte of data[0, n) is zero.
bool all_zero(const char* data, size_t n);

// ---- writes -------------------------------------------------------------------------------------
// One write of a transaction: a post-image (key, value) or a tombstone (key deleted).
struct WriteView {
  std::string_view key;
  std::string_view value;  // ignored when tombstone
  bool tombstone = false;
};

// An owning write, for C++ callers that want values rather than views.
struct Write {
  std::string key;
  std::optional<std::string> value;  // nullopt = tombstone
  bool operator==(const Write&) const = default;
};

// ---- records ------------------------------------------------------------------------------------
// A framed record waiting for its lsn (see the file comment).
struct EncodedRecord {
  std::string frame;  // header (lsn and checksum not yet set) + payload
  int64_t commit_ts = 0;
  uint32_t payload_crc = 0;
};

// REQUIRES: writes != nullptr || count == 0. Throws std::invalid_argument when a key or value
// is too long or the payload would exceed payload_bytes_max (<= kPayloadBytesLimit).
EncodedRecord encode_record(int64_t commit_ts, const WriteView* writes, size_t count,
                            size_t payload_bytes_max);
// Sets the commit_ts of a record not yet sealed, for a caller that frames the writes before its
// commit ts is decided (the payload checksum does not cover the commit ts; sealing does).
// REQUIRES: rec was made by encode_record and not sealed.
void restamp_record(EncodedRecord* rec, int64_t commit_ts);
// REQUIRES: lsn >= 1 and rec was made by encode_record.
void seal_record(EncodedRecord* rec, uint64_t lsn);
uint32_t record_checksum(uint32_t payload_crc, uint32_t length, int64_t commit_ts, uint64_t lsn);

struct RecordView {
  uint32_t length = 0;  // payload bytes
  uint32_t checksum = 0;
  int64_t commit_ts = 0;
  uint64_t lsn = 0;
  std::string_view payload;
  size_t frame_bytes() const { return kRecordHeaderBytes + length; }
};

// Decodes the 24-byte frame header (REQUIRES: bytes.size() >= kRecordHeaderBytes); false with
// why when the length is out of range. Does not look at the payload.
bool parse_record_header(std::string_view bytes, RecordView* out, std::string* why);
// REQUIRES: frame.size() == kRecordHeaderBytes + header length. Checks the checksum and the
// payload's structure; fills out->payload (a view into frame).
bool check_record(std::string_view frame, RecordView* out, std::string* why);
bool validate_payload(std::string_view payload, std::string* why);

// Walks a validated payload's writes without copying.
class PayloadIterator {
 public:
  // REQUIRES: validate_payload(payload) held.
  explicit PayloadIterator(std::string_view payload);
  uint32_t count() const { return count_; }
  // The next write (views into the payload), or false after the last.
  bool next(WriteView* out);

 private:
  std::string_view payload_;
  size_t pos_ = 0;
  uint32_t count_ = 0;
  uint32_t done_ = 0;
};

// REQUIRES: validate_payload(payload) held.
std::vector<Write> decode_writes(std::string_view payload);

}  // namespace dsql::journal
