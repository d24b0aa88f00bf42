#include "journal/direct_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "journal/errors.h"

namespace dsql::journal {

namespace {
constexpr uint64_t kBlockMask = DirectWriter::kBlockBytes - 1;
static_assert((DirectWriter::kBlockBytes & kBlockMask) == 0, "a power of two");

uint64_t round_up(uint64_t n) { return (n + kBlockMask) & ~kBlockMask; }
}  // namespace

void DirectWriter::FreeAligned::operator()(char* p) const { std::free(p); }

void DirectWriter::reserve(size_t bytes) {
  assert(bytes % kBlockBytes == 0 && bytes >= kBlockBytes);
  if (bytes <= buf_bytes_ && (buf_bytes_ <= kKeepBufferBytes || bytes > kKeepBufferBytes)) {
    return;
  }
  void* p = nullptr;
  if (::posix_memalign(&p, kBlockBytes, bytes) != 0) throw std::bad_alloc();
  std::unique_ptr<char, FreeAligned> fresh(static_cast<char*>(p));
  if (buf_) std::memcpy(fresh.get(), buf_.get(), tail_bytes());
  buf_ = std::move(fresh);
  buf_bytes_ = bytes;
  assert(reinterpret_cast<uintptr_t>(buf_.get()) % kBlockBytes == 0);  // invariant 1
}

bool DirectWriter::open(const std::string& path, uint64_t end, std::string_view tail,
                        DirectFault fault) {
  assert(!is_open());
  assert(tail.size() == (end & kBlockMask));
  fault_ = fault;
  wrote_ = false;
  writes_ = 0;
  if (fault == DirectFault::kOpenRefused) return false;
  int fd;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_DIRECT | O_DSYNC | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == EINVAL || errno == EOPNOTSUPP) return false;
    throw JournalError(errno_message("cannot open (O_DIRECT)", path, errno));
  }
  fd_ = UniqueFd(fd);
  path_ = path;
  tail_start_ = end & ~kBlockMask;
  end_ = end;
  written_end_ = round_up(end);
  reserve(kBlockBytes);
  std::memcpy(buf_.get(), tail.data(), tail.size());
  assert(tail_bytes() == tail.size() && tail_bytes() < kBlockBytes);  // invariants 1, 2
  return true;
}

void DirectWriter::close() {
  fd_.reset();
  if (buf_bytes_ > kKeepBufferBytes) {
    buf_.reset();
    buf_bytes_ = 0;
  }
  assert(!is_open());
}

bool DirectWriter::write(const struct iovec* iov, int count, size_t bytes) {
  assert(is_open() && iov != nullptr && count >= 1);
  assert(bytes >= 1);
  const size_t tail = tail_bytes();
  const size_t data_bytes = tail + bytes;
  const size_t padded_bytes = static_cast<size_t>(round_up(data_bytes));
  reserve(padded_bytes);
  char* const buf = buf_.get();
  size_t at = tail;
  for (int i = 0; i < count; ++i) {
    std::memcpy(buf + at, iov[i].iov_base, iov[i].iov_len);
    at += iov[i].iov_len;
  }
  assert(at == data_bytes);  // REQUIRES: bytes is the sum of the lengths
  std::memset(buf + data_bytes, 0, padded_bytes - data_bytes);  // invariant 3

  // Each pass writes at least one whole block or throws (a direct write moves whole blocks), so
  // the loop runs at most padded_bytes / kBlockBytes times; in practice once.
  size_t done = 0;
  while (done < padded_bytes) {
    ssize_t wrote;
    if (fault_ == DirectFault::kWriteRefused && !wrote_) {
      wrote = -1;
      errno = EINVAL;
    } else if (fault_ == DirectFault::kWriteFails && wrote_) {
      wrote = -1;
      errno = EIO;
    } else {
      wrote = ::pwrite(fd_.get(), buf + done, padded_bytes - done,
                       static_cast<off_t>(tail_start_ + done));
    }
    if (wrote < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EINVAL && !wrote_ && done == 0) {  // invariant 4
        close();
        return false;
      }
      throw JournalError(errno_message("cannot write (O_DIRECT)", path_, err));
    }
    if (wrote == 0 || static_cast<size_t>(wrote) % kBlockBytes != 0) {
      throw JournalError("cannot write (O_DIRECT) " + path_ + ": wrote " + std::to_string(wrote) +
                         " of " + std::to_string(padded_bytes - done) + " bytes");
    }
    done += static_cast<size_t>(wrote);
    wrote_ = true;
  }
  assert(done == padded_bytes);
  ++writes_;
  written_end_ = std::max<uint64_t>(written_end_, tail_start_ + padded_bytes);

  // The new tail: the bytes of the last partial block, moved to the front (invariant 1).
  end_ += bytes;
  const uint64_t new_tail_start = end_ & ~kBlockMask;
  const size_t keep = static_cast<size_t>(end_ - new_tail_start);
  std::memmove(buf, buf + (new_tail_start - tail_start_), keep);
  tail_start_ = new_tail_start;
  assert(tail_bytes() == keep && keep < kBlockBytes);
  if (buf_bytes_ > kKeepBufferBytes) reserve(kBlockBytes);  // give a large buffer back
  return true;
}

}  // namespace dsql::journal
