// Helpers shared by the journal's C++ tests (included only by *_test.cc files): a temporary
// directory removed on destruction, whole-file read/write, simple record builders, and a
// journal's layout (where each record lives) for tests that damage exact bytes.
//
// Thread-safety: TempDir is owned by one test; the functions are reentrant.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <cassert>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "journal/journal.h"

namespace dsql::journal::test {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "dsql-journal-XXXXXX").string();
    char* made = ::mkdtemp(templ.data());
    assert(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  assert(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  assert(out.good());
}

// The key and value a test writes for commit_ts ts: both derived from ts so a reader can check
// them; the value length varies with ts.
inline std::string key_for(int64_t ts) { return "key-" + std::to_string(ts); }
inline std::string value_for(int64_t ts) {
  return std::string(static_cast<size_t>(ts % 97), static_cast<char>('a' + ts % 26));
}

inline uint64_t append_ts(Journal& j, int64_t ts) {
  const std::string k = key_for(ts);
  const std::string v = value_for(ts);
  return j.append(ts, {WriteView{k, v, false}, WriteView{"t" + k, "", true}});
}

inline bool record_matches(const Record& r) {
  const std::vector<Write> w = r.writes();
  return w.size() == 2 && w[0].key == key_for(r.commit_ts) && w[0].value &&
         *w[0].value == value_for(r.commit_ts) && w[1].key == "t" + key_for(r.commit_ts) &&
         !w[1].value;
}

// `threads` threads append `per` records each (append_ts) while a Cursor reads from lsn 1 in
// batches of `batch`: true when the cursor saw every record in lsn order, each one whole, and
// nothing after them. (A reader following concurrent appends.)
inline bool cursor_follows_appenders(const std::shared_ptr<Journal>& j, int threads, int per,
                                     size_t batch) {
  assert(threads > 0 && per > 0 && batch > 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&j, per, t] {
      for (int i = 0; i < per; ++i) append_ts(*j, t * 10'000 + i);
    });
  }
  Cursor cursor(j, 1);
  const auto total = static_cast<uint64_t>(threads) * static_cast<uint64_t>(per);
  uint64_t expect = 1;
  bool all_match = true;
  // Polls until every record is read; bounded by the appenders finishing.
  while (expect <= total) {
    for (const Record& r : cursor.next_batch(batch, 1 << 20)) {
      all_match = all_match && r.lsn == expect && record_matches(r);
      ++expect;
    }
    j->wait_durable(expect, 1'000'000);
  }
  for (auto& th : pool) th.join();
  return all_match && cursor.next_batch(16, 1 << 20).empty() && cursor.next_lsn() == total + 1;
}

inline std::vector<Record> read_all(const std::shared_ptr<Journal>& j, uint64_t from = 1) {
  Cursor c(j, from);
  std::vector<Record> out;
  // Bounded: each batch returns >= 1 record until the durable end.
  for (;;) {
    std::vector<Record> batch = c.next_batch(7, 1 << 20);
    if (batch.empty()) break;
    for (Record& r : batch) out.push_back(std::move(r));
  }
  return out;
}

inline Options unsafe_options(uint64_t segment_bytes = uint64_t{64} << 20) {
  Options o;
  o.durability = Durability::kUnsafeNoSync;
  o.segment_bytes = segment_bytes;
  return o;
}

// Unsafe-no-sync (fast) but preallocating, as fdatasync journals do by default.
inline Options prealloc_options(uint64_t segment_bytes) {
  Options o = unsafe_options(segment_bytes);
  o.preallocate = true;
  return o;
}

inline std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    uint64_t lsn;
    if (parse_segment_file_name(e.path().filename().string(), &lsn)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Where each record of a journal lives.
struct Layout {
  struct Rec {
    size_t file;  // index into names
    uint64_t offset;
    uint64_t end;
  };
  std::vector<std::string> names;  // segment file names, in order
  std::vector<std::string> bytes;  // their contents (a preallocated file's zero tail included)
  std::vector<Rec> recs;           // recs[lsn - 1]

  // One past the last record of file f: where its zero tail (if any) begins.
  uint64_t records_end(size_t f) const {
    uint64_t end = kSegmentHeaderBytes;
    for (const Rec& r : recs) {
      if (r.file == f) end = r.end;
    }
    return end;
  }
};

// Appends `records` records (commit_ts 1001, 1002, ...) to a new journal in dir with options
// (waiting for the spare first when they preallocate, so every later segment comes from one)
// and returns where they went.
inline Layout build(const std::string& dir, int records, const Options& options) {
  Layout out;
  auto j = Journal::open(dir, options);
  if (j->preallocate()) {
    const bool ready = j->wait_spare_ready(int64_t{10'000'000'000});
    assert(ready);
    (void)ready;
  }
  for (int i = 1; i <= records; ++i) {
    const uint64_t before = j->segments().back().records > 0 ? j->segments().back().bytes : 0;
    append_ts(*j, 1000 + i);
    const SegmentInfo seg = j->segments().back();
    const uint64_t start = seg.records == 1 ? kSegmentHeaderBytes : before;
    const std::string name = std::filesystem::path(seg.path).filename();
    if (out.names.empty() || out.names.back() != name) out.names.push_back(name);
    out.recs.push_back(Layout::Rec{out.names.size() - 1, start, seg.bytes});
  }
  j->close();
  for (const std::string& n : out.names) out.bytes.push_back(read_file(dir + "/" + n));
  assert(out.recs.size() == static_cast<size_t>(records));
  return out;
}

inline Layout build(const std::string& dir, int records, uint64_t segment_bytes) {
  return build(dir, records, unsafe_options(segment_bytes));
}

// Writes layout's files (with file `which` replaced by `content`) into a fresh directory.
inline void materialise(const std::string& dir, const Layout& l, size_t which,
                        const std::string& content) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directory(dir);
  for (size_t i = 0; i < l.names.size(); ++i) {
    write_file(dir + "/" + l.names[i], i == which ? content : l.bytes[i]);
  }
}

// The number of records wholly before (file, offset).
inline uint64_t records_before(const Layout& l, size_t file, uint64_t offset) {
  uint64_t n = 0;
  for (const Layout::Rec& r : l.recs) {
    if (r.file < file || (r.file == file && r.end <= offset)) ++n;
  }
  return n;
}

}  // namespace dsql::journal::test
