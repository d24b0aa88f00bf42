// KeyTable: an open-addressing hash map from key bytes to a small fixed-size value.
//
// The adjudicator looks up every written key of every transaction, so this is its hot path.
// Layout, chosen so that a lookup of a short key touches two cache lines and allocates nothing:
//
//   slots_  power-of-two array of {hash32, id + 1} (0 = empty), linear probing, load <= 1/2;
//           erase shifts later slots back (no tombstones), so probe sequences stay short.
//   nodes_  slab of 64-byte-ish nodes indexed by a stable id: hash32, key length, the value,
//           and the key bytes inline when they fit (kInlineBytes); longer keys keep a 16-byte
//           prefix inline and the whole key in arena_, a byte arena that is compacted when more
//           than half of it is garbage. Freed ids are reused (free_ids_), so a table at steady
//           state allocates nothing.
//
// Ids are stable from insert() to erase(); callers keep them in their values (e.g. LRU links).
// A string_view returned by key() is valid until the next insert() or erase().
//
// Thread-safety: none; the owner serialises all calls.
// Invariants:
//   1. size_ == number of non-empty slots == number of live nodes.
//   2. 2 * size_ <= capacity of slots_ (after any insert returns).
//   3. Every live node's key is reachable from slot (hash32 & mask_) by probing without
//      crossing an empty slot.
//   4. Distinct live nodes hold distinct keys.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <type_traits>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace dsql::adjudicator {

// An allocator for the table's big arrays: allocations of 2 MiB or more are 2 MiB-aligned and
// marked for transparent huge pages (Linux), since every lookup is a random access and TLB
// misses would otherwise cost as much as the cache misses. Smaller ones use std::allocator.
template <typename T>
struct LargeArrayAllocator {
  using value_type = T;
  static constexpr size_t kHugeBytes = size_t{2} << 20;

  LargeArrayAllocator() noexcept = default;
  template <typename U>
  LargeArrayAllocator(const LargeArrayAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugeBytes) return std::allocator<T>().allocate(n);
    const size_t rounded = (bytes + kHugeBytes - 1) / kHugeBytes * kHugeBytes;
    void* p = std::aligned_alloc(kHugeBytes, rounded);
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, rounded, MADV_HUGEPAGE);  // a hint; failure only costs speed
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < kHugeBytes) {
      std::allocator<T>().deallocate(p, n);
    } else {
      std::free(p);
    }
  }
  template <typename U>
  bool operator==(const LargeArrayAllocator<U>&) const noexcept { return true; }
};

// A seeded 64-bit hash of a byte string (8 bytes per step, then a murmur-style finaliser).
// The seed keeps key sets an attacker chooses from colliding on purpose across processes.
inline uint64_t hash_key(std::string_view key, uint64_t seed) noexcept {
  constexpr uint64_t k1 = 0x9E3779B97F4A7C15ull;
  constexpr uint64_t k2 = 0xC2B2AE3D27D4EB4Full;
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = seed ^ (static_cast<uint64_t>(n) * k1);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * k2;
    h = (h << 31) | (h >> 33);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * k1;
    h = (h << 29) | (h >> 35);
  }
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

// A read prefetch the compiler must keep. GCC 12 drops __builtin_prefetch when its address is
// computed from a loaded value (as every useful one here is), so x86 uses the instruction.
inline void prefetch_line(const void* p) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 (%0)" : : "r"(p));
#else
  __builtin_prefetch(p);
#endif
}

template <typename Value>
class KeyTable {
  static_assert(std::is_trivially_copyable_v<Value>, "values are moved with memcpy semantics");

 public:
  static constexpr uint32_t kNoId = 0xFFFFFFFFu;
  static constexpr uint32_t kInlineBytes = 24;
  static constexpr uint32_t kPrefixBytes = 16;
  // Keys longer than this are refused by the owners' input checks.
  static constexpr uint32_t kMaxKeyBytes = 1u << 20;
  static constexpr uint32_t kMaxEntries = 1u << 30;

  explicit KeyTable(uint64_t seed) : seed_(seed) { reset_slots(16); }
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;

  uint64_t hash(std::string_view key) const noexcept { return hash_key(key, seed_); }

  // Hints the CPU to fetch the home slot of a hash (used a few keys ahead in batches).
  void prefetch(uint64_t h) const noexcept {
    prefetch_line(&slots_[slot_hash(h) & mask_]);
  }

  // Hints the CPU to fetch a node (ids popped from an eviction queue, a few ahead).
  void prefetch_node(uint32_t id) const noexcept {
    if (id < nodes_.size()) prefetch_line(&nodes_[id]);
  }

