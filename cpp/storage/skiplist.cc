#include "storage/skiplist.h"

#include <cstring>
#include <new>

namespace dsql::storage {

Version* Version::make(Arena* arena, int64_t commit_ts, std::string_view value, bool tombstone) {
  assert(arena != nullptr);
  assert(tombstone || value.size() <= kMaxValueBytes);
  const size_t payload = tombstone ? 0 : value.size();
  char* mem = arena->allocate(bytes_for(payload));
  Version* v = new (mem) Version;
  v->commit_ts = commit_ts;
  v->older.store(nullptr, std::memory_order_relaxed);
  v->value_len = tombstone ? kTombstoneLen : static_cast<uint32_t>(payload);
  if (payload > 0) std::memcpy(mem + kHeaderBytes, value.data(), payload);
  assert(v->tombstone() == tombstone);
  return v;
}

void KeyNode::add_version(Version* v) noexcept {
  assert(v != nullptr && v->older.load(std::memory_order_relaxed) == nullptr);
  // Find the first version that is not newer than v; v goes in front of it (a same-ts write
  // from a later apply shadows the earlier one: invariant 3).
  std::atomic<Version*>* slot = &newest;
  Version* cur = slot->load(std::memory_order_relaxed);
  while (cur != nullptr && cur->commit_ts > v->commit_ts) {  // bounded by chain length
    slot = &cur->older;
    cur = slot->load(std::memory_order_relaxed);
  }
  v->older.store(cur, std::memory_order_relaxed);
  slot->store(v, std::memory_order_release);  // invariant 4: v is complete before this
  assert(cur == nullptr || cur->commit_ts <= v->commit_ts);
}

void KeyNode::append_version(Version* tail, Version* v) noexcept {
  assert(v != nullptr);
  assert(tail == nullptr || tail->commit_ts > v->commit_ts);
  if (tail == nullptr) {
    assert(newest.load(std::memory_order_relaxed) == nullptr);
    newest.store(v, std::memory_order_release);
  } else {
    tail->older.store(v, std::memory_order_release);
  }
}

SkipList::SkipList(Arena* arena, uint64_t seed) : arena_(arena), rng_(seed | 1) {
  assert(arena_ != nullptr);
  head_ = new_node(std::string_view(), kMaxHeight);
  for (int i = 0; i < kMaxHeight; ++i) last_[i] = head_;
  assert(head_->height == kMaxHeight);
}

KeyNode* SkipList::new_node(std::string_view key, int height) {
  assert(height >= 1 && height <= kMaxHeight);
  assert(key.size() <= kMaxKeyBytes);
  char* mem = arena_->allocate(KeyNode::bytes_for(key.size(), height));
  KeyNode* node = new (mem) KeyNode;
  node->newest.store(nullptr, std::memory_order_relaxed);
  node->key_len = static_cast<uint32_t>(key.size());
  node->height = static_cast<uint8_t>(height);
  for (int i = 0; i < height; ++i) {
    new (mem + KeyNode::kLinksOffset + 8 * size_t(i)) std::atomic<KeyNode*>(nullptr);
  }
  if (!key.empty()) std::memcpy(mem + KeyNode::kLinksOffset + 8 * size_t(height), key.data(), key.size());
  return node;
}

int SkipList::random_height() noexcept {
  // xorshift64; each extra level with probability 1/4.
  int height = 1;
  while (height < kMaxHeight) {  // bounded by kMaxHeight
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    if ((rng_ & 3) != 0) break;
    ++height;
  }
  assert(height >= 1 && height <= kMaxHeight);
  return height;
}

KeyNode* SkipList::insert(std::string_view key) {
  inserted_ = true;
  KeyNode* prev[kMaxHeight];
  KeyNode* x = head_;
  for (int level = max_height() - 1; level >= 0; --level) {
    KeyNode* next = x->next_relaxed(level);
    while (next != nullptr && next->key() < key) {  // bounded by list length
      x = next;
      next = x->next_relaxed(level);
    }
    assert(next == nullptr || next->key() != key);  // REQUIRES: key absent
    prev[level] = x;
  }
  const int height = random_height();
  if (height > max_height()) {
    for (int level = max_height(); level < height; ++level) prev[level] = head_;
    // Readers that see the new height before the links find nullptr at the new levels of the
    // head and drop down a level: harmless (LevelDB's argument).
    max_height_.store(height, std::memory_order_relaxed);
  }
  KeyNode* node = new_node(key, height);
  for (int level = 0; level < height; ++level) {
    node->links()[level].store(prev[level]->next_relaxed(level), std::memory_order_relaxed);
    prev[level]->set_next(level, node);
  }
  size_.fetch_add(1, std::memory_order_relaxed);
  return node;
}

KeyNode* SkipList::append(std::string_view key) {
  assert(!inserted_);
  assert(last_[0] == head_ || last_[0]->key() < key);
  const int height = random_height();
  KeyNode* node = new_node(key, height);
  if (height > max_height()) max_height_.store(height, std::memory_order_relaxed);
  for (int level = 0; level < height; ++level) {
    last_[level]->set_next(level, node);
    last_[level] = node;
  }
  size_.fetch_add(1, std::memory_order_relaxed);
  return node;
}

const KeyNode* SkipList::warm(const KeyNode* anchor) const noexcept {
  assert(anchor != nullptr && anchor->height > kWarmLevel);
  const KeyNode* cursor[kWarmSegments];
  const KeyNode* end[kWarmSegments];
  int segments = 0;
  const KeyNode* a = anchor;
  while (segments < kWarmSegments && a != nullptr) {  // bounded by kWarmSegments
    const KeyNode* next = a->next(kWarmLevel);
    cursor[segments] = a;
    end[segments] = next;  // nullptr: the segment runs to the end of the list
    ++segments;
    a = next;
  }
  // Step every segment one node per round; the loads of one round are independent.
  constexpr int kRoundsMax = 64;  // a segment is ~4^kWarmLevel nodes; longer ones stay partly cold
  for (int round = 0; round < kRoundsMax; ++round) {
    bool any = false;
    for (int i = 0; i < segments; ++i) {
      const KeyNode* c = cursor[i];
      if (c == end[i] || c == nullptr) continue;
      __builtin_prefetch(c->newest.load(std::memory_order_relaxed));
      cursor[i] = c->next(0);
      any = true;
    }
    if (!any) break;
  }
  assert(segments >= 1);
  return a;
}

const KeyNode* SkipList::seek_ge(std::string_view key) const noexcept {
  const KeyNode* x = head_;
  for (int level = max_height() - 1; level >= 0; --level) {
    const KeyNode* next = x->next(level);
    while (next != nullptr && next->key() < key) {  // bounded by list length
      x = next;
      next = x->next(level);
    }
    if (level == 0) return next;
  }
  assert(false);
  return nullptr;
}

const KeyNode* SkipList::seek_lt(std::string_view key, bool unbounded, int level) const noexcept {
  assert(level >= 0 && level < kMaxHeight);
  const KeyNode* x = head_;
  const int top = max_height() - 1;
  if (level > top) level = top;  // no node is linked above the list's height
  for (int l = top; l >= level; --l) {
    const KeyNode* next = x->next(l);
    while (next != nullptr && (unbounded || next->key() < key)) {  // bounded by list length
      x = next;
      next = x->next(l);
    }
  }
  assert(x == head_ || unbounded || x->key() < key);
  return x;
}

}  // namespace dsql::storage
