// The point-lookup index of a store generation: key -> KeyNode*, open addressing.
//
// Point gets (primary-key lookups) are the hot path of the query processor; a skiplist walk costs
// ~20 dependent cache misses on a large store, a probe here one or two. Each slot is one 64-bit
// word: 0 when empty, else (tag << 48) | node pointer, where tag is the top 16 bits of the key's
// hash, so a probe compares the key only when the tag matches. Linear probing; keys are never
// removed from a generation (GC builds a new generation instead), so no tombstones are needed.
// The table doubles when it would pass 3/4 full.
//
// Thread-safety: one writer (insert) and any number of concurrent readers (find). A slot is
// published with a release store after its node is complete. Growing builds a new table and
// publishes it with a seq_cst store; the old table is retired, not freed, because a reader may
// still be probing it. free_retired() frees retired tables once the caller has seen, after the
// publication, a moment with no reader inside the generation (its reader count was zero in a
// seq_cst load): any reader that starts later loads the new table (a Dekker-style pairing with
// the reader's seq_cst increment of that count before it loads the table pointer).
// Invariants:
//   1. Node pointers fit in 48 bits (checked on insert); the tag of a slot is never 0 together
//      with a null pointer, so a used slot is never 0.
//   2. The current table is at most 3/4 full, so every probe sequence meets an empty slot.
//   3. A key appears in at most one slot of any one table.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "storage/big_pages.h"
#include "storage/skiplist.h"

namespace dsql::storage {

class HashIndex {
 public:
  // Sized so that `expected_keys` fit without growing.
  explicit HashIndex(size_t expected_keys);
  HashIndex(const HashIndex&) = delete;
  HashIndex& operator=(const HashIndex&) = delete;

  // Readers: the node of `key` (whose hash is `hash`), or nullptr.
  KeyNode* find(std::string_view key, uint64_t hash) const noexcept {
    const Table* t = table_.load(std::memory_order_seq_cst);
    const uint64_t tag = hash >> 48;
    size_t i = hash & t->mask;
    for (size_t probes = 0; probes <= t->mask; ++probes) {  // invariant 2: ends at a hole
      const uint64_t slot = t->slots[i].load(std::memory_order_acquire);
      if (slot == 0) return nullptr;
      if ((slot >> 48) == tag) {
        KeyNode* node = reinterpret_cast<KeyNode*>(slot & kPointerMask);
        if (node->key() == key) return node;
      }
      i = (i + 1) & t->mask;
    }
    return nullptr;
  }
  // Readers: a hint to fetch the node that find(key, hash) will most likely compare first (the
  // first slot of the probe sequence whose tag matches), without touching the node itself.
  void prefetch_candidate(uint64_t hash) const noexcept {
    const Table* t = table_.load(std::memory_order_acquire);
    const uint64_t tag = hash >> 48;
    size_t i = hash & t->mask;
    for (size_t probes = 0; probes < 4; ++probes) {  // a hint: look at a few slots only
      const uint64_t slot = t->slots[i].load(std::memory_order_acquire);
      if (slot == 0) return;
      if ((slot >> 48) == tag) {
        __builtin_prefetch(reinterpret_cast<const void*>(slot & kPointerMask));
        return;
      }
      i = (i + 1) & t->mask;
    }
  }
  // Readers: a hint to fetch the first slot `hash` probes.
  void prefetch(uint64_t hash) const noexcept {
    const Table* t = table_.load(std::memory_order_acquire);  // its fields were written before
    __builtin_prefetch(&t->slots[hash & t->mask]);
  }

  // Writer. REQUIRES: node's key is not in the index; hash == hash_key(node->key()).
  void insert(KeyNode* node, uint64_t hash);
  // Writer: frees retired tables when `readers_inside`, loaded seq_cst by the caller after the
  // last publication, was zero. Returns the bytes freed.
  size_t free_retired(int64_t readers_inside);

  size_t size() const noexcept { return count_; }
  size_t allocated_bytes() const noexcept { return allocated_bytes_.load(std::memory_order_relaxed); }
  size_t retired_bytes() const noexcept { return retired_bytes_; }

 private:
  static constexpr uint64_t kPointerMask = (uint64_t{1} << 48) - 1;

  struct Table {
    explicit Table(size_t capacity);
    size_t mask;
    BigRegion memory;  // zero-filled: every slot starts empty
    std::atomic<uint64_t>* slots;
    size_t bytes() const noexcept { return (mask + 1) * sizeof(uint64_t); }
  };

  static void place(Table* t, uint64_t slot_value, uint64_t hash) noexcept;
  void grow();

  std::unique_ptr<Table> current_;
  std::atomic<Table*> table_;
  std::vector<std::unique_ptr<Table>> retired_;
  size_t count_ = 0;
  size_t retired_bytes_ = 0;
  std::atomic<size_t> allocated_bytes_{0};
};

}  // namespace dsql::storage