  // Hints the CPU to fetch the home slot of a live id (reads its node: prefetch that first).
  void prefetch_home_slot(uint32_t id) const noexcept {
    if (id < nodes_.size()) prefetch_line(&slots_[nodes_[id].hash32 & mask_]);
  }

  bool live(uint32_t id) const noexcept { return id < nodes_.size() && nodes_[id].len != kFreeLen; }

  // The id holding key, or kNoId. REQUIRES: h == hash(key) (checked by callers' tests only:
  // rehashing here would double the cost of the hot path).
  uint32_t find(std::string_view key, uint64_t h) const noexcept {
    assert(mask_ + 1 == slots_.size());
    const uint32_t h32 = slot_hash(h);
    for (uint64_t i = h32 & mask_, probes = 0; probes <= mask_; i = (i + 1) & mask_, ++probes) {
      const Slot s = slots_[i];
      if (s.id1 == 0) return kNoId;
      if (s.hash32 == h32 && equals(nodes_[s.id1 - 1], key)) return s.id1 - 1;
    }
    assert(false && "a table at most half full always has an empty slot");
    return kNoId;
  }

  // Adds key with value v and returns its id. REQUIRES: key absent, h == hash(key),
  // key.size() <= kMaxKeyBytes, size() < kMaxEntries.
  uint32_t insert(std::string_view key, uint64_t h, const Value& v) {
    assert(key.size() <= kMaxKeyBytes && size_ < kMaxEntries);
    assert(mask_ + 1 == slots_.size());
    if (2 * (size_ + 1) > slots_.size()) reset_slots(slots_.size() * 2);
    if (key.size() > kInlineBytes) maybe_compact_arena();  // before the new node is set up
    uint32_t id;
    if (!free_ids_.empty()) {
      id = free_ids_.back();
      free_ids_.pop_back();
    } else {
      id = static_cast<uint32_t>(nodes_.size());
      nodes_.emplace_back();
    }
    Node& n = nodes_[id];
    n.hash32 = slot_hash(h);
    n.len = static_cast<uint32_t>(key.size());
    n.value = v;
    if (key.size() <= kInlineBytes) {
      std::memcpy(n.bytes, key.data(), key.size());
    } else {
      const uint64_t offset = arena_.size();
      arena_.insert(arena_.end(), key.begin(), key.end());
      std::memcpy(n.bytes, key.data(), kPrefixBytes);
      std::memcpy(n.bytes + kPrefixBytes, &offset, sizeof(offset));
    }
    place(n.hash32, id);
    ++size_;
    assert(2 * size_ <= slots_.size());
    return id;
  }

