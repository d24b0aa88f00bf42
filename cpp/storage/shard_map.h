// ShardMap: the key space cut into ranges, each range served by its own MvccStore.
//
// Shard i owns keys in [lower_bound(i), lower_bound(i + 1)); shard 0 starts at the empty key and
// the last shard is unbounded above. route(key) finds the owner by binary search. split(k)
// replaces the shard that owns k by two new stores, one with its keys below k and one with its
// keys from k on, each holding every version (pruned only at the existing GC horizon).
//
// The routing table is immutable once published: split builds a new table and swaps the
// pointer. A MapView pins the table it started with (and, lazily, a ReadView of each shard it
// touches), so a reader that began before a split keeps reading the old store object, which
// is frozen but complete for every ts the reader may use; readers that begin after read the two
// new stores, which give the same answers. Either way readers see the same rows before, during
// and after a split.
//
// The map has its own watermark: advance_watermark advances every store of the current table
// first and then the map's, and readers wait on the map's watermark before pinning a table, so
// every store of any table a reader can pin has a watermark >= the reader's ts (a table
// published by split copies the current watermark). Applies, splits, GC and watermark advances
// serialise on writer_mu_.
//
// Thread-safety: every public method may be called from any thread; a MapView is for one
// thread at a time.
// Invariants:
//   1. lower bounds are strictly increasing and the first is the empty key.
//   2. Every key's versions live in exactly the store route(key) names in the current table.
//   3. Every store of the current table has watermark == the map's watermark between calls.
//   4. watermark and horizon never decrease; horizon <= watermark.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/mvcc_store.h"

namespace dsql::storage {

struct ShardTable {
  struct Shard {
    std::string lo;
    std::shared_ptr<MvccStore> store;
  };
  std::vector<Shard> shards;

  size_t route(std::string_view key) const noexcept;
};

// A consistent read-only view of every shard at one timestamp.
class MapView {
 public:
  MapView(std::shared_ptr<const ShardTable> table, int64_t ts);
  MapView(MapView&&) noexcept = default;
  MapView(const MapView&) = delete;
  MapView& operator=(const MapView&) = delete;

  int64_t ts() const noexcept { return ts_; }
  std::string_view get(std::string_view key) const;
  void get_many(const std::string_view* keys, size_t n, std::string_view* out) const;
  // As ReadView::scan, across shards.
  bool scan(std::string_view lo, std::string_view hi, size_t limit, bool reverse,
            std::vector<Row>* rows, std::string* resume) const;

 private:
  const ReadView& shard(size_t i) const;

  std::shared_ptr<const ShardTable> table_;
  int64_t ts_;
  mutable std::vector<std::optional<ReadView>> views_;
};

class ShardMap {
 public:
  explicit ShardMap(StoreOptions options = {});
  ShardMap(const ShardMap&) = delete;
  ShardMap& operator=(const ShardMap&) = delete;

  size_t shard_count() const;
  std::vector<std::string> lower_bounds() const;
  size_t route(std::string_view key) const;
  // REQUIRES: at_key is not empty and not already a lower bound. Returns the new shard's index
  // (the one that starts at at_key).
  size_t split(std::string_view at_key);

  // As MvccStore::apply, routing each write to its shard; refused whole on a bad write.
  void apply(int64_t commit_ts, const WriteView* writes, size_t count);
  void advance_watermark(int64_t ts);
  // Summed over shards. REQUIRES: horizon <= watermark().
  GcResult gc(int64_t horizon);

  // Writes shard i as of ts to path (MvccStore::checkpoint: a consistent image even while
  // applies go on). REQUIRES: i < shard_count(), horizon() <= ts <= watermark().
  CheckpointInfo checkpoint_shard(size_t i, const std::string& path, int64_t ts) const;
  // Replaces the shards of a map that holds no data yet by stores loaded from checkpoint files,
  // one per (lower bound, path), in key order; the first lower bound must be empty and every
  // file must hold the same ts, which becomes the map's watermark and horizon. All files are
  // loaded before anything changes: a bad file (CheckpointError) leaves the map as it was.
  void load_shards(const std::vector<std::pair<std::string, std::string>>& shards);

  // Waits for the watermark (WatermarkTimeout); SnapshotTooOld below the horizon.
  MapView view(int64_t ts) const;
  // As MvccStore::read_into, routed to the owning shard.
  PointRead read_into(std::string_view key, int64_t ts, std::string* out) const;
  bool wait_for_watermark(int64_t ts, int64_t timeout_ns) const;
  void await_watermark(int64_t ts) const;

  int64_t watermark() const noexcept { return watermark_.load(std::memory_order_acquire); }
  int64_t horizon() const noexcept { return horizon_.load(std::memory_order_acquire); }
  StoreStats stats() const;  // summed over shards
  std::vector<StoreStats> shard_stats() const;
  int64_t read_wait_timeout_ns() const noexcept { return read_wait_timeout_ns_.load(); }
  void set_read_wait_timeout_ns(int64_t timeout_ns);

 private:
  std::shared_ptr<const ShardTable> table() const;

  mutable std::mutex writer_mu_;
  mutable std::mutex table_mu_;  // guards the table_ pointer
  std::shared_ptr<const ShardTable> table_;
  std::atomic<int64_t> watermark_;
  std::atomic<int64_t> horizon_{INT64_MIN};
  std::atomic<int64_t> read_wait_timeout_ns_;
  mutable std::mutex wait_mu_;
  mutable std::condition_variable wait_cv_;
};

}  // namespace dsql::storage
