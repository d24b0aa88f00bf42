// Small POSIX file helpers for the journal: an owning descriptor, whole positioned writes and
// reads that retry after EINTR and short transfers, zero-filling, directory fsync, renaming
// without replacing, and directory listing.
//
// Every failure throws JournalError with the operation, the path and strerror(errno).
//
// Thread-safety: the functions are reentrant; a UniqueFd is owned by one thread at a time.
// Invariants:
//   1. A UniqueFd holds either -1 or an open descriptor that it alone closes.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dsql::journal {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept;
  void reset() noexcept;

 private:
  int fd_ = -1;
};

// "<what> <path>: <strerror(err)>".
std::string errno_message(const std::string& what, const std::string& path, int err);

// Opens or throws JournalError.
UniqueFd open_or_throw(const std::string& path, int flags, int mode = 0644);

// Writes every byte of iov[0, count) at offset (pwritev; the descriptor's offset is unused).
// REQUIRES: 0 <= count <= IOV_MAX.
void pwrite_all(int fd, const struct iovec* iov, int count, uint64_t offset,
                const std::string& path);
void pwrite_all(int fd, const void* data, size_t n, uint64_t offset, const std::string& path);

// Writes zero bytes over [from_offset, to_offset), growing the file when to_offset is past its
// end, in chunks of kZeroChunkBytes. When stop is given it is read before each chunk; returns
// false (bytes from some chunk on left unwritten) once it is true, else true.
// REQUIRES: from_offset <= to_offset.
inline constexpr size_t kZeroChunkBytes = size_t{1} << 20;
bool write_zeros(int fd, uint64_t from_offset, uint64_t to_offset, const std::string& path,
                 const std::atomic<bool>* stop = nullptr);

// Renames from to to, failing (JournalError) when to exists.
void rename_no_replace(const std::string& from, const std::string& to);

// Reads up to n bytes at offset; returns fewer only at end of file.
size_t pread_full(int fd, void* data, size_t n, uint64_t offset, const std::string& path);

void fdatasync_or_throw(int fd, const std::string& path);
void fsync_dir(const std::string& dir);
uint64_t file_size(int fd, const std::string& path);

// Names of the entries of dir other than "." and "..", unsorted, with whether each is a
// regular file.
struct DirEntry {
  std::string name;
  bool regular_file;
};
std::vector<DirEntry> list_dir(const std::string& dir);

std::string join_path(const std::string& dir, const std::string& name);

}  // namespace dsql::journal
