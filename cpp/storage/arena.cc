#include "storage/arena.h"

#include <cassert>
#include <algorithm>
#include <cstdint>

namespace dsql::storage {

namespace {
constexpr size_t round_up(size_t bytes) { return (bytes + Arena::kAlign - 1) & ~(Arena::kAlign - 1); }
}  // namespace

char* Arena::allocate(size_t bytes) {
  assert(bytes > 0);
  const size_t rounded = round_up(bytes);
  char* out;
  if (rounded <= remaining_bytes_) {
    out = ptr_;
    ptr_ += rounded;
    remaining_bytes_ -= rounded;
  } else if (rounded > kMaxBlockBytes / 4) {
    out = allocate_new_block(rounded);  // its own block; the current block keeps its tail
  } else {
    // Abandon the tail of the current block (at most a quarter of a block by construction).
    size_t block = next_block_bytes_;
    if (next_block_bytes_ < kMaxBlockBytes) next_block_bytes_ *= 2;
    const size_t allocated = allocated_bytes();
    if (size_hint_bytes_ > allocated) {
      // What the hint says remains, in whole 4 KiB pages, within the usual bounds.
      const size_t remaining = round_up(size_hint_bytes_ - allocated);
      block = std::min(kMaxBlockBytes, std::max(kMinBlockBytes, (remaining + 4095) & ~size_t{4095}));
      block = std::max(block, rounded);
    }
    assert(block >= rounded);
    out = allocate_new_block(block);
    ptr_ = out + rounded;
    remaining_bytes_ = block - rounded;
  }
  used_bytes_.fetch_add(rounded, std::memory_order_relaxed);
  assert(reinterpret_cast<uintptr_t>(out) % kAlign == 0);
  assert(used_bytes() <= allocated_bytes());
  return out;
}

char* Arena::allocate_new_block(size_t bytes) {
  assert(bytes > 0 && bytes % kAlign == 0);
  blocks_.emplace_back(bytes);
  allocated_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  return blocks_.back().data();
}

}  // namespace dsql::storage
