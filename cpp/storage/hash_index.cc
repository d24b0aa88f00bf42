#include "storage/hash_index.h"

#include <cassert>
#include <new>

#include "storage/key_hash.h"

namespace dsql::storage {

namespace {
size_t capacity_for(size_t keys) {
  size_t cap = 16;
  while (cap * 3 / 4 < keys + 1) cap *= 2;  // bounded: at most 64 doublings
  return cap;
}
}  // namespace

HashIndex::Table::Table(size_t capacity)
    : mask(capacity - 1), memory(capacity * sizeof(std::atomic<uint64_t>)) {
  assert(capacity >= 16 && (capacity & (capacity - 1)) == 0);
  static_assert(sizeof(std::atomic<uint64_t>) == sizeof(uint64_t));
  slots = reinterpret_cast<std::atomic<uint64_t>*>(memory.data());
  for (size_t i = 0; i < capacity; ++i) new (&slots[i]) std::atomic<uint64_t>(0);
}

HashIndex::HashIndex(size_t expected_keys)
    : current_(std::make_unique<Table>(capacity_for(expected_keys))), table_(current_.get()) {
  allocated_bytes_.store(current_->bytes(), std::memory_order_relaxed);
  assert(table_.load() != nullptr);
}

void HashIndex::place(Table* t, uint64_t slot_value, uint64_t hash) noexcept {
  size_t i = hash & t->mask;
  for (size_t probes = 0; probes <= t->mask; ++probes) {  // invariant 2: a hole exists
    if (t->slots[i].load(std::memory_order_relaxed) == 0) {
      t->slots[i].store(slot_value, std::memory_order_release);
      return;
    }
    i = (i + 1) & t->mask;
  }
  assert(false && "hash index full");
}

void HashIndex::insert(KeyNode* node, uint64_t hash) {
  const uint64_t ptr = reinterpret_cast<uint64_t>(node);
  assert((ptr & ~kPointerMask) == 0 && ptr != 0);  // invariant 1
  assert(hash == hash_key(node->key()));
  if ((count_ + 1) > (current_->mask + 1) * 3 / 4) grow();
  place(current_.get(), ((hash >> 48) << 48) | ptr, hash);
  ++count_;
  assert(count_ <= (current_->mask + 1) * 3 / 4);
}

void HashIndex::grow() {
  auto bigger = std::make_unique<Table>((current_->mask + 1) * 2);
  const Table* old = current_.get();
  for (size_t i = 0; i <= old->mask; ++i) {
    const uint64_t slot = old->slots[i].load(std::memory_order_relaxed);
    if (slot == 0) continue;
    const KeyNode* node = reinterpret_cast<const KeyNode*>(slot & kPointerMask);
    place(bigger.get(), slot, hash_key(node->key()));
  }
  table_.store(bigger.get(), std::memory_order_seq_cst);
  retired_bytes_ += current_->bytes();
  retired_.push_back(std::move(current_));
  current_ = std::move(bigger);
  allocated_bytes_.fetch_add(current_->bytes(), std::memory_order_relaxed);
  assert(table_.load() == current_.get());
}

size_t HashIndex::free_retired(int64_t readers_inside) {
  assert(readers_inside >= 0);
  if (retired_.empty() || readers_inside != 0) return 0;
  const size_t freed = retired_bytes_;
  retired_.clear();
  retired_bytes_ = 0;
  allocated_bytes_.fetch_sub(freed, std::memory_order_relaxed);
  return freed;
}

}  // namespace dsql::storage
