#include "storage/generation.h"

#include <cassert>
#include <memory>

namespace dsql::storage {

namespace {

// Visits the versions of `node` that survive pruning at `horizon`, newest first; returns how
// many versions the chain had in all.
template <typename Fn>
uint64_t for_each_kept(const KeyNode* node, int64_t horizon, Fn&& keep) {
  uint64_t total = 0;
  int64_t prev_ts = 0;
  bool have_prev = false;
  for (const Version* v = node->newest_version(); v != nullptr; v = v->next_older()) {
    ++total;  // bounded by the chain's length
    if (have_prev && v->commit_ts == prev_ts) continue;  // shadowed by a same-ts write
    have_prev = true;
    prev_ts = v->commit_ts;
    if (v->commit_ts > horizon) {
      keep(v);
      continue;
    }
    if (!v->tombstone()) keep(v);  // the newest at or below the horizon
    // Everything older is invisible to every read at or after the horizon. The rest of the
    // chain is still counted.
    for (const Version* o = v->next_older(); o != nullptr; o = o->next_older()) ++total;
    break;
  }
  return total;
}

bool in_range(std::string_view key, std::string_view hi) { return hi.empty() || key < hi; }

}  // namespace

Generation::Generation(int64_t horizon, size_t expected_keys, uint64_t seed)
    : list_(&arena_, seed), index_(expected_keys), horizon_(horizon) {
  assert(list_.size() == 0);
  assert(index_.size() == 0);
}

void Generation::put(std::string_view key, int64_t commit_ts, std::string_view value,
                     bool tombstone) {
  assert(key.size() <= kMaxKeyBytes);
  assert(tombstone || value.size() <= kMaxValueBytes);
  const uint64_t hash = hash_key(key);
  KeyNode* node = index_.find(key, hash);
  if (node == nullptr) {
    node = list_.insert(key);
    index_.insert(node, hash);
    live_bytes_.fetch_add(key.size(), std::memory_order_relaxed);
  }
  Version* v = Version::make(&arena_, commit_ts, value, tombstone);
  node->add_version(v);
  versions_.fetch_add(1, std::memory_order_relaxed);
  live_bytes_.fetch_add(v->payload_bytes(), std::memory_order_relaxed);
  assert(index_.size() == list_.size());  // invariant 1
}

KeyNode* Generation::append_key(std::string_view key) {
  assert(key.size() <= kMaxKeyBytes);
  KeyNode* node = list_.append(key);
  index_.insert(node, hash_key(key));
  live_bytes_.fetch_add(key.size(), std::memory_order_relaxed);
  assert(index_.size() == list_.size());
  return node;
}

Version* Generation::append_version(KeyNode* node, Version* tail, int64_t commit_ts,
                                    std::string_view value, bool tombstone) {
  assert(node != nullptr);
  Version* v = Version::make(&arena_, commit_ts, value, tombstone);
  node->append_version(tail, v);
  versions_.fetch_add(1, std::memory_order_relaxed);
  live_bytes_.fetch_add(v->payload_bytes(), std::memory_order_relaxed);
  return v;
}

PruneCounts Generation::count_prune(int64_t horizon, std::string_view lo,
                                    std::string_view hi) const {
  PruneCounts counts;
  for (const KeyNode* n = list_.seek_ge(lo); n != nullptr && in_range(n->key(), hi);
       n = n->next(0)) {  // bounded by the list's length
    uint64_t kept = 0;
    const uint64_t total = for_each_kept(n, horizon, [&](const Version* v) {
      ++kept;
      counts.bytes_kept += (Version::bytes_for(v->payload_bytes()) + 7) & ~uint64_t{7};
    });
    assert(kept <= total);
    // A node has 4/3 links on average (branching 4): 8/3 bytes over a height-1 node, and
    // 11 bytes cover that with room for the variance.
    if (kept > 0) {
      counts.bytes_kept += ((KeyNode::bytes_for(n->key().size(), 1) + 7) & ~uint64_t{7}) + 11;
    }
    counts.versions_kept += kept;
    counts.versions_dropped += total - kept;
    if (kept > 0) {
      ++counts.keys_kept;
    } else {
      ++counts.keys_dropped;
    }
  }
  return counts;
}

std::unique_ptr<Generation> Generation::rebuild(int64_t horizon, std::string_view lo,
                                                std::string_view hi, size_t expected_keys,
                                                size_t size_hint_bytes, uint64_t seed,
                                                PruneCounts* counts) const {
  assert(horizon >= horizon_);
  assert(counts != nullptr);
  *counts = PruneCounts{};
  auto fresh = std::make_unique<Generation>(horizon, expected_keys, seed);
  if (size_hint_bytes > 0) fresh->set_size_hint(size_hint_bytes + size_hint_bytes / 64);
  for (const KeyNode* n = list_.seek_ge(lo); n != nullptr && in_range(n->key(), hi);
       n = n->next(0)) {  // bounded by the list's length
    KeyNode* copy = nullptr;
    Version* tail = nullptr;
    uint64_t kept = 0;
    const uint64_t total = for_each_kept(n, horizon, [&](const Version* v) {
      if (copy == nullptr) copy = fresh->append_key(n->key());
      tail = fresh->append_version(copy, tail, v->commit_ts,
                                   v->tombstone() ? std::string_view() : v->value(),
                                   v->tombstone());
      ++kept;
    });
    counts->versions_kept += kept;
    counts->versions_dropped += total - kept;
    if (kept > 0) {
      ++counts->keys_kept;
    } else {
      ++counts->keys_dropped;
    }
  }
  assert(fresh->keys() == counts->keys_kept);
  assert(fresh->versions() == counts->versions_kept);
  return fresh;
}

}  // namespace dsql::storage
