// Helpers shared by the journal's C++ tests (included only by *_test.cc files): a temporary
// directory removed on destruction, whole-file read/write, and simple record builders.
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

inline std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    uint64_t lsn;
    if (parse_segment_file_name(e.path().filename().string(), &lsn)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace dsql::journal::test
