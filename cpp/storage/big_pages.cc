#include "storage/big_pages.h"

#include <sys/mman.h>

#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

namespace dsql::storage {

BigRegion::BigRegion(size_t bytes) : bytes_(bytes) {
  assert(bytes > 0);
  if (bytes % kBigPageBytes == 0) {
    // Over-map by one huge page, then trim both ends to a 2 MiB-aligned region.
    const size_t span = bytes + kBigPageBytes;
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw != MAP_FAILED) {
      const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
      const uintptr_t aligned = (start + kBigPageBytes - 1) & ~(uintptr_t{kBigPageBytes} - 1);
      if (aligned > start) ::munmap(raw, aligned - start);
      const uintptr_t end = start + span;
      if (end > aligned + bytes) ::munmap(reinterpret_cast<void*>(aligned + bytes), end - (aligned + bytes));
      data_ = reinterpret_cast<char*>(aligned);
      mapped_ = true;
#ifdef MADV_HUGEPAGE
      ::madvise(data_, bytes, MADV_HUGEPAGE);  // advisory: failure only costs speed
#endif
      assert(reinterpret_cast<uintptr_t>(data_) % kBigPageBytes == 0);
      return;
    }
  }
  data_ = static_cast<char*>(std::calloc(1, bytes));
  if (data_ == nullptr) throw std::bad_alloc();
  assert(!mapped_);
}

BigRegion::~BigRegion() { release(); }

BigRegion::BigRegion(BigRegion&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      mapped_(std::exchange(other.mapped_, false)) {}

BigRegion& BigRegion::operator=(BigRegion&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    mapped_ = std::exchange(other.mapped_, false);
  }
  return *this;
}

void BigRegion::release() noexcept {
  if (data_ == nullptr) return;
  if (mapped_) {
    ::munmap(data_, bytes_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
  bytes_ = 0;
}

}  // namespace dsql::storage
