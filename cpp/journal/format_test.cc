// Journal format: segment headers, file names, record frames and payloads.
// Goal: what encode/seal writes, check_record accepts and decodes back exactly, and any damage
// to a frame or header is rejected with a reason. Method: round trips over edge-case writes,
// then every single-bit flip of a sealed frame and of a header, then hand-made malformed
// payloads; an intact header of another version is told apart from damage; a frame never
// starts with a zero length (what lets a reader tell the zero tail of a preallocated segment
// from a record).
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "journal/format.h"
#include "testing/unit.h"

namespace dsql::journal {
namespace {

std::vector<WriteView> sample_writes() {
  return {
      WriteView{"k1", "v1", false},
      WriteView{"", "empty key", false},
      WriteView{"empty value", "", false},
      WriteView{"deleted", "ignored", true},
      WriteView{std::string_view("\0\xff\x01", 3), std::string_view("\0\0", 2), false},
  };
}

EncodedRecord sealed(int64_t ts, uint64_t lsn, const std::vector<WriteView>& w) {
  EncodedRecord rec = encode_record(ts, w.data(), w.size(), kPayloadBytesLimit);
  seal_record(&rec, lsn);
  return rec;
}

DSQL_TEST(JournalFormat, SegmentHeaderRoundTrip) {
  const std::string bytes = encode_segment_header(SegmentHeader{7, 12345});
  CHECK_EQ(bytes.size(), kSegmentHeaderBytes);
  SegmentHeader h;
  std::string why;
  REQUIRE(decode_segment_header(bytes, &h, &why));
  CHECK_EQ(h.seq, uint64_t{7});
  CHECK_EQ(h.first_lsn, uint64_t{12345});
  CHECK(!decode_segment_header(bytes.substr(0, 39), &h, &why));
  CHECK(why.find("cut short") != std::string::npos);
}

DSQL_TEST(JournalFormat, EveryHeaderBitFlipIsRejected) {
  const std::string good = encode_segment_header(SegmentHeader{3, 99});
  for (size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      SegmentHeader h;
      std::string why;
      CHECK(!decode_segment_header(bad, &h, &why));
      CHECK(!why.empty());
    }
  }
}

DSQL_TEST(JournalFormat, OtherVersionIsNotDamage) {
  std::string other = encode_segment_header(SegmentHeader{3, 99});
  const uint32_t v1 = 1;
  std::memcpy(other.data() + 8, &v1, 4);
  const uint32_t crc = crc32c::value(other.data(), 32);
  std::memcpy(other.data() + 32, &crc, 4);  // an intact version 1 header
  SegmentHeader h;
  std::string why;
  uint32_t version = 77;
  CHECK(!decode_segment_header(other, &h, &why, &version));
  CHECK_EQ(version, uint32_t{1});
  CHECK(why.find("version 1") != std::string::npos);
  // A damaged header is damage, whatever its version field says.
  other[20] = static_cast<char>(other[20] ^ 1);
  CHECK(!decode_segment_header(other, &h, &why, &version));
  CHECK_EQ(version, uint32_t{0});
  CHECK(decode_segment_header(encode_segment_header(SegmentHeader{1, 1}), &h, &why, &version));
  CHECK_EQ(version, uint32_t{0});
}

DSQL_TEST(JournalFormat, ZeroDetectionAndFramesNeverStartWithZeroLength) {
  CHECK(all_zero(nullptr, 0));
  std::string z(100, '\0');
  for (size_t n = 0; n <= z.size(); ++n) CHECK(all_zero(z.data(), n));
  for (size_t at = 0; at < z.size(); ++at) {  // every position, word-aligned or not
    std::string one = z;
    one[at] = 1;
    CHECK(!all_zero(one.data(), one.size()));
    CHECK(all_zero(one.data(), at));
  }
  const EncodedRecord empty = sealed(0, 1, {});
  CHECK(!all_zero(empty.frame.data(), 4));
  RecordView view;
  std::string why;
  CHECK(!parse_record_header(std::string(kRecordHeaderBytes, '\0'), &view, &why));
}

DSQL_TEST(JournalFormat, SegmentFileNames) {
  CHECK_EQ(segment_file_name(1), std::string("journal-0000000000000001.seg"));
  CHECK_EQ(segment_file_name(0xabcdef), std::string("journal-0000000000abcdef.seg"));
  uint64_t lsn = 0;
  CHECK(parse_segment_file_name("journal-0000000000abcdef.seg", &lsn));
  CHECK_EQ(lsn, uint64_t{0xabcdef});
  CHECK(parse_segment_file_name(segment_file_name(UINT64_MAX), &lsn));
  CHECK_EQ(lsn, UINT64_MAX);
  CHECK(!parse_segment_file_name("journal-0000000000000000.seg", &lsn));  // lsn 0
  CHECK(!parse_segment_file_name("journal-0000000000ABCDEF.seg", &lsn));
  CHECK(!parse_segment_file_name("journal-000000000000001.seg", &lsn));
  CHECK(!parse_segment_file_name("journal-0000000000000001.seg.tmp", &lsn));
  CHECK(!parse_segment_file_name("LOCK", &lsn));
  CHECK(!parse_segment_file_name(kSpareFileName, &lsn));  // the spare is never a segment
}

DSQL_TEST(JournalFormat, RecordRoundTrip) {
  const auto writes = sample_writes();
  const EncodedRecord rec = sealed(-5, 42, writes);
  RecordView view;
  std::string why;
  REQUIRE(check_record(rec.frame, &view, &why));
  CHECK_EQ(view.lsn, uint64_t{42});
  CHECK_EQ(view.commit_ts, int64_t{-5});
  CHECK_EQ(view.frame_bytes(), rec.frame.size());
  const std::vector<Write> got = decode_writes(view.payload);
  REQUIRE(got.size() == writes.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].key == writes[i].key);
    CHECK_EQ(got[i].value.has_value(), !writes[i].tombstone);
    if (!writes[i].tombstone) CHECK(*got[i].value == writes[i].value);
  }
  // No writes at all is a valid (if useless) record.
  const EncodedRecord empty = sealed(0, 1, {});
  CHECK_EQ(empty.frame.size(), kRecordHeaderBytes + kPayloadBytesMin);
  REQUIRE(check_record(empty.frame, &view, &why));
  CHECK(decode_writes(view.payload).empty());
}

