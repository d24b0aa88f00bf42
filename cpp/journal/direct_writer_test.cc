// Direct (O_DIRECT|O_DSYNC) journal writes: the file's bytes, the fallback, write failures, and
// torn direct writes.
// Goal: a journal written through DirectWriter holds exactly the bytes a buffered journal holds
// (records up to the logical end, zeros after it), across block and segment boundaries and a
// reopen in the middle of a block; a filesystem that refuses O_DIRECT (at open or at the first
// write) makes that segment fall back to pwritev + fdatasync with the same result; a failed
// direct write fails the journal and recovery keeps what was acknowledged; a direct write torn
// at any mix of 512-byte sectors leaves the records before it and either the whole batch or
// none of it. Method: a byte-string model of the file beside a DirectWriter fed random frame
// sizes (checked after every write through the page cache, as cursors read); pairs of journals
// (direct on / off) fed the same records and compared file by file; faults injected through
// Options::direct_fault_for_testing; before/after images of the last write's blocks mixed
// sector by sector, then reopened. Where the test directory's filesystem refuses O_DIRECT the
// direct-only checks are skipped (the fallback tests still run).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "journal/direct_writer.h"
#include "journal/journal.h"
#include "journal/test_support.h"
#include "testing/unit.h"

namespace dsql::journal {
namespace {

using test::append_ts;
using test::read_all;
using test::read_file;
using test::record_matches;
using test::segment_files;
using test::TempDir;
using test::unsafe_options;
using test::write_file;

constexpr size_t kBlock = DirectWriter::kBlockBytes;
constexpr int64_t kWaitNs = 10'000'000'000;

bool direct_io_supported(const std::string& dir) {
  const std::string probe = dir + "/direct-probe";
  const int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_DIRECT, 0644);
  if (fd >= 0) ::close(fd);
  std::filesystem::remove(probe);
  return fd >= 0;
}

bool all_zero_from(const std::string& bytes, size_t from) {
  return std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(std::min(from, bytes.size())),
                     bytes.end(), [](char c) { return c == '\0'; });
}

Options durable_options(uint64_t segment_bytes, bool direct) {
  Options o;  // fdatasync; preallocation by default
  o.segment_bytes = segment_bytes;
  o.direct_writes = direct;
  return o;
}

// Appends record i of a fixed sequence: mostly small, every 17th larger than a block.
uint64_t append_nth(Journal& j, int64_t i) {
  if (i % 17 != 0) return append_ts(j, i);
  const std::string k = test::key_for(i);
  const std::string v(kBlock + static_cast<size_t>(i % 300), static_cast<char>('A' + i % 26));
  return j.append(i, {WriteView{k, v, false}});
}

bool nth_matches(const Record& r) {
  if (r.commit_ts % 17 != 0) return record_matches(r);
  const std::vector<Write> w = r.writes();
  return w.size() == 1 && w[0].key == test::key_for(r.commit_ts) && w[0].value &&
         *w[0].value == std::string(kBlock + static_cast<size_t>(r.commit_ts % 300),
                                    static_cast<char>('A' + r.commit_ts % 26));
}

