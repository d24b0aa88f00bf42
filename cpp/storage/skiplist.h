// The ordered part of a store generation: key nodes in a skiplist, each with its version chain.
//
// A KeyNode holds one key, its skiplist links and the head of its version chain. A Version
// holds one committed write of that key (commit timestamp and value, or a tombstone). Both live
// in the generation's Arena, laid out by hand so that a 16-byte key costs about 40 bytes of node
// and a version 20 bytes plus its value:
//
//   KeyNode: newest:Version* | key_len:u32 | height:u8 | pad:3 | next[height]:KeyNode* | key
//   Version: commit_ts:i64 | older:Version* | value_len:u32 | value   (value_len = kTombstoneLen
//            marks a tombstone, which has no value bytes)
//
// The version chain is ordered by commit_ts, newest first; the writer inserts a version at its
// place in the chain (commits may be applied out of commit_ts order), so readers take the first
// version whose commit_ts is <= their read timestamp.
//
// Thread-safety (LevelDB's skiplist contract): one writer at a time calls insert()/append() and
// KeyNode::add_version(); any number of readers concurrently call the const methods and walk
// nodes and chains without locks. Links and chain heads are published with release stores and
// read with acquire loads.
// Invariants:
//   1. A node, once linked at level 0, is never unlinked and its key never changes.
//   2. The keys along level 0 are strictly increasing (bytewise, unsigned); every level i > 0
//      is a subsequence of level i - 1.
//   3. A version, once linked, never changes; a node's chain is strictly decreasing in
//      commit_ts, except that a newer write of the same (key, commit_ts) is linked in front of
//      the older one, which it shadows.
//   4. A node or version is fully initialised before the release store that links it.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/arena.h"

namespace dsql::storage {

inline constexpr uint32_t kTombstoneLen = UINT32_MAX;
inline constexpr size_t kMaxKeyBytes = size_t{1} << 16;    // 64 KiB
inline constexpr size_t kMaxValueBytes = size_t{1} << 26;  // 64 MiB

struct Version {
  static constexpr size_t kHeaderBytes = 20;  // the value starts right after value_len

  int64_t commit_ts;
  std::atomic<Version*> older;
  uint32_t value_len;

  bool tombstone() const noexcept { return value_len == kTombstoneLen; }
  std::string_view value() const noexcept {
    assert(!tombstone());
    return {reinterpret_cast<const char*>(this) + kHeaderBytes, value_len};
  }
  const Version* next_older() const noexcept { return older.load(std::memory_order_acquire); }
  size_t payload_bytes() const noexcept { return tombstone() ? 0 : value_len; }

  static size_t bytes_for(size_t value_bytes) noexcept { return kHeaderBytes + value_bytes; }
  // Allocates and fills a version (not yet linked anywhere).
  // REQUIRES: tombstone or value.size() <= kMaxValueBytes.
  static Version* make(Arena* arena, int64_t commit_ts, std::string_view value, bool tombstone);
};

struct KeyNode {
  static constexpr size_t kLinksOffset = 16;

  std::atomic<Version*> newest;
  uint32_t key_len;
  uint8_t height;

  std::string_view key() const noexcept {
    return {reinterpret_cast<const char*>(this) + kLinksOffset + 8 * size_t{height}, key_len};
  }
  KeyNode* next(int level) const noexcept {
    assert(level >= 0 && level < height);
    return links()[level].load(std::memory_order_acquire);
  }
  void set_next(int level, KeyNode* node) noexcept {
    assert(level >= 0 && level < height);
    links()[level].store(node, std::memory_order_release);
  }
  KeyNode* next_relaxed(int level) const noexcept {
    return links()[level].load(std::memory_order_relaxed);
  }
  const Version* newest_version() const noexcept { return newest.load(std::memory_order_acquire); }
  // The newest version with commit_ts <= ts (a tombstone included), or nullptr.
  const Version* visible_at(int64_t ts) const noexcept {
    const Version* v = newest_version();
    while (v != nullptr && v->commit_ts > ts) v = v->next_older();  // bounded by chain length
    return v;
  }
  // Writer only: links `v` into the chain at its commit_ts place (invariant 3).
  void add_version(Version* v) noexcept;
  // Writer only (bulk builds): links `v` after `tail` (or as the head when tail is nullptr).
  // REQUIRES: v->commit_ts < tail->commit_ts.
  void append_version(Version* tail, Version* v) noexcept;

  static size_t bytes_for(size_t key_bytes, int height) noexcept {
    return kLinksOffset + 8 * size_t(height) + key_bytes;
  }

 private:
  std::atomic<KeyNode*>* links() const noexcept {
    return reinterpret_cast<std::atomic<KeyNode*>*>(
        const_cast<char*>(reinterpret_cast<const char*>(this)) + kLinksOffset);
  }
  friend class SkipList;
};

static_assert(sizeof(KeyNode) <= KeyNode::kLinksOffset);
static_assert(offsetof(Version, value_len) + 4 == Version::kHeaderBytes);

class SkipList {
 public:
  static constexpr int kMaxHeight = 12;  // branching 4: comfortable up to ~16M keys

  // REQUIRES: arena != nullptr; it outlives the list.
  SkipList(Arena* arena, uint64_t seed);
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // Writer: links a new node for `key`. REQUIRES: key is not in the list.
  KeyNode* insert(std::string_view key);
  // Writer, bulk build only: links a new node after the last one. REQUIRES: key greater than
  // every key in the list, and no insert() has been called.
  KeyNode* append(std::string_view key);

  // Readers.
  const KeyNode* first() const noexcept { return head_->next(0); }
  // The first node with key >= `key`, or nullptr.
  const KeyNode* seek_ge(std::string_view key) const noexcept;
  // The last node linked at `level` (clamped to the list's height) with key < `key` (or the
  // last at that level of all, when unbounded), or the head when there is none.
  // REQUIRES: 0 <= level < kMaxHeight.
  const KeyNode* seek_lt(std::string_view key, bool unbounded, int level) const noexcept;
  const KeyNode* head() const noexcept { return head_; }

  // Readers, for scans: brings the level-0 nodes after `anchor` (and their newest versions)
  // into the cache ahead of a sequential walk. A linked list walk costs one dependent cache
  // miss per node; this walks `segments` stretches of level 0 at once, each between two
  // consecutive nodes of level kWarmLevel, so their misses overlap. Returns the node where the
  // warmed stretch ends (the caller warms again from there), or nullptr at the end of the list.
  // REQUIRES: anchor != nullptr and anchor->height > kWarmLevel.
  static constexpr int kWarmLevel = 2;
  static constexpr int kWarmSegments = 16;
  const KeyNode* warm(const KeyNode* anchor) const noexcept;

  size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

 private:
  KeyNode* new_node(std::string_view key, int height);
  int random_height() noexcept;
  int max_height() const noexcept { return max_height_.load(std::memory_order_relaxed); }

  Arena* const arena_;
  KeyNode* head_;
  std::atomic<int> max_height_{1};
  std::atomic<size_t> size_{0};
  uint64_t rng_;
  bool inserted_ = false;                 // append() is only for builds that never insert()
  KeyNode* last_[kMaxHeight];             // append(): the last node at each level
};

}  // namespace dsql::storage
