// MvccStore: an ordered multi-version key-value store read as of a timestamp.
//
// Keys and values are opaque byte strings ordered bytewise. Each key has a chain of versions
// (commit timestamp, value or tombstone). A read at ts sees, for each key, the newest version
// committed at or before ts; a tombstone reads as absent.
//
//   apply(commit_ts, writes)   one transaction's writes. REQUIRES commit_ts > watermark. Calls
//                              may come in any commit_ts order above the watermark.
//   advance_watermark(T)       every commit at or before T has been applied (the crossbar says
//                              so); monotonic, a lower T is ignored. Wakes waiting readers.
//   view(ts) / get / scan      wait (up to read_wait_timeout_ns) until watermark >= ts, then read;
//                              WatermarkTimeout when it does not come; SnapshotTooOld below the
//                              GC horizon.
//   gc(horizon)                drops versions no read at or after the horizon can see, and
//                              reclaims their memory by rebuilding the generation.
//   checkpoint / load          a consistent image as of ts in a file (storage/checkpoint.h).
//
// Design. The data lives in a Generation (arena + skiplist + hash index, generation.h). The
// single writer (apply) links new nodes and versions into the current generation in place while
// readers walk it without locks (LevelDB's skiplist discipline). GC, split copies and loads
// build a new generation and swap the pointer under gen_mu_; readers hold the generation they
// started with through a std::shared_ptr (ReadView), so memory is freed only after the last
// reader of an old generation is gone ("rebuild and swap with reader references").
//
// Why an apply in progress is invisible without any read lock: a reader reads at ts <= the
// watermark it observed, and every apply either finished before that watermark was published
// (advance_watermark takes the writer lock, so it cannot overlap an apply; the release store of
// the watermark and the reader's acquire load order the apply's writes before the read) or has
// commit_ts > that watermark >= ts, so none of its versions is visible to the reader. A
// transaction's writes therefore become visible atomically, when the watermark passes them.
//
// Thread-safety: every public method may be called from any thread. apply, advance_watermark,
// gc, load and copy_range serialise on writer_mu_ (one writer at a time; gc holds it while it
// rebuilds, so an apply waits for a GC). Reads never take writer_mu_: they take gen_mu_ only to
// copy the generation pointer (a few ns), and wait_mu_ only when they must wait for the
// watermark. A ReadView must be used by one thread at a time and should be short-lived (it
// keeps its generation, and retired index tables of it, alive).
//
// Invariants:
//   1. watermark_ never decreases; horizon_ never decreases; horizon_ <= watermark_.
//   2. Every version with commit_ts <= watermark_ that will ever be in the store is in it
//      (given the caller's promise behind advance_watermark).
//   3. For every ts >= horizon_ and <= watermark_, every generation a reader can pin answers
//      reads at ts identically (GC and copies preserve the answers at and after the horizon).
//   4. A generation is freed only when no ReadView refers to it.
//   5. advance_watermark never runs while an apply is half done (both hold writer_mu_).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/generation.h"
#include "storage/store_errors.h"

namespace dsql::storage {

struct StoreOptions {
  int64_t initial_watermark = 0;
  int64_t read_wait_timeout_ns = 10'000'000'000;
};

// One write of a transaction; the views must stay valid for the duration of apply().
struct WriteView {
  std::string_view key;
  std::string_view value;
  bool tombstone = false;
};

struct Row {
  std::string_view key;
  std::string_view value;
};

struct StoreStats {
  uint64_t keys = 0;             // keys with at least one version (tombstones included)
  uint64_t versions = 0;
  uint64_t live_bytes = 0;       // key bytes once per key + value bytes of every version
  uint64_t allocated_bytes = 0;  // arena blocks + index tables (retired ones included)
  uint64_t arena_used_bytes = 0;
  uint64_t index_bytes = 0;
  int64_t watermark = 0;
  int64_t horizon = 0;
  uint64_t generation = 0;       // how many generations were swapped in before this one
};

struct GcResult {
  bool rebuilt = false;
  uint64_t keys_dropped = 0;
  uint64_t versions_dropped = 0;
  uint64_t allocated_bytes_before = 0;
  uint64_t allocated_bytes_after = 0;
};

struct CheckpointInfo {
  int64_t ts = 0;
  uint64_t records = 0;
  uint64_t blocks = 0;
  uint64_t file_bytes = 0;
};

struct ScanResult {
  std::vector<std::pair<std::string, std::string>> rows;
  std::optional<std::string> resume;
};

// Throws std::invalid_argument naming the first write whose key or value is over the limits.
void validate_writes(const WriteView* writes, size_t count);

// The outcome of the no-wait, no-throw point read that bindings use per call.
enum class PointRead : int { kAbsent = 0, kFound = 1, kNotReadable = 2 };

// At most this many keys are examined by one scan call; past it the call returns what it has
// (maybe fewer than `limit` rows) and a resume position. Bounds a call over many tombstones.
inline constexpr size_t kScanExamineMax = size_t{1} << 20;

// A consistent read-only view of one store at one timestamp. The string_views it hands out
// point into its generation and stay valid while the view lives.
class ReadView {
 public:
  ReadView(std::shared_ptr<const Generation> gen, int64_t ts);
  ~ReadView();
  ReadView(ReadView&& other) noexcept;
  ReadView& operator=(ReadView&&) = delete;
  ReadView(const ReadView&) = delete;
  ReadView& operator=(const ReadView&) = delete;

