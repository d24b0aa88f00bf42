// Journal recovery: torn tails, flipped bytes, stray files, broken segment chains.
// Goal: on open, the journal keeps exactly the records before the first damaged one, cuts the
// rest, appends after them, and says which file, which offset and why. Method: build a small
// journal, remember every record's file and offset, then damage a copy of its bytes at every
// offset (cut there, or flip a byte there) and check what recovery keeps and reports.
#include <filesystem>
#include <string>
#include <vector>

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
using test::read_all;
using test::read_file;
using test::record_matches;
using test::records_before;
using test::TempDir;
using test::unsafe_options;
using test::write_file;

DSQL_TEST(Recovery, TornTailAtEveryOffsetOfTheLastSegment) {
  TempDir dir;
  const Layout l = build(dir.sub("orig"), 6, 1 << 20);
  REQUIRE(l.names.size() == 1);
  const std::string& full = l.bytes[0];
  for (uint64_t cut = 0; cut <= full.size(); ++cut) {
    materialise(dir.sub("j"), l, 0, full.substr(0, cut));
    auto j = Journal::open(dir.sub("j"), unsafe_options());
    const RecoveryReport& r = j->recovery();
    const uint64_t keep = cut < kSegmentHeaderBytes ? 0 : records_before(l, 0, cut);
    CHECK_EQ(r.last_lsn, keep);
    CHECK_EQ(r.next_lsn, keep + 1);
    const bool at_boundary = cut == full.size() || (keep > 0 && l.recs[keep - 1].end == cut) ||
                             (keep == 0 && cut == kSegmentHeaderBytes);
    CHECK_EQ(r.clean(), at_boundary);
    if (!at_boundary) {
      CHECK(r.truncated_file.find(l.names[0]) != std::string::npos);
      CHECK(!r.reason.empty());
      CHECK(!r.messages.empty());
      if (cut >= kSegmentHeaderBytes) CHECK_EQ(r.truncated_offset, l.recs[keep].offset);
    }
    const auto all = read_all(j);
    CHECK_EQ(all.size(), keep);
    for (const Record& rec : all) CHECK(record_matches(rec));
    CHECK_EQ(append_ts(*j, 5), keep + 1);  // the journal goes on after the cut
  }
}

DSQL_TEST(Recovery, FlippedByteAnywhereStopsAtThatRecord) {
  TempDir dir;
  const Layout l = build(dir.sub("orig"), 12, 400);
  REQUIRE(l.names.size() >= 3);
  for (size_t f = 0; f < l.names.size(); ++f) {
    for (uint64_t at = 0; at < l.bytes[f].size(); ++at) {
      std::string bad = l.bytes[f];
      bad[at] = static_cast<char>(bad[at] ^ 0x5a);
      materialise(dir.sub("j"), l, f, bad);
      auto j = Journal::open(dir.sub("j"), unsafe_options(400));
      const RecoveryReport& r = j->recovery();
      const bool in_header = at < kSegmentHeaderBytes;
      const uint64_t keep = in_header ? records_before(l, f, 0) : records_before(l, f, at);
      CHECK(r.truncated);
      CHECK_EQ(r.last_lsn, keep);
      CHECK(r.truncated_file.find(l.names[f]) != std::string::npos);
      CHECK_EQ(r.truncated_offset, in_header ? uint64_t{0} : l.recs[keep].offset);
      // Later segment files are removed; so is this one when its header is the damage.
      CHECK_EQ(r.dropped_files.size(), l.names.size() - f - (in_header ? 0 : 1));
      const size_t files_left = std::max<size_t>(1, f + (in_header ? 0 : 1));
      CHECK_EQ(test::segment_files(dir.sub("j")).size(), files_left);
      const std::string msg = r.messages.empty() ? "" : r.messages.front();
      CHECK(msg.find(l.names[f] + " offset " + std::to_string(r.truncated_offset)) == 0);
      const auto all = read_all(j, j->first_lsn());
      CHECK_EQ(all.size(), keep);
      // lsns never go below the first segment's name, even when it is the damaged one.
      CHECK_EQ(append_ts(*j, 7), keep + 1);
    }
  }
}

