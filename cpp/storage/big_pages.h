// Memory for the store's large, long-lived regions (arena blocks, index tables), on 2 MiB
// transparent huge pages where the kernel offers them.
//
// A random point read touches a hash slot, a key node and a version spread over a store of
// many megabytes; with 4 KiB pages most of those touches also miss the TLB. Regions of whole
// 2 MiB units are mapped 2 MiB-aligned and advised MADV_HUGEPAGE (THP in "madvise" mode is the
// common default); smaller regions come from the ordinary heap.
//
// Thread-safety: allocation functions are thread-safe; a region belongs to its BigRegion.
// Invariants:
//   1. A BigRegion's memory is zero-filled, aligned to 2 MiB when size is a multiple of it,
//      and freed exactly once, by its destructor.
#pragma once

#include <cstddef>

namespace dsql::storage {

inline constexpr size_t kBigPageBytes = size_t{2} << 20;

class BigRegion {
 public:
  BigRegion() = default;
  // REQUIRES: bytes > 0. Throws std::bad_alloc when out of memory.
  explicit BigRegion(size_t bytes);
  ~BigRegion();
  BigRegion(BigRegion&& other) noexcept;
  BigRegion& operator=(BigRegion&& other) noexcept;
  BigRegion(const BigRegion&) = delete;
  BigRegion& operator=(const BigRegion&) = delete;

  char* data() const noexcept { return data_; }
  size_t size() const noexcept { return bytes_; }

 private:
  void release() noexcept;

  char* data_ = nullptr;
  size_t bytes_ = 0;
  bool mapped_ = false;
};

}  // namespace dsql::storage