  int64_t ts() const noexcept { return ts_; }
  const Generation& generation() const noexcept { return *gen_; }

  // The value of `key`, or a view with data() == nullptr when absent (an empty value has a
  // non-null data()).
  std::string_view get(std::string_view key) const noexcept;
  // out[i] = get(keys[i]) for i < n, with the index probes pipelined.
  void get_many(const std::string_view* keys, size_t n, std::string_view* out) const noexcept;
  // Appends to `rows` the rows with lo <= key < hi (hi empty = unbounded) in key order, or in
  // reverse order when `reverse`, at most `limit` of them (limit 0 only peeks). Returns true
  // when rows remain, with *resume set to the position to continue from: pass it as lo of the
  // next forward call, or as hi of the next reverse call. Returns false when the range is
  // exhausted. REQUIRES: rows != nullptr, resume != nullptr.
  bool scan(std::string_view lo, std::string_view hi, size_t limit, bool reverse,
            std::vector<Row>* rows, std::string* resume) const;

 private:
  bool scan_forward(std::string_view lo, std::string_view hi, size_t limit, std::vector<Row>* rows,
                    std::string* resume) const;
  bool scan_reverse(std::string_view lo, std::string_view hi, size_t limit, std::vector<Row>* rows,
                    std::string* resume) const;

  std::shared_ptr<const Generation> gen_;
  int64_t ts_;
};

class MvccStore {
 public:
  explicit MvccStore(StoreOptions options = {});
  MvccStore(const MvccStore&) = delete;
  MvccStore& operator=(const MvccStore&) = delete;

  // ---- reads ----
  // Waits until watermark >= ts (throws WatermarkTimeout after read_wait_timeout_ns).
  ReadView view(int64_t ts) const;
  // REQUIRES: ts <= watermark(). Throws SnapshotTooOld when ts < horizon.
  ReadView view_settled(int64_t ts) const;
  // True once watermark >= ts; false if timeout_ns passed first.
  bool wait_for_watermark(int64_t ts, int64_t timeout_ns) const;
  // wait_for_watermark with the store's timeout, throwing WatermarkTimeout.
  void await_watermark(int64_t ts) const;

  std::optional<std::string> get(std::string_view key, int64_t ts) const;
  // The per-call fast path of a point read: kFound with the value copied into *out, kAbsent,
  // or kNotReadable when ts is above the watermark or below the horizon (then the caller takes
  // the waiting, throwing path: view()). REQUIRES: out != nullptr.
  PointRead read_into(std::string_view key, int64_t ts, std::string* out) const;
  std::vector<std::optional<std::string>> get_many(const std::vector<std::string_view>& keys,
                                                   int64_t ts) const;
  // REQUIRES: limit >= 1.
  ScanResult scan(std::string_view lo, std::string_view hi, int64_t ts, size_t limit,
                  bool reverse) const;

  // ---- writes ----
  // REQUIRES: commit_ts > watermark(); keys <= kMaxKeyBytes, values <= kMaxValueBytes. A write
  // list that breaks a REQUIRES is refused whole (std::invalid_argument) before any write. The
  // same key twice in one call: the later write wins.
  void apply(int64_t commit_ts, const WriteView* writes, size_t count);
  void apply(int64_t commit_ts, const std::vector<WriteView>& writes) {
    apply(commit_ts, writes.data(), writes.size());
  }
  void advance_watermark(int64_t ts);
  // REQUIRES: horizon <= watermark(). A horizon at or below the current one does nothing.
  GcResult gc(int64_t horizon);

  // ---- persistence ----
  // Writes the image as of ts (waits for the watermark) to `path` atomically.
  // REQUIRES: ts >= horizon().
  CheckpointInfo checkpoint(const std::string& path, int64_t ts) const;
  // Loads a checkpoint into this store, which must hold no versions and have watermark <= the
  // checkpoint's ts; afterwards watermark = horizon = that ts. A bad file throws
  // CheckpointError and leaves the store as it was.
  CheckpointInfo load(const std::string& path);

  // ---- sharding support ----
  // A new store holding this store's versions of [lo, hi) (hi empty = unbounded), with the same
  // watermark, horizon and options. Serialised with the writer.
  std::unique_ptr<MvccStore> copy_range(std::string_view lo, std::string_view hi) const;

  int64_t watermark() const noexcept { return watermark_.load(std::memory_order_acquire); }
  int64_t horizon() const noexcept { return horizon_.load(std::memory_order_acquire); }
  StoreStats stats() const;
  int64_t read_wait_timeout_ns() const noexcept { return read_wait_timeout_ns_.load(); }
  // REQUIRES: timeout_ns >= 0.
  void set_read_wait_timeout_ns(int64_t timeout_ns);

 private:
  std::shared_ptr<const Generation> pin() const;
  void install(std::shared_ptr<Generation> gen);
  uint64_t next_seed() noexcept;

  mutable std::mutex writer_mu_;  // one writer: apply, advance_watermark, gc, load, copies
  mutable std::mutex gen_mu_;     // guards gen_ (the pointer, not the generation)
  std::shared_ptr<Generation> gen_;
  std::atomic<int64_t> watermark_;
  std::atomic<int64_t> horizon_;
  std::atomic<int64_t> read_wait_timeout_ns_;
  std::atomic<uint64_t> generation_number_{0};
  uint64_t seed_state_ = 0x5DEECE66DULL;  // writer only
  mutable std::mutex wait_mu_;
  mutable std::condition_variable wait_cv_;
};

}  // namespace dsql::storage
