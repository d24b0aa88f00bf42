#include "storage/shard_map.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <stdexcept>

namespace dsql::storage {

namespace {
constexpr int64_t kMaxWaitNs = int64_t{100} * 24 * 3600 * 1'000'000'000;  // 100 days
}  // namespace

size_t ShardTable::route(std::string_view key) const noexcept {
  assert(!shards.empty() && shards[0].lo.empty());
  // The last shard whose lower bound is <= key.
  size_t lo = 0;
  size_t hi = shards.size();
  while (hi - lo > 1) {  // bounded by log2(shards)
    const size_t mid = lo + (hi - lo) / 2;
    if (std::string_view(shards[mid].lo) <= key) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  assert(std::string_view(shards[lo].lo) <= key);
  return lo;
}

// ---- MapView --------------------------------------------------------------------------------

MapView::MapView(std::shared_ptr<const ShardTable> table, int64_t ts)
    : table_(std::move(table)), ts_(ts) {
  assert(table_ != nullptr && !table_->shards.empty());
  views_.resize(table_->shards.size());
}

const ReadView& MapView::shard(size_t i) const {
  assert(i < views_.size());
  if (!views_[i].has_value()) views_[i].emplace(table_->shards[i].store->view_settled(ts_));
  assert(views_[i]->ts() == ts_);
  return *views_[i];
}

std::string_view MapView::get(std::string_view key) const {
  return shard(table_->route(key)).get(key);
}

void MapView::get_many(const std::string_view* keys, size_t n, std::string_view* out) const {
  const size_t shards = table_->shards.size();
  if (shards == 1) {
    shard(0).get_many(keys, n, out);
    return;
  }
  // Bucket the keys by shard so each shard gets one pipelined batch, then scatter back.
  std::vector<uint32_t> owner(n);
  std::vector<size_t> counts(shards, 0);
  for (size_t i = 0; i < n; ++i) {
    owner[i] = static_cast<uint32_t>(table_->route(keys[i]));
    ++counts[owner[i]];
  }
  std::vector<std::string_view> batch;
  std::vector<std::string_view> found;
  for (size_t s = 0; s < shards; ++s) {  // bounded by the shard count
    if (counts[s] == 0) continue;
    batch.clear();
    for (size_t i = 0; i < n; ++i) {
      if (owner[i] == s) batch.push_back(keys[i]);
    }
    found.resize(batch.size());
    shard(s).get_many(batch.data(), batch.size(), found.data());
    size_t j = 0;
    for (size_t i = 0; i < n; ++i) {
      if (owner[i] == s) out[i] = found[j++];
    }
    assert(j == counts[s]);
  }
}

bool MapView::scan(std::string_view lo, std::string_view hi, size_t limit, bool reverse,
                   std::vector<Row>* rows, std::string* resume) const {
  assert(rows != nullptr && resume != nullptr);
  if (!hi.empty() && lo >= hi) return false;
  const auto& shards = table_->shards;
  const size_t start = rows->size();
  // The part of [lo, hi) that shard i owns; false when empty.
  auto clip = [&](size_t i, std::string_view* sub_lo, std::string_view* sub_hi) {
    *sub_lo = std::max(lo, std::string_view(shards[i].lo));
    std::string_view upper = i + 1 < shards.size() ? std::string_view(shards[i + 1].lo) : "";
    if (upper.empty() || (!hi.empty() && hi < upper)) upper = hi;
    *sub_hi = upper;
    return sub_hi->empty() || *sub_lo < *sub_hi;
  };
  if (!reverse) {
    for (size_t i = table_->route(lo); i < shards.size(); ++i) {  // bounded by the shard count
      if (!hi.empty() && std::string_view(shards[i].lo) >= hi) break;
      std::string_view sub_lo, sub_hi;
      if (!clip(i, &sub_lo, &sub_hi)) continue;
      const size_t want = limit - (rows->size() - start);  // 0: only peek for one more row
      if (shard(i).scan(sub_lo, sub_hi, want, false, rows, resume)) return true;
    }
    return false;
  }
  size_t i = hi.empty() ? shards.size() - 1 : table_->route(hi);
  for (size_t steps = 0; steps < shards.size(); ++steps) {  // bounded by the shard count
    std::string_view sub_lo, sub_hi;
    if (clip(i, &sub_lo, &sub_hi)) {
      const size_t want = limit - (rows->size() - start);
      if (shard(i).scan(sub_lo, sub_hi, want, true, rows, resume)) {
        if (want == 0) {
          assert(rows->size() > start);
          resume->assign(rows->back().key);  // continue below the last row returned
        }
        return true;
      }
    }
    if (i == 0 || std::string_view(shards[i].lo) <= lo) break;
    --i;
  }
  return false;
}

// ---- ShardMap -------------------------------------------------------------------------------

ShardMap::ShardMap(StoreOptions options)
    : watermark_(options.initial_watermark), read_wait_timeout_ns_(options.read_wait_timeout_ns) {
  if (options.read_wait_timeout_ns < 0) {
    throw std::invalid_argument("read_wait_timeout_ns must be >= 0");
  }
  auto table = std::make_shared<ShardTable>();
  table->shards.push_back(ShardTable::Shard{std::string(), std::make_shared<MvccStore>(options)});
  table_ = std::move(table);
  assert(shard_count() == 1);
}

std::shared_ptr<const ShardTable> ShardMap::table() const {
  std::lock_guard<std::mutex> lock(table_mu_);
  assert(table_ != nullptr);
  return table_;
}

size_t ShardMap::shard_count() const { return table()->shards.size(); }

std::vector<std::string> ShardMap::lower_bounds() const {
  std::vector<std::string> out;
  for (const auto& s : table()->shards) out.push_back(s.lo);
  assert(!out.empty() && out[0].empty());
  return out;
}

size_t ShardMap::route(std::string_view key) const { return table()->route(key); }

size_t ShardMap::split(std::string_view at_key) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  if (at_key.empty()) throw std::invalid_argument("split: the key must not be empty");
  std::shared_ptr<const ShardTable> cur = table();
  const size_t i = cur->route(at_key);
  if (cur->shards[i].lo == at_key) {
    throw std::invalid_argument("split: the key is already a shard boundary");
  }
  const std::shared_ptr<MvccStore>& old = cur->shards[i].store;
  auto next = std::make_shared<ShardTable>(*cur);
  std::shared_ptr<MvccStore> lower = old->copy_range(std::string_view(), at_key);
  std::shared_ptr<MvccStore> upper = old->copy_range(at_key, std::string_view());
  assert(lower->watermark() == watermark() && upper->watermark() == watermark());
  next->shards[i].store = std::move(lower);
  next->shards.insert(next->shards.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                      ShardTable::Shard{std::string(at_key), std::move(upper)});
  {
    std::lock_guard<std::mutex> table_lock(table_mu_);
    table_ = std::move(next);
  }
  // The old store lives on, frozen, for readers that pinned the old table (see header).
  assert(table()->shards[i + 1].lo == at_key);
  return i + 1;
}

CheckpointInfo ShardMap::checkpoint_shard(size_t i, const std::string& path, int64_t ts) const {
  std::shared_ptr<const ShardTable> cur = table();
  if (i >= cur->shards.size()) {
    throw std::invalid_argument("checkpoint_shard: no shard " + std::to_string(i));
  }
  assert(cur->shards[i].store != nullptr);
  return cur->shards[i].store->checkpoint(path, ts);
}

void ShardMap::load_shards(const std::vector<std::pair<std::string, std::string>>& shards) {
  if (shards.empty() || !shards[0].first.empty()) {
    throw std::invalid_argument("load_shards: the first shard must start at the empty key");
  }
  for (size_t i = 1; i < shards.size(); ++i) {
    if (shards[i].first <= shards[i - 1].first) {
      throw std::invalid_argument("load_shards: lower bounds must be strictly increasing");
    }
  }
  std::lock_guard<std::mutex> lock(writer_mu_);
  if (stats().versions != 0) throw std::invalid_argument("load_shards: the map already holds data");
  StoreOptions options;
  options.initial_watermark = INT64_MIN;
  options.read_wait_timeout_ns = read_wait_timeout_ns();
  auto next = std::make_shared<ShardTable>();
  int64_t ts = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    auto store = std::make_shared<MvccStore>(options);
    const CheckpointInfo info = store->load(shards[i].second);
    if (i > 0 && info.ts != ts) {
      throw CheckpointError(shards[i].second + ": checkpoint ts " + std::to_string(info.ts) +
                            " differs from the other shards' " + std::to_string(ts));
    }
    ts = info.ts;
    if (ts < watermark()) {
      throw CheckpointError(shards[i].second + ": checkpoint ts " + std::to_string(ts) +
                            " is below the map's watermark " + std::to_string(watermark()));
    }
    next->shards.push_back(ShardTable::Shard{shards[i].first, std::move(store)});
  }
  {
    std::lock_guard<std::mutex> table_lock(table_mu_);
    table_ = std::move(next);
  }
  watermark_.store(ts, std::memory_order_release);
  horizon_.store(ts, std::memory_order_release);
  {
    std::lock_guard<std::mutex> wait_lock(wait_mu_);
  }
  wait_cv_.notify_all();
  assert(shard_count() == shards.size() && watermark() == ts);
}

