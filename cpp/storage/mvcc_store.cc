#include "storage/mvcc_store.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <climits>
#include <stdexcept>

#include "storage/checkpoint.h"

namespace dsql::storage {

namespace {

constexpr int kReverseChunkLevel = 4;          // a reverse scan seeks once per ~256 nodes
constexpr size_t kReverseChunkMax = 1024;      // nodes buffered per reverse chunk, at most 2x
constexpr int64_t kMaxWaitNs = int64_t{100} * 24 * 3600 * 1'000'000'000;  // 100 days

std::string_view value_of(const KeyNode* node, int64_t ts) noexcept {
  if (node == nullptr) return {};
  const Version* v = node->visible_at(ts);
  if (v == nullptr || v->tombstone()) return {};
  const std::string_view value = v->value();
  assert(value.data() != nullptr);
  return value;
}

std::string describe_ts(int64_t ts) { return std::to_string(ts); }

}  // namespace

// ---- ReadView -------------------------------------------------------------------------------

ReadView::ReadView(std::shared_ptr<const Generation> gen, int64_t ts) : gen_(std::move(gen)), ts_(ts) {
  assert(gen_ != nullptr);
  gen_->enter();  // before any index access: see HashIndex on retired tables
}

ReadView::~ReadView() {
  if (gen_ != nullptr) gen_->leave();
}

ReadView::ReadView(ReadView&& other) noexcept : gen_(std::move(other.gen_)), ts_(other.ts_) {
  assert(other.gen_ == nullptr);
}

std::string_view ReadView::get(std::string_view key) const noexcept {
  assert(gen_ != nullptr);
  return value_of(gen_->find(key), ts_);
}

void ReadView::get_many(const std::string_view* keys, size_t n, std::string_view* out) const noexcept {
  assert(gen_ != nullptr);
  assert(n == 0 || (keys != nullptr && out != nullptr));
  // Passes over groups of keys, so that the cache misses of one group overlap: hash and
  // prefetch the index slots; prefetch each slot's candidate node; probe (comparing keys) and
  // prefetch each node's newest version; then resolve the versions.
  constexpr size_t kGroup = 32;
  uint64_t hashes[kGroup];
  const KeyNode* nodes[kGroup];
  for (size_t base = 0; base < n; base += kGroup) {  // bounded by n / kGroup + 1
    const size_t m = std::min(kGroup, n - base);
    for (size_t i = 0; i < m; ++i) {
      hashes[i] = hash_key(keys[base + i]);
      gen_->prefetch(hashes[i]);
    }
    for (size_t i = 0; i < m; ++i) gen_->prefetch_candidate(hashes[i]);
    for (size_t i = 0; i < m; ++i) {
      nodes[i] = gen_->find_hashed(keys[base + i], hashes[i]);
      if (nodes[i] != nullptr) __builtin_prefetch(nodes[i]->newest.load(std::memory_order_relaxed));
    }
    for (size_t i = 0; i < m; ++i) out[base + i] = value_of(nodes[i], ts_);
  }
}

bool ReadView::scan(std::string_view lo, std::string_view hi, size_t limit, bool reverse,
                    std::vector<Row>* rows, std::string* resume) const {
  assert(rows != nullptr && resume != nullptr);
  assert(gen_ != nullptr);
  if (!hi.empty() && lo >= hi) return false;  // an empty range
  return reverse ? scan_reverse(lo, hi, limit, rows, resume)
                 : scan_forward(lo, hi, limit, rows, resume);
}

bool ReadView::scan_forward(std::string_view lo, std::string_view hi, size_t limit,
                            std::vector<Row>* rows, std::string* resume) const {
  const SkipList& list = gen_->list();
  const size_t start = rows->size();
  const bool unbounded = hi.empty();
  size_t examined = 0;
  const KeyNode* warm_frontier = nullptr;  // where the last warm() stopped; nullptr: none yet
  bool warmed_once = false;
  for (const KeyNode* n = list.seek_ge(lo); n != nullptr; n = n->next(0)) {
    const std::string_view key = n->key();
    if (!unbounded && key >= hi) break;
    if (n->height > SkipList::kWarmLevel && (!warmed_once || n == warm_frontier)) {
      warm_frontier = list.warm(n);  // fetch the next stretch of nodes in parallel
      warmed_once = true;
    }
    if (examined == kScanExamineMax) {  // the loop's bound: resume at the first unexamined key
      resume->assign(key);
      return true;
    }
    ++examined;
    const std::string_view value = value_of(n, ts_);
    if (value.data() == nullptr) continue;
    if (rows->size() - start == limit) {  // one more visible row: the next call starts here
      resume->assign(key);
      return true;
    }
    rows->push_back(Row{key, value});
  }
  assert(rows->size() - start <= limit);
  return false;
}

bool ReadView::scan_reverse(std::string_view lo, std::string_view hi, size_t limit,
                            std::vector<Row>* rows, std::string* resume) const {
  // Backwards in chunks: seek the last node at level kReverseChunkLevel below the boundary,
  // walk level 0 forward from it up to the boundary, emit that chunk in reverse, and move the
  // boundary down to where the chunk began. One O(log n) seek per ~4^level nodes.
  const SkipList& list = gen_->list();
  const size_t start = rows->size();
  bool unbounded = hi.empty();
  std::string_view boundary = hi;  // exclusive
  std::string_view last_examined;
  size_t examined = 0;
  std::vector<const KeyNode*> chunk;
  chunk.reserve(64);
  const size_t rounds_max = list.size() + 2;
  for (size_t round = 0; round < rounds_max; ++round) {
    const KeyNode* x = list.seek_lt(boundary, unbounded, kReverseChunkLevel);
    const bool from_head = (x == list.head());
    const KeyNode* n = from_head ? list.first() : x;
    chunk.clear();
    bool truncated = false;
    const KeyNode* warm_frontier = nullptr;
    bool warmed_once = false;
    for (; n != nullptr && (unbounded || n->key() < boundary); n = n->next(0)) {
      if (n->height > SkipList::kWarmLevel && (!warmed_once || n == warm_frontier)) {
        warm_frontier = list.warm(n);
        warmed_once = true;
      }
      chunk.push_back(n);  // bounded: at most 2 * kReverseChunkMax entries are kept
      if (chunk.size() == 2 * kReverseChunkMax) {
        chunk.erase(chunk.begin(), chunk.begin() + kReverseChunkMax);
        truncated = true;
      }
    }
    for (size_t i = chunk.size(); i-- > 0;) {
      const KeyNode* c = chunk[i];
      const std::string_view key = c->key();
      if (key < lo) return false;
      if (examined == kScanExamineMax) {  // everything at or above last_examined is done
        resume->assign(last_examined);
        return true;
      }
      ++examined;
      last_examined = key;
      const std::string_view value = value_of(c, ts_);
      if (value.data() == nullptr) continue;
      if (rows->size() - start == limit) {
        // One more visible row below: continue below the last row returned (or, when only
        // peeking, just above this one).
        if (limit > 0) {
          resume->assign(rows->back().key);
        } else {
          resume->assign(key);
          resume->push_back('\0');
        }
        return true;
      }
      rows->push_back(Row{key, value});
    }
    if (truncated) {
      boundary = chunk.front()->key();
    } else if (from_head) {
      return false;  // reached the first key
    } else {
      boundary = x->key();
    }
    unbounded = false;
  }
  assert(false && "reverse scan did not converge");
  return false;
}

void validate_writes(const WriteView* writes, size_t count) {
  assert(count == 0 || writes != nullptr);
  for (size_t i = 0; i < count; ++i) {  // bounded by count
    if (writes[i].key.size() > kMaxKeyBytes) {
      throw std::invalid_argument("apply: write " + std::to_string(i) + " has a key of " +
                                  std::to_string(writes[i].key.size()) + " bytes (max " +
                                  std::to_string(kMaxKeyBytes) + ")");
    }
    if (!writes[i].tombstone && writes[i].value.size() > kMaxValueBytes) {
      throw std::invalid_argument("apply: write " + std::to_string(i) + " has a value of " +
                                  std::to_string(writes[i].value.size()) + " bytes (max " +
                                  std::to_string(kMaxValueBytes) + ")");
    }
  }
}

// ---- MvccStore ------------------------------------------------------------------------------

MvccStore::MvccStore(StoreOptions options)
    : gen_(std::make_shared<Generation>(INT64_MIN, 0, 0x9E3779B97F4A7C15ULL)),
      watermark_(options.initial_watermark),
      horizon_(INT64_MIN),
      read_wait_timeout_ns_(options.read_wait_timeout_ns) {
  if (options.read_wait_timeout_ns < 0) {
    throw std::invalid_argument("read_wait_timeout_ns must be >= 0");
  }
  assert(horizon() <= watermark());
  assert(gen_->keys() == 0);
}

uint64_t MvccStore::next_seed() noexcept {
  seed_state_ += 0x9E3779B97F4A7C15ULL;  // splitmix64
  uint64_t z = seed_state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::shared_ptr<const Generation> MvccStore::pin() const {
  std::lock_guard<std::mutex> lock(gen_mu_);
  assert(gen_ != nullptr);
  return gen_;
}

void MvccStore::install(std::shared_ptr<Generation> gen) {
  assert(gen != nullptr);
  std::shared_ptr<Generation> old;
  {
    std::lock_guard<std::mutex> lock(gen_mu_);
    old = std::move(gen_);
    gen_ = std::move(gen);
  }
  generation_number_.fetch_add(1, std::memory_order_relaxed);
  // `old` is released here, outside gen_mu_; it is freed now or by its last reader (inv. 4).
}

void MvccStore::set_read_wait_timeout_ns(int64_t timeout_ns) {
  if (timeout_ns < 0) throw std::invalid_argument("read_wait_timeout_ns must be >= 0");
  read_wait_timeout_ns_.store(timeout_ns);
}

bool MvccStore::wait_for_watermark(int64_t ts, int64_t timeout_ns) const {
  if (watermark() >= ts) return true;
  assert(timeout_ns >= 0);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::nanoseconds(std::min(timeout_ns, kMaxWaitNs));
  std::unique_lock<std::mutex> lock(wait_mu_);
  return wait_cv_.wait_until(lock, deadline, [&] { return watermark() >= ts; });
}

void MvccStore::await_watermark(int64_t ts) const {
  const int64_t timeout_ns = read_wait_timeout_ns();
  if (wait_for_watermark(ts, timeout_ns)) return;
  throw WatermarkTimeout("storage read at ts " + describe_ts(ts) + " timed out after " +
                         std::to_string(timeout_ns / 1'000'000) +
                         " ms waiting for the watermark, which is still " +
                         describe_ts(watermark()) +
                         " (commits at or before the read timestamp have not all been applied)");
}

ReadView MvccStore::view(int64_t ts) const {
  await_watermark(ts);
  return view_settled(ts);
}

ReadView MvccStore::view_settled(int64_t ts) const {
  if (ts > watermark()) {
    throw std::invalid_argument("view_settled at ts " + describe_ts(ts) +
                                " above the watermark " + describe_ts(watermark()));
  }
  std::shared_ptr<const Generation> gen = pin();
  const int64_t horizon = std::max(horizon_.load(std::memory_order_acquire), gen->horizon());
  if (ts < horizon) {
    throw SnapshotTooOld("storage read at ts " + describe_ts(ts) + " is below the GC horizon " +
                         describe_ts(horizon) +
                         ": the versions it needs may have been dropped (snapshot too old)");
  }
  return ReadView(std::move(gen), ts);
}

std::optional<std::string> MvccStore::get(std::string_view key, int64_t ts) const {
  const ReadView v = view(ts);
  const std::string_view value = v.get(key);
  if (value.data() == nullptr) return std::nullopt;
  return std::string(value);
}

PointRead MvccStore::read_into(std::string_view key, int64_t ts, std::string* out) const {
  assert(out != nullptr);
  if (ts > watermark() || ts < horizon()) return PointRead::kNotReadable;
  std::shared_ptr<const Generation> gen = pin();
  if (ts < gen->horizon()) return PointRead::kNotReadable;
  const ReadView view(std::move(gen), ts);
  const std::string_view value = view.get(key);
  if (value.data() == nullptr) return PointRead::kAbsent;
  out->assign(value.data(), value.size());
  return PointRead::kFound;
}

std::vector<std::optional<std::string>> MvccStore::get_many(
    const std::vector<std::string_view>& keys, int64_t ts) const {
  const ReadView v = view(ts);
  std::vector<std::string_view> found(keys.size());
  v.get_many(keys.data(), keys.size(), found.data());
  std::vector<std::optional<std::string>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (found[i].data() != nullptr) out[i].emplace(found[i]);
  }
  assert(out.size() == keys.size());
  return out;
}

ScanResult MvccStore::scan(std::string_view lo, std::string_view hi, int64_t ts, size_t limit,
                           bool reverse) const {
  if (limit == 0) throw std::invalid_argument("scan limit must be >= 1");
  const ReadView v = view(ts);
  std::vector<Row> rows;
  std::string resume;
  const bool more = v.scan(lo, hi, limit, reverse, &rows, &resume);
  ScanResult out;
  out.rows.reserve(rows.size());
  for (const Row& r : rows) out.rows.emplace_back(std::string(r.key), std::string(r.value));
  if (more) out.resume = std::move(resume);
  assert(out.rows.size() <= limit);
  return out;
}

void MvccStore::apply(int64_t commit_ts, const WriteView* writes, size_t count) {
  assert(count == 0 || writes != nullptr);
  std::lock_guard<std::mutex> lock(writer_mu_);
  if (commit_ts <= watermark()) {
    throw std::invalid_argument("apply at commit_ts " + describe_ts(commit_ts) +
                                " is not above the watermark " + describe_ts(watermark()) +
                                " (REQUIRES commit_ts > watermark)");
  }
  validate_writes(writes, count);  // the whole transaction, before any write
  Generation* gen = gen_.get();  // gen_ changes only under writer_mu_, which we hold
  for (size_t i = 0; i < count; ++i) {
    gen->put(writes[i].key, commit_ts, writes[i].value, writes[i].tombstone);
  }
  gen->reclaim_retired();
  assert(commit_ts > watermark());
}

void MvccStore::advance_watermark(int64_t ts) {
  std::lock_guard<std::mutex> lock(writer_mu_);  // invariant 5
  if (ts <= watermark()) return;                  // monotonic: a stale advance is ignored
  {
    std::lock_guard<std::mutex> wait_lock(wait_mu_);
    watermark_.store(ts, std::memory_order_release);
  }
  wait_cv_.notify_all();
  assert(watermark() == ts);
}

GcResult MvccStore::gc(int64_t horizon) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  if (horizon > watermark()) {
    throw std::invalid_argument("gc horizon " + describe_ts(horizon) + " is above the watermark " +
                                describe_ts(watermark()) + " (REQUIRES horizon <= watermark)");
  }
  GcResult result;
  result.allocated_bytes_before = gen_->allocated_bytes();
  result.allocated_bytes_after = result.allocated_bytes_before;
  if (horizon <= this->horizon()) return result;
  // Publish the horizon first: a reader that pins the old generation after this still reads
  // complete data, and one below the new horizon is refused from now on.
  horizon_.store(horizon, std::memory_order_release);
  const PruneCounts counts = gen_->count_prune(horizon, std::string_view(), std::string_view());
  if (counts.versions_dropped == 0 && counts.keys_dropped == 0) return result;
  PruneCounts built;
  std::shared_ptr<Generation> fresh =
      gen_->rebuild(horizon, std::string_view(), std::string_view(), counts.keys_kept,
                    counts.bytes_kept, next_seed(), &built);
  assert(built.versions_kept == counts.versions_kept && built.keys_kept == counts.keys_kept);
  result.rebuilt = true;
  result.keys_dropped = counts.keys_dropped;
  result.versions_dropped = counts.versions_dropped;
  result.allocated_bytes_after = fresh->allocated_bytes();
  install(std::move(fresh));
  assert(this->horizon() <= watermark());  // invariant 1
  return result;
}