DSQL_TEST(Recovery, StrayFilesAreIgnoredAndReported) {
  TempDir dir;
  {
    auto j = Journal::open(dir.path(), unsafe_options());
    append_ts(*j, 1);
  }
  write_file(dir.sub("notes.txt"), "hello");
  write_file(dir.sub("journal-0000000000000001.seg.bak"), "old");
  std::filesystem::create_directory(dir.sub("subdir"));
  auto j = Journal::open(dir.path(), unsafe_options());
  const RecoveryReport& r = j->recovery();
  CHECK(r.clean());
  REQUIRE(r.ignored_files.size() == 3);
  CHECK_EQ(r.ignored_files[0], std::string("journal-0000000000000001.seg.bak"));
  CHECK_EQ(r.ignored_files[1], std::string("notes.txt"));
  CHECK_EQ(r.messages.size(), size_t{3});
  CHECK_EQ(r.last_lsn, uint64_t{1});
  CHECK(std::filesystem::exists(dir.sub("notes.txt")));
}

DSQL_TEST(Recovery, GarbageNamedLikeASegmentIsCutAway) {
  TempDir dir;
  {
    auto j = Journal::open(dir.path(), unsafe_options());
    for (int i = 1; i <= 3; ++i) append_ts(*j, i);
  }
  write_file(dir.sub(segment_file_name(4)), std::string(100, 'z'));
  auto j = Journal::open(dir.path(), unsafe_options());
  const RecoveryReport& r = j->recovery();
  CHECK(r.truncated);
  CHECK(r.reason.find("bad magic") != std::string::npos);
  CHECK_EQ(r.dropped_files.size(), size_t{1});
  CHECK_EQ(r.last_lsn, uint64_t{3});
  CHECK_EQ(r.truncated_bytes, uint64_t{100});
  CHECK(!std::filesystem::exists(dir.sub(segment_file_name(4))));
}

DSQL_TEST(Recovery, CrashWhileCreatingASegmentLeavesNothingBehind) {
  TempDir dir;
  {
    auto j = Journal::open(dir.path(), unsafe_options());
    for (int i = 1; i <= 3; ++i) append_ts(*j, i);
  }
  // The rollover created the file, then the process died before its header was written whole.
  const std::string header = encode_segment_header(SegmentHeader{2, 4});
  write_file(dir.sub(segment_file_name(4)), header.substr(0, 17));
  auto j = Journal::open(dir.path(), unsafe_options());
  CHECK(j->recovery().reason.find("cut short") != std::string::npos);
  CHECK_EQ(j->recovery().last_lsn, uint64_t{3});
  CHECK_EQ(append_ts(*j, 4), uint64_t{4});
}

DSQL_TEST(Recovery, EmptyLastSegmentIsKept) {
  TempDir dir;
  {
    auto j = Journal::open(dir.path(), unsafe_options());
    for (int i = 1; i <= 3; ++i) append_ts(*j, i);
  }
  write_file(dir.sub(segment_file_name(4)), encode_segment_header(SegmentHeader{2, 4}));
  auto j = Journal::open(dir.path(), unsafe_options());
  CHECK(j->recovery().clean());
  CHECK_EQ(j->recovery().segments, uint64_t{2});
  CHECK_EQ(append_ts(*j, 4), uint64_t{4});
  const uint64_t active_records = j->segments().back().records;
  CHECK_EQ(active_records, uint64_t{1});
}

DSQL_TEST(Recovery, MissingMiddleSegmentCutsTheChain) {
  TempDir dir;
  const Layout l = build(dir.path(), 12, 400);
  REQUIRE(l.names.size() >= 3);
  std::filesystem::remove(dir.sub(l.names[1]));
  auto j = Journal::open(dir.path(), unsafe_options(400));
  const RecoveryReport& r = j->recovery();
  CHECK(r.reason.find("breaks the sequence") != std::string::npos);
  CHECK_EQ(r.last_lsn, records_before(l, 1, 0));
  CHECK_EQ(r.dropped_files.size(), l.names.size() - 2);
}

DSQL_TEST(Recovery, PlanDoesNotChangeTheDirectory) {
  TempDir dir;
  const Layout l = build(dir.path(), 5, 1 << 20);
  write_file(dir.sub(l.names[0]), l.bytes[0].substr(0, l.bytes[0].size() - 3));
  const RecoveryPlan plan = plan_recovery(dir.path());
  CHECK(plan.report.truncated);
  CHECK_EQ(plan.report.last_lsn, uint64_t{4});
  CHECK(plan.cut_offset.has_value());
  CHECK_EQ(read_file(dir.sub(l.names[0])).size(), l.bytes[0].size() - 3);
}

}  // namespace
}  // namespace dsql::journal