DSQL_TEST(DirectWriter, MatchesAByteModelAcrossBlocksAndAReopen) {
  TempDir dir;
  if (!direct_io_supported(dir.path())) return;
  for (const bool preallocated : {false, true}) {
    const std::string path = dir.sub(preallocated ? "pre" : "grow");
    std::string model = "segment-header-stand-in:0123456789abcdef";  // 40 bytes
    write_file(path, preallocated ? model + std::string(64 * kBlock, '\0') : model);
    std::mt19937 rnd(preallocated ? 11 : 7);
    DirectWriter w;
    REQUIRE(w.open(path, model.size(), model, DirectFault::kNone));
    for (int step = 0; step < 150; ++step) {
      if (step == 75) {  // resume mid-block from the file's bytes, as the journal's open does
        w.close();
        const uint64_t end = model.size();
        REQUIRE(w.open(path, end, model.substr(end - end % kBlock), DirectFault::kNone));
      }
      std::vector<std::string> frames(1 + rnd() % 4);
      std::vector<struct iovec> iov;
      size_t bytes = 0;
      for (std::string& f : frames) {
        const size_t n = rnd() % 8 == 0 ? kBlock + rnd() % 3000
                         : rnd() % 8 == 0 ? kBlock - model.size() % kBlock  // to a block end
                                          : 1 + rnd() % 200;
        f.assign(n, '\0');
        for (char& c : f) c = static_cast<char>('a' + rnd() % 26);
        iov.push_back(iovec{f.data(), f.size()});
        bytes += n;
      }
      REQUIRE(w.write(iov.data(), static_cast<int>(iov.size()), bytes));
      for (const std::string& f : frames) model += f;
      CHECK_EQ(w.end(), uint64_t{model.size()});
      CHECK_EQ(w.tail_bytes(), model.size() % kBlock);
      CHECK_EQ(w.written_end() % kBlock, uint64_t{0});
      const std::string file = read_file(path);  // through the page cache
      REQUIRE(file.size() >= model.size());
      CHECK(file.size() >= w.written_end());
      CHECK(file.compare(0, model.size(), model) == 0);
      CHECK(all_zero_from(file, model.size()));
    }
    CHECK_EQ(w.writes(), uint64_t{75});
    w.close();
  }
}

// Writes the same records to a direct and a buffered journal; their segments must hold the same
// record bytes and nothing but zeros after them. (Where one segment ends may differ: a direct
// write leaves a growing file a whole block long, so the first segment takes records up to its
// block end before moving to the preallocated spare.)
void compare_with_buffered(uint64_t segment_bytes) {
  TempDir dir;
  const bool supported = direct_io_supported(dir.path());
  constexpr int kRecords = 160;
  for (const bool direct : {true, false}) {
    const std::string d = dir.sub(direct ? "direct" : "buffered");
    auto j = Journal::open(d, durable_options(segment_bytes, direct));
    REQUIRE(j->wait_spare_ready(kWaitNs));
    for (int64_t i = 1; i <= kRecords / 2; ++i) CHECK_EQ(append_nth(*j, i), uint64_t(i));
    j->close();
    j = Journal::open(d, durable_options(segment_bytes, direct));  // resume mid-block
    CHECK(j->recovery().clean());
    for (int64_t i = kRecords / 2 + 1; i <= kRecords; ++i) CHECK_EQ(append_nth(*j, i), uint64_t(i));
    const Stats s = j->stats();
    CHECK_EQ(s.syncs, s.batches);
    if (direct && supported) {
      CHECK_EQ(s.direct_writes, s.batches);
      CHECK_EQ(s.direct_fallbacks, uint64_t{0});
    } else if (!direct) {
      CHECK_EQ(s.direct_writes, uint64_t{0});
      CHECK_EQ(s.direct_fallbacks, uint64_t{0});
    }
    CHECK(j->segments().size() >= 3);
    j->close();
  }
  auto ja = Journal::open(dir.sub("direct"), unsafe_options(segment_bytes));
  auto jb = Journal::open(dir.sub("buffered"), unsafe_options(segment_bytes));
  CHECK(ja->recovery().clean() && jb->recovery().clean());
  std::string records[2];  // each journal's record bytes, segment headers left out
  for (int which = 0; which < 2; ++which) {
    for (const SegmentInfo& seg : (which == 0 ? ja : jb)->segments()) {
      const std::string f = read_file(seg.path);
      REQUIRE(f.size() >= seg.bytes && seg.bytes >= kSegmentHeaderBytes);
      records[which] += f.substr(kSegmentHeaderBytes, seg.bytes - kSegmentHeaderBytes);
      CHECK(all_zero_from(f, seg.bytes));
      // A direct write pads to its block end only: at most one block past the records or the
      // preallocated size.
      CHECK(f.size() <= std::max<uint64_t>(segment_bytes, seg.bytes + kBlock));
    }
  }
  CHECK(records[0] == records[1]);
  CHECK(records[0].size() > size_t{kRecords} * 100);
  const auto ra = read_all(ja);
  REQUIRE(ra.size() == size_t{kRecords});
  for (size_t i = 0; i < ra.size(); ++i) {
    CHECK_EQ(ra[i].lsn, uint64_t{i + 1});
    CHECK(nth_matches(ra[i]));
  }
}

