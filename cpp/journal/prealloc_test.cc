// Journal preallocation: zero-filled segments, the spare, and how recovery reads zero tails.
// Goal: preallocated segments hold and return the same records as growing ones; recovery takes
// a zero tail after the last record as the clean end and nothing else: a torn record followed
// by zeros, zeros followed by records, and a damaged tail are damage, cut at the right offset;
// a spare left by a crash is removed without counting as damage; a segment of another format
// version stops the open and changes nothing. Method: journals with preallocation on (and
// unsafe-no-sync durability, for speed), their layout, then damage written byte by byte
// (zeros from every offset of every record, a flipped byte at every offset of every file,
// spares in every state a crash can leave) and a check of what recovery keeps and says.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "journal/journal.h"
#include "journal/recovery.h"
#include "journal/test_support.h"
#include "testing/unit.h"

namespace dsql::journal {
namespace {

using test::append_ts;
using test::build;
using test::Layout;
using test::materialise;
using test::prealloc_options;
using test::read_all;
using test::read_file;
using test::record_matches;
using test::records_before;
using test::TempDir;
using test::unsafe_options;
using test::write_file;

constexpr int64_t kWaitNs = 10'000'000'000;

template <typename E, typename F>
std::string thrown(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

bool spare_exists(const std::string& dir) {
  return std::filesystem::exists(dir + "/" + std::string(kSpareFileName));
}

DSQL_TEST(Prealloc, SegmentsAreZeroFilledToFullSize) {
  TempDir dir;
  constexpr uint64_t kSeg = 4096;
  const Layout l = build(dir.path(), 120, prealloc_options(kSeg));
  REQUIRE(l.names.size() >= 3);
  // The first segment is made at open, with just its header (open does not wait for
  // zero-filling); the journal moves to the spare at the next batch.
  CHECK_EQ(l.recs[0].file, size_t{0});
  CHECK_EQ(l.recs[1].file, size_t{1});
  CHECK_EQ(l.bytes[0].size(), l.records_end(0));
  for (size_t f = 1; f < l.names.size(); ++f) {
    CHECK_EQ(l.bytes[f].size(), kSeg);
    const uint64_t end = l.records_end(f);
    CHECK(all_zero(l.bytes[f].data() + end, kSeg - end));
  }
  CHECK(!spare_exists(dir.path()));  // close removed it
  auto j = Journal::open(dir.path(), prealloc_options(kSeg));
  const RecoveryReport& r = j->recovery();
  CHECK(r.clean());
  CHECK(r.spare_files.empty());
  CHECK_EQ(r.last_lsn, uint64_t{120});
  const auto segs = j->segments();
  REQUIRE(segs.size() == l.names.size());
  for (size_t f = 0; f < segs.size(); ++f) CHECK_EQ(segs[f].bytes, l.records_end(f));
  const auto all = read_all(j);
  CHECK_EQ(all.size(), size_t{120});
  for (const Record& rec : all) CHECK(record_matches(rec));
  CHECK_EQ(append_ts(*j, 5000), uint64_t{121});
}

DSQL_TEST(Prealloc, DefaultsAndTheSpareLifecycle) {
  Options o;
  CHECK(preallocates(o));  // fdatasync
  o.durability = Durability::kUnsafeNoSync;
  CHECK(!preallocates(o));
  o.preallocate = true;
  CHECK(preallocates(o));
  o = Options{};
  o.preallocate = false;
  CHECK(!preallocates(o));

  TempDir dir;
  auto j = Journal::open(dir.path(), prealloc_options(4096));
  CHECK(j->preallocate());
  CHECK(j->wait_spare_ready(kWaitNs));
  CHECK(spare_exists(dir.path()));
  CHECK_EQ(std::filesystem::file_size(dir.sub(std::string(kSpareFileName))), uint64_t{4096});
  j->close();
  CHECK(!spare_exists(dir.path()));
  CHECK(!j->wait_spare_ready(0));
  auto k = Journal::open(dir.path(), unsafe_options());
  CHECK(!k->preallocate());
  CHECK(!k->wait_spare_ready(0));
  k->close();
  CHECK(!spare_exists(dir.path()));
}

DSQL_TEST(Prealloc, ShortActiveSegmentMovesToTheSpare) {
  TempDir dir;
  {
    auto j = Journal::open(dir.path(), unsafe_options(1 << 20));  // no preallocation
    for (int64_t ts = 1; ts <= 5; ++ts) append_ts(*j, ts);
  }
  const std::string first = test::segment_files(dir.path()).at(0);
  const uint64_t first_size = std::filesystem::file_size(first);
  auto j = Journal::open(dir.path(), prealloc_options(1 << 20));
  CHECK(j->recovery().clean());
  REQUIRE(j->wait_spare_ready(kWaitNs));
  CHECK_EQ(append_ts(*j, 6), uint64_t{6});
  const auto segs = j->segments();
  REQUIRE(segs.size() == 2);
  CHECK_EQ(segs[1].first_lsn, uint64_t{6});
  CHECK_EQ(std::filesystem::file_size(segs[1].path), uint64_t{1} << 20);
  CHECK_EQ(std::filesystem::file_size(first), first_size);
  j->close();
  auto again = Journal::open(dir.path(), prealloc_options(1 << 20));
  CHECK(again->recovery().clean());
  CHECK_EQ(read_all(again).size(), size_t{6});
}

DSQL_TEST(Prealloc, OversizedRecordGrowsItsOwnSegment) {
  TempDir dir;
  auto j = Journal::open(dir.path(), prealloc_options(512));
  REQUIRE(j->wait_spare_ready(kWaitNs));
  append_ts(*j, 1);
  const std::string big(1000, 'b');
  CHECK_EQ(j->append(2, {WriteView{"big", big, false}}), uint64_t{2});
  append_ts(*j, 3);
  const auto segs = j->segments();
  REQUIRE(segs.size() == 3);
  CHECK_EQ(segs[1].records, uint64_t{1});
  CHECK_EQ(std::filesystem::file_size(segs[1].path), segs[1].bytes);  // grew past 512
  CHECK_EQ(std::filesystem::file_size(segs[2].path), uint64_t{512});
  j->close();
  auto again = Journal::open(dir.path(), prealloc_options(512));
  CHECK(again->recovery().clean());
  const auto all = read_all(again);
  REQUIRE(all.size() == 3);
  CHECK(*all[1].writes()[0].value == big);
}

DSQL_TEST(Prealloc, FdatasyncJournalPreallocatesAndRollsOver) {
  TempDir dir;
  Options o;  // fdatasync, preallocation by default
  o.segment_bytes = 2048;
  {
    auto j = Journal::open(dir.path(), o);
    REQUIRE(j->wait_spare_ready(kWaitNs));
    for (int64_t ts = 1; ts <= 60; ++ts) CHECK_EQ(append_ts(*j, ts), static_cast<uint64_t>(ts));
    CHECK(j->segments().size() >= 3);
    CHECK_EQ(j->stats().syncs, uint64_t{60});
  }
  auto j = Journal::open(dir.path(), o);
  CHECK(j->recovery().clean());
  const auto all = read_all(j);
  CHECK_EQ(all.size(), size_t{60});
  for (const Record& rec : all) CHECK(record_matches(rec));
}

// Recovery ------------------------------------------------------------------------------------

DSQL_TEST(PreallocRecovery, ZerosFromEveryOffsetOfEveryRecord) {
  // A record written only up to some byte, then zeros (its later pages never reached the
  // disk), is torn; zeros where a record starts with records after them are a gap: damage
  // both. Only zeros from a record's start to the end of the file are the clean end.
  TempDir dir;
  const Layout l = build(dir.sub("orig"), 8, prealloc_options(4096));
  REQUIRE(l.names.size() == 2);
  const size_t f = 1;
  const std::string& full = l.bytes[f];
  int checked = 0;
  for (size_t i = 0; i < l.recs.size(); ++i) {
    const Layout::Rec& rec = l.recs[i];
    if (rec.file != f) continue;
    for (uint64_t k = 0; rec.offset + k < rec.end; ++k) {
      std::string bad = full;
      std::fill(bad.begin() + static_cast<std::ptrdiff_t>(rec.offset + k),
                bad.begin() + static_cast<std::ptrdiff_t>(rec.end), '\0');
      materialise(dir.sub("j"), l, f, bad);
      auto j = Journal::open(dir.sub("j"), prealloc_options(4096));
      const RecoveryReport& r = j->recovery();
      const bool clean_end = all_zero(bad.data() + rec.offset, bad.size() - rec.offset);
      CHECK_EQ(r.last_lsn, uint64_t{i});
      CHECK_EQ(r.clean(), clean_end);
      if (!clean_end) {
        CHECK_EQ(r.truncated_offset, rec.offset);
        CHECK(r.truncated_file.find(l.names[f]) != std::string::npos);
        CHECK(!r.reason.empty());
        if (k == 0) CHECK(r.reason.find("zero-filled gap") != std::string::npos);
        CHECK(r.dropped_files.empty());
      }
      const auto all = read_all(j);
      CHECK_EQ(all.size(), size_t{i});
      for (const Record& got : all) CHECK(record_matches(got));
      CHECK_EQ(append_ts(*j, 9), uint64_t{i + 1});
      ++checked;
    }
  }
  CHECK(checked > 100);
}

DSQL_TEST(PreallocRecovery, FlippedByteAnywhereIncludingZeroTails) {
  TempDir dir;
  const Layout l = build(dir.sub("orig"), 16, prealloc_options(512));
  REQUIRE(l.names.size() >= 3);
  for (size_t f = 0; f < l.names.size(); ++f) {
    const uint64_t tail = l.records_end(f);
    // Every byte of the header and the records; in the zero tail its first 5 bytes (a length
    // field), then every 11th, then its last byte.
    for (uint64_t at = 0; at < l.bytes[f].size();
         at += (at < tail + 5 || at + 1 == l.bytes[f].size()) ? 1
               : std::min<uint64_t>(11, l.bytes[f].size() - 1 - at)) {
      std::string bad = l.bytes[f];
      bad[at] = static_cast<char>(bad[at] ^ 0x5a);
      materialise(dir.sub("j"), l, f, bad);
      auto j = Journal::open(dir.sub("j"), prealloc_options(512));
      const RecoveryReport& r = j->recovery();
      const bool in_header = at < kSegmentHeaderBytes;
      const bool in_tail = at >= tail;
      const uint64_t keep = in_header ? records_before(l, f, 0) : records_before(l, f, at);
      const uint64_t offset = in_header ? 0 : in_tail ? tail : l.recs[keep].offset;
      CHECK(r.truncated);
      CHECK_EQ(r.last_lsn, keep);
      CHECK(r.truncated_file.find(l.names[f]) != std::string::npos);
      CHECK_EQ(r.truncated_offset, offset);
      CHECK_EQ(r.dropped_files.size(), l.names.size() - f - (in_header ? 0 : 1));
      const std::string msg = r.messages.empty() ? "" : r.messages.front();
      CHECK(msg.find(l.names[f] + " offset " + std::to_string(offset)) == 0);
      CHECK_EQ(read_all(j, j->first_lsn()).size(), keep);
      CHECK_EQ(append_ts(*j, 7), keep + 1);
    }
  }
}

DSQL_TEST(PreallocRecovery, TruncationAnywhereInTheTailIsClean) {
  TempDir dir;
  const Layout l = build(dir.sub("orig"), 6, prealloc_options(2048));
  REQUIRE(l.names.size() == 2);
  const uint64_t end = l.records_end(1);
  for (uint64_t cut = end; cut <= l.bytes[1].size(); cut += 97) {
    materialise(dir.sub("j"), l, 1, l.bytes[1].substr(0, cut));
    auto j = Journal::open(dir.sub("j"), prealloc_options(2048));
    CHECK(j->recovery().clean());
    CHECK_EQ(j->recovery().last_lsn, uint64_t{6});
    const std::vector<SegmentInfo> segs = j->segments();  // (CHECK_EQ keeps a reference)
    CHECK_EQ(segs.back().bytes, end);
  }
}

DSQL_TEST(PreallocRecovery, ASpareLeftByACrashIsRemovedNotReportedAsDamage) {
  // The states a crash can leave the spare in: just created, partly or wholly zero-filled,
  // given its header but not yet renamed; and, for good measure, garbage.
  TempDir dir;
  const Layout l = build(dir.sub("orig"), 8, prealloc_options(4096));
  const std::string header = encode_segment_header(SegmentHeader{3, 9});
  const std::vector<std::string> spares = {
      "", std::string(1000, '\0'), std::string(4096, '\0'),
      header + std::string(4096 - header.size(), '\0'), std::string(300, 'g')};
  for (const std::string& content : spares) {
    materialise(dir.sub("j"), l, 0, l.bytes[0]);
    const std::string spare = dir.sub("j") + "/" + std::string(kSpareFileName);
    write_file(spare, content);
    const RecoveryPlan plan = plan_recovery(dir.sub("j"));
    CHECK(plan.report.clean());
    REQUIRE(plan.report.spare_files.size() == 1);
    CHECK_EQ(plan.report.spare_files[0], spare);
    CHECK(plan.report.ignored_files.empty());
    CHECK(std::filesystem::exists(spare));  // planning changes nothing
    auto j = Journal::open(dir.sub("j"), prealloc_options(4096));
    const RecoveryReport& r = j->recovery();
    CHECK(r.clean());
    CHECK_EQ(r.spare_files.size(), size_t{1});
    CHECK_EQ(r.messages.size(), size_t{1});
    CHECK(r.messages[0].find("removed journal-spare.tmp") == 0);
    CHECK_EQ(r.last_lsn, uint64_t{8});
    REQUIRE(j->wait_spare_ready(kWaitNs));  // a fresh spare replaces it
    for (int64_t ts = 9; ts <= 80; ++ts) append_ts(*j, ts);  // rolls over through spares
    j->close();
    CHECK(!std::filesystem::exists(spare));
    auto again = Journal::open(dir.sub("j"), prealloc_options(4096));
    CHECK(again->recovery().clean());
    CHECK_EQ(read_all(again).size(), size_t{80});
  }
}

DSQL_TEST(PreallocRecovery, AnotherFormatVersionStopsTheOpenAndChangesNothing) {
  TempDir dir;
  {
    auto j = Journal::open(dir.path(), unsafe_options());
    for (int64_t ts = 1; ts <= 3; ++ts) append_ts(*j, ts);
  }
  const std::string path = test::segment_files(dir.path()).at(0);
  std::string bytes = read_file(path);
  const uint32_t v1 = 1;
  std::memcpy(bytes.data() + 8, &v1, 4);
  const uint32_t crc = crc32c::value(bytes.data(), 32);
  std::memcpy(bytes.data() + 32, &crc, 4);
  write_file(path, bytes);
  const std::string why =
      thrown<JournalError>([&] { Journal::open(dir.path(), unsafe_options()); });
  CHECK(why.find("format version 1") != std::string::npos);
  CHECK(why.find("another build") != std::string::npos);
  CHECK(read_file(path) == bytes);
  CHECK(!thrown<JournalError>([&] { plan_recovery(dir.path()); }).empty());
}

DSQL_TEST(PreallocRecovery, AReaderMeetingZerosInDurableRecordsRaises) {
  for (const uint64_t victim : {uint64_t{3}, uint64_t{5}}) {  // in the middle; the last one
    TempDir dir;
    auto j = Journal::open(dir.path(), prealloc_options(1 << 16));
    REQUIRE(j->wait_spare_ready(kWaitNs));
    append_ts(*j, 1);  // the first segment; the rest go into a preallocated one
    std::vector<uint64_t> offsets;
    for (int64_t ts = 2; ts <= 5; ++ts) {
      offsets.push_back(j->segments().back().records == 0 ? kSegmentHeaderBytes
                                                          : j->segments().back().bytes);
      append_ts(*j, ts);
    }
    const SegmentInfo seg = j->segments().back();
    REQUIRE(seg.first_lsn == 2);
    const uint64_t at = offsets[victim - 2];
    const uint64_t end = victim == 5 ? seg.bytes : offsets[victim - 1];
    std::string bytes = read_file(seg.path);
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(at),
              bytes.begin() + static_cast<std::ptrdiff_t>(end), '\0');
    write_file(seg.path, bytes);  // damage a durable record under the open journal
    const std::string why = thrown<JournalCorruption>([&] { read_all(j); });
    CHECK(why.find(seg.path + " offset " + std::to_string(at) + ": zero bytes") == 0);
  }
}

}  // namespace
}  // namespace dsql::journal
