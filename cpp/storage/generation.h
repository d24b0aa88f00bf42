// A generation of a store: the arena, the ordered skiplist of keys and the point-lookup index
// over the same nodes, plus the GC horizon the generation was built at.
//
// A store applies writes to its current generation in place. Reclaiming memory (GC), splitting
// a shard and loading a checkpoint build a NEW generation with rebuild()/append_*() and the
// store swaps it in; the old generation lives on, unchanged, for as long as a reader holds it
// (readers hold generations through std::shared_ptr), then frees everything at once. A rebuilt
// generation lays each key's node and versions out next to each other in key order, which is
// also what makes scans after a GC cache-friendly.
//
// Thread-safety: one writer (put, or the append_* of a build before publication, or
// reclaim_retired) and any number of concurrent readers (find, list, visible_at through nodes).
// A reader calls enter() before its first access and leave() after its last (ReadView does it),
// so the writer can tell when retired index tables may be freed.
// Invariants:
//   1. Every key in list() is in the index and vice versa (the writer adds to both before
//      returning from put()).
//   2. keys(), versions() and live_bytes() count exactly what is linked (live_bytes = key bytes
//      of every key + value bytes of every version).
//   3. horizon() never changes after construction.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "storage/arena.h"
#include "storage/hash_index.h"
#include "storage/key_hash.h"
#include "storage/skiplist.h"

namespace dsql::storage {

// What a GC pass at a horizon keeps and drops (see Generation::rebuild).
struct PruneCounts {
  uint64_t keys_kept = 0;
  uint64_t keys_dropped = 0;
  uint64_t versions_kept = 0;
  uint64_t versions_dropped = 0;
  uint64_t bytes_kept = 0;  // arena bytes the kept keys and versions need (heights estimated)
};

class Generation {
 public:
  Generation(int64_t horizon, size_t expected_keys, uint64_t seed);
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // Writer: links one committed write of `key`. REQUIRES: sizes within kMaxKeyBytes and
  // kMaxValueBytes (the store validates a whole transaction before calling this).
  void put(std::string_view key, int64_t commit_ts, std::string_view value, bool tombstone);

  // Writer, bulk build before publication: keys in strictly ascending order, each key's
  // versions newest first. append_version returns the new tail to pass next time.
  KeyNode* append_key(std::string_view key);
  Version* append_version(KeyNode* node, Version* tail, int64_t commit_ts, std::string_view value,
                          bool tombstone);

  // Writer, before a bulk build: see Arena::set_size_hint.
  void set_size_hint(size_t bytes) noexcept { arena_.set_size_hint(bytes); }

  // Writer: frees retired index tables if no reader is inside right now.
  void reclaim_retired() { index_.free_retired(readers_.load(std::memory_order_seq_cst)); }

  // Readers.
  const KeyNode* find(std::string_view key) const noexcept {
    return index_.find(key, hash_key(key));
  }
  const KeyNode* find_hashed(std::string_view key, uint64_t hash) const noexcept {
    return index_.find(key, hash);
  }
  void prefetch(uint64_t hash) const noexcept { index_.prefetch(hash); }
  void prefetch_candidate(uint64_t hash) const noexcept { index_.prefetch_candidate(hash); }
  const SkipList& list() const noexcept { return list_; }
  int64_t horizon() const noexcept { return horizon_; }
  void enter() const noexcept { readers_.fetch_add(1, std::memory_order_seq_cst); }
  void leave() const noexcept { readers_.fetch_sub(1, std::memory_order_seq_cst); }

  // Statistics (any thread).
  uint64_t keys() const noexcept { return list_.size(); }
  uint64_t versions() const noexcept { return versions_.load(std::memory_order_relaxed); }
  uint64_t live_bytes() const noexcept { return live_bytes_.load(std::memory_order_relaxed); }
  uint64_t arena_allocated_bytes() const noexcept { return arena_.allocated_bytes(); }
  uint64_t arena_used_bytes() const noexcept { return arena_.used_bytes(); }
  uint64_t index_bytes() const noexcept { return index_.allocated_bytes(); }
  uint64_t allocated_bytes() const noexcept { return arena_allocated_bytes() + index_bytes(); }

  // What rebuild(horizon, ...) over [lo, hi) would keep and drop. The GC rule: keep every
  // version newer than the horizon, and the newest version at or below it unless that is a
  // tombstone; drop everything older, and any version shadowed by a same-timestamp write; drop
  // a key left with no versions. Reads at or after the horizon see the same answers.
  // hi empty = unbounded. Reader-side: may run beside the writer only if no apply is in flight.
  PruneCounts count_prune(int64_t horizon, std::string_view lo, std::string_view hi) const;
  // A new generation holding the keys of [lo, hi) pruned at `horizon` (see count_prune).
  // REQUIRES: no concurrent writer on this generation; horizon >= this->horizon().
  // expected_keys sizes the new index and size_hint_bytes the arena (count_prune's keys_kept
  // and bytes_kept; 0 for no hint).
  std::unique_ptr<Generation> rebuild(int64_t horizon, std::string_view lo, std::string_view hi,
                                      size_t expected_keys, size_t size_hint_bytes,
                                      uint64_t seed, PruneCounts* counts) const;

 private:
  Arena arena_;  // first: the list's head node lives in it
  SkipList list_;
  HashIndex index_;
  const int64_t horizon_;
  mutable std::atomic<int64_t> readers_{0};
  std::atomic<uint64_t> versions_{0};
  std::atomic<uint64_t> live_bytes_{0};
};

}  // namespace dsql::storage