CheckpointInfo MvccStore::checkpoint(const std::string& path, int64_t ts) const {
  const ReadView v = view(ts);
  return write_checkpoint(v, path);
}

CheckpointInfo MvccStore::load(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(writer_mu_);
    if (gen_->versions() != 0) {
      throw std::invalid_argument("load " + path + ": the store is not empty (" +
                                  std::to_string(gen_->versions()) + " versions)");
    }
  }
  uint64_t seed;
  {
    std::lock_guard<std::mutex> lock(writer_mu_);
    seed = next_seed();
  }
  // Read and verify the whole file into a detached generation; nothing is installed unless
  // every check passes.
  LoadedCheckpoint loaded = read_checkpoint(path, seed);
  std::lock_guard<std::mutex> lock(writer_mu_);
  if (gen_->versions() != 0) {
    throw std::invalid_argument("load " + path + ": the store was written to during the load");
  }
  if (watermark() > loaded.info.ts) {
    throw std::invalid_argument("load " + path + ": checkpoint ts " + describe_ts(loaded.info.ts) +
                                " is below the store's watermark " + describe_ts(watermark()));
  }
  install(std::move(loaded.generation));
  horizon_.store(loaded.info.ts, std::memory_order_release);
  {
    std::lock_guard<std::mutex> wait_lock(wait_mu_);
    watermark_.store(loaded.info.ts, std::memory_order_release);
  }
  wait_cv_.notify_all();
  assert(horizon() == watermark());
  return loaded.info;
}

