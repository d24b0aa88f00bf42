// Checkpoints: write as of a timestamp, load into an empty store, refuse bad files.
// Goal: a loaded store answers every read at the checkpoint ts exactly as the source did, and
// no corrupt, truncated or foreign file is ever even partly loaded. Method: round trips with
// later versions present (which must not be in the image) and values big enough to span
// blocks; then damaged copies of a good file: every single-byte flip over header, block
// headers, payload samples and trailer, every truncation length at structure boundaries and a
// sample of others, a wrong magic, a newer format version with a valid header checksum, and
// trailing bytes. Each must throw CheckpointError naming the file and an offset, and leave the
// target store empty.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "storage/checkpoint.h"
#include "common/crc32c.h"
#include "storage/mvcc_store.h"
#include "storage/store_test_util.h"
#include "testing/unit.h"

namespace dsql::storage {
namespace {

using test::RefModel;
using test::Txn;
using test::Value;

std::string temp_path(const std::string& name) {
  return "/tmp/dsql-ckpt-test-" + std::to_string(::getpid()) + "-" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

struct Source {
  MvccStore store;
  RefModel model;
};

void fill(Source* s) {
  test::Rng rng(3);
  for (int64_t ts = 1; ts <= 40; ++ts) {
    Txn t{ts, {}};
    for (int i = 0; i < 30; ++i) {
      const std::string key = "row" + std::to_string(rng.below(400));
      Value v;
      if (rng.below(6) != 0) v = std::string(rng.below(3) == 0 ? 5000 : 40, static_cast<char>('a' + ts % 26));
      t.writes.emplace_back(key, v);
    }
    test::apply_txn(s->store, t);
    s->model.apply(t);
  }
  s->store.advance_watermark(40);
}

DSQL_TEST(Checkpoint, RoundTripAsOfTimestamp) {
  Source src;
  fill(&src);
  const std::string path = temp_path("roundtrip");
  const CheckpointInfo info = src.store.checkpoint(path, 25);  // versions 26..40 stay out
  CHECK_EQ(info.ts, int64_t{25});
  CHECK(info.blocks > 1);
  CHECK_EQ(info.records, static_cast<uint64_t>(src.model.range("", "", 25).size()));
  CHECK(::access((path + ".tmp-" + std::to_string(::getpid())).c_str(), F_OK) != 0);

  MvccStore loaded;
  const CheckpointInfo got = loaded.load(path);
  CHECK_EQ(got.records, info.records);
  CHECK_EQ(loaded.watermark(), int64_t{25});
  CHECK_EQ(loaded.horizon(), int64_t{25});
  const ReadView view = loaded.view(25);
  size_t calls = 0;
  CHECK(test::scan_all(view, "", "", 1000, false, &calls) == src.model.range("", "", 25));
  for (const std::string& key : src.model.keys()) {
    CHECK(test::from_view(view.get(key)) == src.model.get(key, 25));
  }
  // The journal's later commits apply on top.
  test::apply_txn(loaded, Txn{26, {{"row1", "after"}}});
  loaded.advance_watermark(26);
  CHECK(loaded.get("row1", 26) == Value("after"));
  bool too_old = false;
  try {
    loaded.get("row1", 24);
  } catch (const SnapshotTooOld&) {
    too_old = true;
  }
  CHECK(too_old);
  // Loading twice, or into a used store, is misuse.
  bool refused = false;
  try {
    loaded.load(path);
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  CHECK(refused);
  std::remove(path.c_str());
}

DSQL_TEST(Checkpoint, EmptyStore) {
  MvccStore empty;
  empty.advance_watermark(7);
  const std::string path = temp_path("empty");
  const CheckpointInfo info = empty.checkpoint(path, 7);
  CHECK_EQ(info.records, uint64_t{0});
  MvccStore loaded;
  loaded.load(path);
  CHECK_EQ(loaded.watermark(), int64_t{7});
  CHECK_EQ(loaded.stats().keys, uint64_t{0});
  std::remove(path.c_str());
}

// Loads `data` from a file into a fresh store; returns the error text ("" if it loaded).
std::string try_load(const std::string& data, const std::string& name) {
  const std::string path = temp_path(name);
  write_file(path, data);
  MvccStore target;
  std::string error;
  try {
    target.load(path);
  } catch (const CheckpointError& e) {
    error = e.what();
  }
  std::remove(path.c_str());
  if (!error.empty()) {
    // Untouched: still empty, watermark where it was.
    if (target.stats().versions != 0 || target.watermark() != 0) return "STORE TOUCHED: " + error;
    if (error.find(path) == std::string::npos || error.find("offset") == std::string::npos) {
      return "UNCLEAR: " + error;
    }
  }
  return error;
}

DSQL_TEST(Checkpoint, RefusesCorruption) {
  Source src;
  fill(&src);
  const std::string path = temp_path("good");
  src.store.checkpoint(path, 40);
  const std::string good = read_file(path);
  std::remove(path.c_str());
  REQUIRE(try_load(good, "good-again").empty());

  // Byte flips: the header, the first block header, trailer, and a stride through the body.
  std::vector<size_t> positions;
  for (size_t i = 0; i < 80 && i < good.size(); ++i) positions.push_back(i);
  for (size_t i = good.size() - 40; i < good.size(); ++i) positions.push_back(i);
  for (size_t i = 80; i < good.size() - 40; i += 997) positions.push_back(i);
  int unclear = 0;
  for (size_t pos : positions) {
    std::string bad = good;
    bad[pos] ^= 0x20;
    const std::string err = try_load(bad, "flip");
    if (err.empty() || err.rfind("STORE TOUCHED", 0) == 0 || err.rfind("UNCLEAR", 0) == 0) {
      ++unclear;
      std::fprintf(stderr, "    flip at %zu: %s\n", pos, err.empty() ? "loaded!" : err.c_str());
    }
  }
  CHECK_EQ(unclear, 0);

  // Truncations.
  int loaded_truncated = 0;
  for (size_t len = 0; len < good.size(); len += (len < 200 ? 1 : 1409)) {
    const std::string err = try_load(good.substr(0, len), "trunc");
    if (err.empty() || err.find("STORE TOUCHED") != std::string::npos) ++loaded_truncated;
  }
  CHECK_EQ(try_load(good.substr(0, good.size() - 1), "trunc1").find("truncated") != std::string::npos, true);
  CHECK_EQ(loaded_truncated, 0);

  // Wrong magic, trailing bytes.
  std::string magic = good;
  magic[0] = 'X';
  CHECK(try_load(magic, "magic").find("bad magic") != std::string::npos);
  CHECK(try_load(good + "x", "trailing").find("after the trailer") != std::string::npos);
  CHECK(try_load(std::string(), "zero").find("bad magic") != std::string::npos);

  // A newer format version with a consistent header checksum.
  std::string v2 = good;
  v2[8] = 2;
  const uint32_t crc = crc32c::value(v2.data(), 48);
  std::memcpy(&v2[48], &crc, 4);
  const std::string err = try_load(v2, "version");
  CHECK(err.find("unsupported checkpoint format version 2") != std::string::npos);
}

DSQL_TEST(Checkpoint, BelowHorizonAndBadDirectory) {
  Source src;
  fill(&src);
  src.store.gc(30);
  bool too_old = false;
  try {
    src.store.checkpoint(temp_path("old"), 20);
  } catch (const SnapshotTooOld&) {
    too_old = true;
  }
  CHECK(too_old);
  bool io_error = false;
  try {
    src.store.checkpoint("/nonexistent-dir-dsql/x.ckpt", 35);
  } catch (const CheckpointError& e) {
    io_error = std::string(e.what()).find("cannot create") != std::string::npos;
  }
  CHECK(io_error);
}

}  // namespace
}  // namespace dsql::storage
