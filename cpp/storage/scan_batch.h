// One batch of a scan whose rows are borrowed, for callers that decode them in place.
//
// MvccStore::scan and ShardMap::scan copy every key and value into std::strings and then into
// Python bytes, which the row decoder immediately turns into column tuples. scan_batch() instead
// returns views into the store's memory together with a pin on the generation (or routing
// table) they live in, so the decoder reads them directly and no copy is made.
//
// It never waits and never throws for a timestamp that is not readable yet (above the
// watermark) or no longer (below the GC horizon): it reports kNotReadable, and the caller takes
// the store's ordinary path, which waits or raises the right error.
//
// Thread-safety: as the store's reads; the returned rows stay valid while `pin` is held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/mvcc_store.h"
#include "storage/shard_map.h"

namespace dsql::storage {

struct BorrowedBatch {
  enum Status { kOk = 0, kNotReadable = 1 };
  Status status = kOk;
  std::vector<Row> rows;
  bool more = false;          // true: resume holds where the next batch starts
  std::string resume;
  std::shared_ptr<const void> pin;  // keeps rows' memory alive
};

// REQUIRES: limit > 0. As MvccStore::scan / ShardMap::scan otherwise.
void scan_batch(const MvccStore& store, std::string_view lo, std::string_view hi, int64_t ts,
                size_t limit, bool reverse, BorrowedBatch* out);
void scan_batch(const ShardMap& map, std::string_view lo, std::string_view hi, int64_t ts,
                size_t limit, bool reverse, BorrowedBatch* out);

}  // namespace dsql::storage