  // Removes a live id; its id may be handed out again by a later insert.
  void erase(uint32_t id) noexcept {
    assert(id < nodes_.size() && nodes_[id].len != kFreeLen);
    Node& n = nodes_[id];
    uint64_t i = n.hash32 & mask_;
    for (uint64_t probes = 0; slots_[i].id1 != id + 1; i = (i + 1) & mask_) {
      ++probes;
      assert(slots_[i].id1 != 0 && probes <= mask_);
      (void)probes;
    }
    // Backward-shift deletion: move later members of the cluster into the hole when their
    // home slot does not lie strictly between the hole and them.
    for (uint64_t j = (i + 1) & mask_, steps = 0; slots_[j].id1 != 0; j = (j + 1) & mask_) {
      ++steps;
      assert(steps <= mask_);
      (void)steps;
      const uint64_t home = slots_[j].hash32 & mask_;
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{0, 0};
    if (n.len > kInlineBytes) arena_garbage_ += n.len;
    n.len = kFreeLen;
    free_ids_.push_back(id);
    assert(size_ > 0);
    --size_;
  }

  Value& value(uint32_t id) noexcept {
    assert(id < nodes_.size() && nodes_[id].len != kFreeLen);
    return nodes_[id].value;
  }
  const Value& value(uint32_t id) const noexcept {
    assert(id < nodes_.size() && nodes_[id].len != kFreeLen);
    return nodes_[id].value;
  }

  std::string_view key(uint32_t id) const noexcept {
    assert(id < nodes_.size() && nodes_[id].len != kFreeLen);
    const Node& n = nodes_[id];
    if (n.len <= kInlineBytes) return std::string_view(n.bytes, n.len);
    return std::string_view(arena_.data() + spill_offset(n), n.len);
  }

  uint32_t size() const noexcept { return size_; }

  // Calls f(id) for every live id, in slot order. f must not insert or erase.
  template <typename F>
  void for_each(F f) const {
    for (const Slot& s : slots_) {
      if (s.id1 != 0) f(s.id1 - 1);
    }
  }

  // Walks every slot and node and returns false if an invariant (header) is broken. O(n); for
  // tests.
  bool check_invariants() const {
    uint32_t used = 0;
    for (uint64_t i = 0; i < slots_.size(); ++i) {
      const Slot s = slots_[i];
      if (s.id1 == 0) continue;
      ++used;
      if (s.id1 - 1 >= nodes_.size()) return false;
      const Node& n = nodes_[s.id1 - 1];
      if (n.len == kFreeLen || n.hash32 != s.hash32) return false;
      if (hash(key(s.id1 - 1)) >> 32 != s.hash32) return false;
      for (uint64_t j = s.hash32 & mask_; j != i; j = (j + 1) & mask_) {
        if (slots_[j].id1 == 0) return false;  // invariant 3
      }
    }
    uint32_t live = 0;
    for (const Node& n : nodes_) live += n.len != kFreeLen ? 1 : 0;
    return used == size_ && live == size_ && 2 * size_ <= slots_.size();
  }

  // Bytes held by the table's arrays (capacity, not just what is in use).
  size_t memory_bytes() const noexcept {
    return slots_.capacity() * sizeof(Slot) + nodes_.capacity() * sizeof(Node) +
           arena_.capacity() + free_ids_.capacity() * sizeof(uint32_t);
  }

  void clear() {
    nodes_.clear();
    free_ids_.clear();
    arena_.clear();
    arena_garbage_ = 0;
    size_ = 0;
    slots_.clear();  // nothing for reset_slots to carry over
    reset_slots(16);
    assert(size_ == 0 && slots_.size() == 16);
  }

 private:
  static constexpr uint32_t kFreeLen = 0xFFFFFFFFu;

  struct Slot {
    uint32_t hash32;
    uint32_t id1;  // id + 1; 0 marks an empty slot
  };
  struct Node {
    uint32_t hash32;
    uint32_t len;
    Value value;
    char bytes[kInlineBytes];  // the key, or its prefix followed by the arena offset
  };

  static uint32_t slot_hash(uint64_t h) noexcept { return static_cast<uint32_t>(h >> 32); }

  static uint64_t spill_offset(const Node& n) noexcept {
    uint64_t offset;
    std::memcpy(&offset, n.bytes + kPrefixBytes, sizeof(offset));
    return offset;
  }

  bool equals(const Node& n, std::string_view key) const noexcept {
    if (n.len != key.size()) return false;
    if (n.len <= kInlineBytes) return std::memcmp(n.bytes, key.data(), n.len) == 0;
    return std::memcmp(n.bytes, key.data(), kPrefixBytes) == 0 &&
           std::memcmp(arena_.data() + spill_offset(n), key.data(), n.len) == 0;
  }

  void place(uint32_t hash32, uint32_t id) noexcept {
    uint64_t i = hash32 & mask_;
    for (uint64_t probes = 0; slots_[i].id1 != 0; i = (i + 1) & mask_) {
      ++probes;
      assert(probes <= mask_);
      (void)probes;
    }
    slots_[i] = Slot{hash32, id + 1};
  }

  void reset_slots(size_t capacity) {
    assert(capacity >= 16 && (capacity & (capacity - 1)) == 0);
    std::vector<Slot, LargeArrayAllocator<Slot>> old = std::move(slots_);
    slots_.assign(capacity, Slot{0, 0});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.id1 != 0) place(s.hash32, s.id1 - 1);
    }
    assert(2 * size_ <= slots_.size());
  }

  // Rewrites the arena with only live keys once more than half of it is garbage.
  void maybe_compact_arena() {
    if (arena_garbage_ < (1u << 16) || 2 * arena_garbage_ < arena_.size()) return;
    std::vector<char> fresh;
    fresh.reserve(arena_.size() - arena_garbage_ + arena_.size() / 4);
    for (Node& n : nodes_) {
      if (n.len == kFreeLen || n.len <= kInlineBytes) continue;
      const uint64_t offset = fresh.size();
      const char* from = arena_.data() + spill_offset(n);
      fresh.insert(fresh.end(), from, from + n.len);
      std::memcpy(n.bytes + kPrefixBytes, &offset, sizeof(offset));
    }
    assert(fresh.size() == arena_.size() - arena_garbage_);
    arena_ = std::move(fresh);
    arena_garbage_ = 0;
  }

  uint64_t seed_;
  std::vector<Slot, LargeArrayAllocator<Slot>> slots_;
  uint64_t mask_ = 0;
  std::vector<Node, LargeArrayAllocator<Node>> nodes_;
  std::vector<uint32_t> free_ids_;
  std::vector<char> arena_;
  uint64_t arena_garbage_ = 0;
  uint32_t size_ = 0;
};

}  // namespace dsql::adjudicator