std::unique_ptr<MvccStore> MvccStore::copy_range(std::string_view lo, std::string_view hi) const {
  std::lock_guard<std::mutex> lock(writer_mu_);
  StoreOptions options;
  options.initial_watermark = watermark();
  options.read_wait_timeout_ns = read_wait_timeout_ns();
  auto out = std::make_unique<MvccStore>(options);
  const int64_t horizon = std::max(this->horizon(), gen_->horizon());
  const PruneCounts counts = gen_->count_prune(horizon, lo, hi);
  PruneCounts built;
  out->gen_ = gen_->rebuild(horizon, lo, hi, counts.keys_kept, counts.bytes_kept,
                            out->next_seed(), &built);
  out->horizon_.store(this->horizon(), std::memory_order_release);
  assert(built.keys_kept == counts.keys_kept);
  assert(out->watermark() == watermark());
  return out;
}

StoreStats MvccStore::stats() const {
  std::shared_ptr<const Generation> gen = pin();
  StoreStats s;
  s.keys = gen->keys();
  s.versions = gen->versions();
  s.live_bytes = gen->live_bytes();
  s.allocated_bytes = gen->allocated_bytes();
  s.arena_used_bytes = gen->arena_used_bytes();
  s.index_bytes = gen->index_bytes();
  s.watermark = watermark();
  s.horizon = horizon();
  s.generation = generation_number_.load(std::memory_order_relaxed);
  assert(s.arena_used_bytes <= s.allocated_bytes);
  return s;
}

}  // namespace dsql::storage
