// Arena: bump allocation for the store's key nodes and versions, freed all at once.
//
// A store generation allocates every node and version from one Arena and frees them together
// when the generation dies (after a GC rebuild or a split has replaced it and no reader holds
// it). There is no per-object free: reclaiming memory means building a new generation.
//
// Blocks start small (so that many small stores stay small) and double up to kMaxBlockBytes
// (2 MiB, one transparent huge page: see big_pages.h); an allocation larger than a quarter of
// that gets a block of its own, so at most a quarter of a block is wasted at the tail of each
// block.
//
// Thread-safety: allocate() is called by one thread at a time (the store's single writer).
// allocated_bytes() and used_bytes() may be read concurrently from any thread (relaxed atomics;
// the figures are statistics, not synchronisation).
// Invariants:
//   1. Every pointer allocate() returns is 8-byte aligned and stays valid until the Arena dies.
//   2. used_bytes() <= allocated_bytes(); both only grow.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

#include "storage/big_pages.h"

namespace dsql::storage {

class Arena {
 public:
  static constexpr size_t kMinBlockBytes = 4096;
  static constexpr size_t kMaxBlockBytes = size_t{2} << 20;
  static constexpr size_t kAlign = 8;

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // A bulk build that knows roughly how much it will allocate says so first; blocks are then
  // sized to what remains of the hint instead of doubling, so the last block is not half empty.
  void set_size_hint(size_t total_bytes) noexcept { size_hint_bytes_ = total_bytes; }

  // REQUIRES: bytes > 0. Returns kAlign-aligned memory of at least `bytes` bytes.
  char* allocate(size_t bytes);

  size_t allocated_bytes() const noexcept { return allocated_bytes_.load(std::memory_order_relaxed); }
  size_t used_bytes() const noexcept { return used_bytes_.load(std::memory_order_relaxed); }
  size_t block_count() const noexcept { return blocks_.size(); }

 private:
  char* allocate_new_block(size_t bytes);

  char* ptr_ = nullptr;
  size_t remaining_bytes_ = 0;
  size_t next_block_bytes_ = kMinBlockBytes;
  size_t size_hint_bytes_ = 0;  // 0: no hint
  std::vector<BigRegion> blocks_;
  std::atomic<size_t> allocated_bytes_{0};
  std::atomic<size_t> used_bytes_{0};
};

}  // namespace dsql::storage