void ShardMap::apply(int64_t commit_ts, const WriteView* writes, size_t count) {
  assert(count == 0 || writes != nullptr);
  std::lock_guard<std::mutex> lock(writer_mu_);
  if (commit_ts <= watermark()) {
    throw std::invalid_argument("apply at commit_ts " + std::to_string(commit_ts) +
                                " is not above the watermark " + std::to_string(watermark()) +
                                " (REQUIRES commit_ts > watermark)");
  }
  validate_writes(writes, count);  // refuse the whole transaction before any shard sees it
  std::shared_ptr<const ShardTable> cur = table();
  if (cur->shards.size() == 1) {
    cur->shards[0].store->apply(commit_ts, writes, count);
    return;
  }
  std::vector<std::vector<WriteView>> per_shard(cur->shards.size());
  for (size_t i = 0; i < count; ++i) per_shard[cur->route(writes[i].key)].push_back(writes[i]);
  for (size_t s = 0; s < per_shard.size(); ++s) {
    if (!per_shard[s].empty()) cur->shards[s].store->apply(commit_ts, per_shard[s]);
  }
}

void ShardMap::advance_watermark(int64_t ts) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  if (ts <= watermark()) return;
  for (const auto& s : table()->shards) s.store->advance_watermark(ts);  // stores first (inv. 3)
  {
    std::lock_guard<std::mutex> wait_lock(wait_mu_);
    watermark_.store(ts, std::memory_order_release);
  }
  wait_cv_.notify_all();
  assert(watermark() == ts);
}

