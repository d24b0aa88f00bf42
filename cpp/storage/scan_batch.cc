#include "storage/scan_batch.h"

#include <cassert>

namespace dsql::storage {
namespace {

template <typename Store, typename View>
void scan_into(const Store& store, std::string_view lo, std::string_view hi, int64_t ts,
               size_t limit, bool reverse, BorrowedBatch* out) {
  assert(out != nullptr);
  assert(limit > 0);
  out->rows.clear();
  out->resume.clear();
  out->more = false;
  out->pin.reset();
  if (store.watermark() < ts || store.horizon() > ts) {
    out->status = BorrowedBatch::kNotReadable;
    return;
  }
  auto view = std::make_shared<View>(store.view(ts));  // readable: does not wait
  out->more = view->scan(lo, hi, limit, reverse, &out->rows, &out->resume);
  out->pin = std::move(view);
  out->status = BorrowedBatch::kOk;
  assert(out->rows.size() <= limit);
}

}  // namespace

void scan_batch(const MvccStore& store, std::string_view lo, std::string_view hi, int64_t ts,
                size_t limit, bool reverse, BorrowedBatch* out) {
  scan_into<MvccStore, ReadView>(store, lo, hi, ts, limit, reverse, out);
}

void scan_batch(const ShardMap& map, std::string_view lo, std::string_view hi, int64_t ts,
                size_t limit, bool reverse, BorrowedBatch* out) {
  scan_into<ShardMap, MapView>(map, lo, hi, ts, limit, reverse, out);
}

}  // namespace dsql::storage