DSQL_TEST(DirectJournal, SameBytesAsBufferedAlignedSegments) { compare_with_buffered(8192); }
DSQL_TEST(DirectJournal, SameBytesAsBufferedUnalignedSegments) { compare_with_buffered(6000); }

// A journal whose direct path is refused (fault) still appends, syncs and recovers every record,
// and counts one fallback per segment that tried.
void check_fallback(DirectFault fault) {
  TempDir dir;
  Options o = durable_options(4096, true);
  o.direct_fault_for_testing = fault;
  {
    auto j = Journal::open(dir.path(), o);
    REQUIRE(j->wait_spare_ready(kWaitNs));
    for (int64_t i = 1; i <= 60; ++i) CHECK_EQ(append_nth(*j, i), uint64_t(i));
    const Stats s = j->stats();
    CHECK_EQ(s.direct_writes, uint64_t{0});
    CHECK_EQ(s.syncs, s.batches);
    // Refused at open: every segment, the first included. Refused at the first write: every
    // segment that got a record, which is every one (appends never leave an empty one behind).
    CHECK_EQ(s.direct_fallbacks, uint64_t{j->segments().size()});
    CHECK(j->segments().size() >= 3);
  }
  auto j = Journal::open(dir.path(), unsafe_options(4096));
  CHECK(j->recovery().clean());
  const auto all = read_all(j);
  REQUIRE(all.size() == size_t{60});
  for (const Record& r : all) CHECK(nth_matches(r));
}

DSQL_TEST(DirectJournal, RefusedOpenFallsBackPerSegment) { check_fallback(DirectFault::kOpenRefused); }
DSQL_TEST(DirectJournal, RefusedFirstWriteFallsBackPerSegment) {
  check_fallback(DirectFault::kWriteRefused);
}

DSQL_TEST(DirectJournal, FailedDirectWriteFailsTheJournal) {
  TempDir dir;
  if (!direct_io_supported(dir.path())) return;
  Options o = durable_options(1 << 20, true);
  o.direct_fault_for_testing = DirectFault::kWriteFails;
  {
    auto j = Journal::open(dir.path(), o);
    CHECK_EQ(append_ts(*j, 1), uint64_t{1});
    bool failed = false;
    try {
      append_ts(*j, 2);
    } catch (const JournalError& e) {
      failed = std::string(e.what()).find("O_DIRECT") != std::string::npos;
    }
    CHECK(failed);
    bool still_failed = false;
    try {
      append_ts(*j, 3);
    } catch (const JournalError&) {
      still_failed = true;
    }
    CHECK(still_failed);
    CHECK_EQ(j->durable_lsn(), uint64_t{1});
  }
  auto j = Journal::open(dir.path(), durable_options(1 << 20, true));
  CHECK_EQ(j->recovery().last_lsn, uint64_t{1});
  CHECK_EQ(append_ts(*j, 4), uint64_t{2});
  const auto all = read_all(j);
  REQUIRE(all.size() == size_t{2});
  CHECK(record_matches(all[0]) && record_matches(all[1]));
}

DSQL_TEST(DirectJournal, ReaderFollowsConcurrentDirectAppends) {
  TempDir dir;
  auto j = Journal::open(dir.path(), durable_options(8192, true));
  CHECK(test::cursor_follows_appenders(j, 4, 60, 5));
}