DSQL_TEST(JournalFormat, EveryFrameBitFlipIsCaught) {
  const std::vector<WriteView> writes{WriteView{"key", "value", false},
                                      WriteView{"gone", "", true}};
  const EncodedRecord rec = sealed(1'700'000'000'000'000'000, 9, writes);
  int caught = 0;
  for (size_t byte = 0; byte < rec.frame.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = rec.frame;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      RecordView view;
      std::string why;
      // A flipped length changes the frame's size: it must be rejected before the checksum.
      if (!parse_record_header(bad, &view, &why) || view.frame_bytes() != bad.size()) {
        ++caught;
        continue;
      }
      CHECK(!check_record(bad, &view, &why));
      CHECK(!why.empty());
      ++caught;
    }
  }
  CHECK_EQ(caught, static_cast<int>(rec.frame.size() * 8));
}

DSQL_TEST(JournalFormat, MalformedPayloadsAreRejected) {
  std::string why;
  CHECK(!validate_payload(std::string_view("\x01\x00\x00", 3), &why));
  // One write declared, none present.
  CHECK(!validate_payload(std::string_view("\x01\x00\x00\x00", 4), &why));
  // A write whose key runs past the end.
  const std::string long_key("\x01\x00\x00\x00\x09\x00\x00\x00\xff\xff\xff\xffkey", 15);
  CHECK(!validate_payload(long_key, &why));
  CHECK(why.find("runs past the end") != std::string::npos);
  // Trailing bytes after the last write.
  CHECK(!validate_payload(std::string_view("\x00\x00\x00\x00z", 5), &why));
  CHECK(why.find("after the last write") != std::string::npos);
  // A garbage count cannot make validation loop for long.
  CHECK(!validate_payload(std::string_view("\xff\xff\xff\xff", 4), &why));
  CHECK(validate_payload(std::string_view("\x00\x00\x00\x00", 4), &why));
}

DSQL_TEST(JournalFormat, OversizedRecordsAreRefused) {
  const std::string big(100, 'x');
  const WriteView w{"k", big, false};
  bool threw = false;
  try {
    encode_record(1, &w, 1, 64);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  const EncodedRecord ok = encode_record(1, &w, 1, 4 + 8 + 1 + 100);
  CHECK_EQ(ok.frame.size(), kRecordHeaderBytes + 4 + 8 + 1 + 100);
}

}  // namespace
}  // namespace dsql::journal