GcResult ShardMap::gc(int64_t horizon) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  if (horizon > watermark()) {
    throw std::invalid_argument("gc horizon " + std::to_string(horizon) +
                                " is above the watermark " + std::to_string(watermark()) +
                                " (REQUIRES horizon <= watermark)");
  }
  GcResult total;
  if (horizon <= this->horizon()) return total;
  horizon_.store(horizon, std::memory_order_release);
  for (const auto& s : table()->shards) {
    const GcResult r = s.store->gc(horizon);
    total.rebuilt = total.rebuilt || r.rebuilt;
    total.keys_dropped += r.keys_dropped;
    total.versions_dropped += r.versions_dropped;
    total.allocated_bytes_before += r.allocated_bytes_before;
    total.allocated_bytes_after += r.allocated_bytes_after;
  }
  assert(this->horizon() <= watermark());
  return total;
}

bool ShardMap::wait_for_watermark(int64_t ts, int64_t timeout_ns) const {
  if (watermark() >= ts) return true;
  assert(timeout_ns >= 0);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::nanoseconds(std::min(timeout_ns, kMaxWaitNs));
  std::unique_lock<std::mutex> lock(wait_mu_);
  return wait_cv_.wait_until(lock, deadline, [&] { return watermark() >= ts; });
}

void ShardMap::await_watermark(int64_t ts) const {
  const int64_t timeout_ns = read_wait_timeout_ns();
  if (wait_for_watermark(ts, timeout_ns)) return;
  throw WatermarkTimeout("storage read at ts " + std::to_string(ts) + " timed out after " +
                         std::to_string(timeout_ns / 1'000'000) +
                         " ms waiting for the watermark, which is still " +
                         std::to_string(watermark()) +
                         " (commits at or before the read timestamp have not all been applied)");
}

MapView ShardMap::view(int64_t ts) const {
  await_watermark(ts);
  if (ts < horizon()) {
    throw SnapshotTooOld("storage read at ts " + std::to_string(ts) + " is below the GC horizon " +
                         std::to_string(horizon()) +
                         ": the versions it needs may have been dropped (snapshot too old)");
  }
  return MapView(table(), ts);  // pinned after the wait: see the header
}

PointRead ShardMap::read_into(std::string_view key, int64_t ts, std::string* out) const {
  assert(out != nullptr);
  if (ts > watermark() || ts < horizon()) return PointRead::kNotReadable;
  const std::shared_ptr<const ShardTable> t = table();  // after the watermark check: see header
  const MvccStore& store = *t->shards[t->route(key)].store;
  assert(store.watermark() >= ts);
  return store.read_into(key, ts, out);
}

StoreStats ShardMap::stats() const {
  StoreStats total;
  for (const auto& s : table()->shards) {
    const StoreStats one = s.store->stats();
    total.keys += one.keys;
    total.versions += one.versions;
    total.live_bytes += one.live_bytes;
    total.allocated_bytes += one.allocated_bytes;
    total.arena_used_bytes += one.arena_used_bytes;
    total.index_bytes += one.index_bytes;
    total.generation += one.generation;
  }
  total.watermark = watermark();
  total.horizon = horizon();
  return total;
}

std::vector<StoreStats> ShardMap::shard_stats() const {
  std::vector<StoreStats> out;
  for (const auto& s : table()->shards) out.push_back(s.store->stats());
  return out;
}

void ShardMap::set_read_wait_timeout_ns(int64_t timeout_ns) {
  if (timeout_ns < 0) throw std::invalid_argument("read_wait_timeout_ns must be >= 0");
  read_wait_timeout_ns_.store(timeout_ns);
  for (const auto& s : table()->shards) s.store->set_read_wait_timeout_ns(timeout_ns);
}

}  // namespace dsql::storage