// A power loss during a direct write leaves each 512-byte sector of the blocks it covers old or
// new. Bytes before the batch are the same in both, bytes after it are zero in both, so the
// result is the records before the batch plus the batch whole (every sector holding part of it
// is new) or cut by recovery.
void torn_direct_write(bool preallocate) {
  TempDir dir;
  if (!direct_io_supported(dir.path())) return;
  Options o = durable_options(1 << 20, true);
  o.preallocate = preallocate;
  const std::string src = dir.sub("src");
  uint64_t before_end = 0;
  uint64_t k = 0;
  {
    auto j = Journal::open(src, o);
    if (preallocate) REQUIRE(j->wait_spare_ready(kWaitNs));
    // Enough to move a preallocating journal into a zero-filled segment, ending mid-block.
    for (int64_t i = 1; i <= 45; ++i) append_ts(*j, i);
    k = j->durable_lsn();
    before_end = j->segments().back().bytes;
    CHECK(before_end % kBlock != 0);
    CHECK(j->stats().direct_writes == j->stats().batches);
  }
  const std::string name = segment_files(src).back();
  const std::string before = read_file(name);
  uint64_t after_end = 0;
  {
    auto j = Journal::open(src, o);
    // One record crossing a block boundary: kBlock + 700 value bytes.
    const std::string v(kBlock + 700, 'z');
    CHECK_EQ(j->append(999, {WriteView{"torn", v, false}}), k + 1);
    after_end = j->segments().back().bytes;
  }
  const std::string after = read_file(name);
  const uint64_t first = before_end - before_end % kBlock;
  const uint64_t last = (after_end + kBlock - 1) / kBlock * kBlock;
  constexpr size_t kSector = 512;
  const size_t sectors = static_cast<size_t>((last - first) / kSector);
  REQUIRE(after.size() >= last && sectors >= 2 * kBlock / kSector && sectors <= 63);
  std::mt19937_64 rnd(preallocate ? 5 : 9);
  std::vector<uint64_t> masks = {0, (uint64_t{1} << sectors) - 1};
  for (size_t s = 0; s < sectors; ++s) {
    masks.push_back((uint64_t{1} << s) - 1);                     // a prefix reached the disk
    masks.push_back(((uint64_t{1} << sectors) - 1) ^ (uint64_t{1} << s));  // all but one
  }
  for (int i = 0; i < 150; ++i) masks.push_back(rnd() & ((uint64_t{1} << sectors) - 1));
  for (const uint64_t mask : masks) {
    std::string image = before;
    image.resize(after.size(), '\0');
    bool whole = true;
    for (size_t s = 0; s < sectors; ++s) {
      const uint64_t at = first + s * kSector;
      const bool holds_batch = at + kSector > before_end && at < after_end;
      if (mask & (uint64_t{1} << s)) {
        image.replace(at, kSector, after, at, kSector);
      } else if (holds_batch) {
        whole = false;
      }
    }
    const std::string d = dir.sub("torn");
    std::filesystem::remove_all(d);
    std::filesystem::create_directory(d);
    for (const std::string& f : segment_files(src)) {
      const std::string base = std::filesystem::path(f).filename();
      write_file(d + "/" + base, f == name ? image : read_file(f));
    }
    auto j = Journal::open(d, unsafe_options(1 << 20));
    const uint64_t keep = whole ? k + 1 : k;
    CHECK_EQ(j->recovery().last_lsn, keep);
    const auto all = read_all(j);
    REQUIRE(all.size() == keep);
    for (size_t i = 0; i < k; ++i) CHECK(record_matches(all[i]));
    if (whole) CHECK(*all[k].writes()[0].value == std::string(kBlock + 700, 'z'));
  }
}

DSQL_TEST(DirectJournal, TornDirectWriteInAGrowingSegment) { torn_direct_write(false); }
DSQL_TEST(DirectJournal, TornDirectWriteInAPreallocatedSegment) { torn_direct_write(true); }

}  // namespace
}  // namespace dsql::journal
