#include "journal/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "journal/errors.h"

namespace dsql::journal {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

int UniqueFd::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string errno_message(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + std::strerror(err);
}

UniqueFd open_or_throw(const std::string& path, int flags, int mode) {
  assert(!path.empty());
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw JournalError(errno_message("cannot open", path, errno));
  return UniqueFd(fd);
}

void pwrite_all(int fd, const struct iovec* iov_in, int count, uint64_t offset,
                const std::string& path) {
  assert(fd >= 0 && count >= 0);
  assert(count <= IOV_MAX);
  std::vector<struct iovec> iov(iov_in, iov_in + count);
  size_t first = 0;
  // Each pass writes at least one byte or throws, so the loop ends after at most
  // (total bytes) passes; in practice one.
  while (first < iov.size()) {
    const ssize_t wrote = ::pwritev(fd, iov.data() + first, static_cast<int>(iov.size() - first),
                                    static_cast<off_t>(offset));
    if (wrote < 0) {
      if (errno == EINTR) continue;
      throw JournalError(errno_message("cannot write", path, errno));
    }
    if (wrote == 0) throw JournalError("cannot write " + path + ": write returned 0");
    offset += static_cast<uint64_t>(wrote);
    size_t left = static_cast<size_t>(wrote);
    while (first < iov.size() && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (left > 0) {
      assert(first < iov.size());
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
}

void pwrite_all(int fd, const void* data, size_t n, uint64_t offset, const std::string& path) {
  struct iovec one;
  one.iov_base = const_cast<void*>(data);
  one.iov_len = n;
  pwrite_all(fd, &one, 1, offset, path);
}

bool write_zeros(int fd, uint64_t from_offset, uint64_t to_offset, const std::string& path,
                 const std::atomic<bool>* stop) {
  assert(fd >= 0);
  assert(from_offset <= to_offset);
  // One chunk is kZeroIovs iovecs over the same static block of zeros.
  static constexpr size_t kBlockBytes = 64 * 1024;
  static constexpr size_t kZeroIovs = kZeroChunkBytes / kBlockBytes;
  static_assert(kZeroIovs * kBlockBytes == kZeroChunkBytes && kZeroIovs <= IOV_MAX);
  static const std::vector<char> block(kBlockBytes, '\0');
  struct iovec iov[kZeroIovs];
  // Bounded: each pass writes one chunk (or the rest) and moves from_offset on by it.
  while (from_offset < to_offset) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) return false;
    const uint64_t n = std::min<uint64_t>(kZeroChunkBytes, to_offset - from_offset);
    int count = 0;
    for (uint64_t done = 0; done < n; done += kBlockBytes, ++count) {
      iov[count].iov_base = const_cast<char*>(block.data());
      iov[count].iov_len = static_cast<size_t>(std::min<uint64_t>(kBlockBytes, n - done));
    }
    assert(count >= 1 && static_cast<size_t>(count) <= kZeroIovs);
    pwrite_all(fd, iov, count, from_offset, path);
    from_offset += n;
  }
  assert(from_offset == to_offset);
  return true;
}

void rename_no_replace(const std::string& from, const std::string& to) {
  assert(!from.empty() && !to.empty());
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return;
  if (errno != EINVAL && errno != ENOSYS) {
    throw JournalError(errno_message("cannot rename " + from + " to", to, errno));
  }
  // The file system cannot refuse to replace: link then unlink does the same.
  if (::link(from.c_str(), to.c_str()) != 0) {
    throw JournalError(errno_message("cannot link " + from + " to", to, errno));
  }
  if (::unlink(from.c_str()) != 0) {
    throw JournalError(errno_message("cannot remove", from, errno));
  }
}

size_t pread_full(int fd, void* data, size_t n, uint64_t offset, const std::string& path) {
  assert(fd >= 0);
  assert(data != nullptr || n == 0);
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd, static_cast<char*>(data) + done, n - done,
                                static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      throw JournalError(errno_message("cannot read", path, errno));
    }
    if (got == 0) break;  // end of file
    done += static_cast<size_t>(got);
  }
  assert(done <= n);
  return done;
}

void fdatasync_or_throw(int fd, const std::string& path) {
  assert(fd >= 0);
  int rc;
  do {
    rc = ::fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) throw JournalError(errno_message("fdatasync failed on", path, errno));
}

void fsync_dir(const std::string& dir) {
  UniqueFd fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY);
  int rc;
  do {
    rc = ::fsync(fd.get());
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) throw JournalError(errno_message("fsync failed on directory", dir, errno));
}

uint64_t file_size(int fd, const std::string& path) {
  assert(fd >= 0);
  struct stat st;
  if (::fstat(fd, &st) != 0) throw JournalError(errno_message("cannot stat", path, errno));
  assert(st.st_size >= 0);
  return static_cast<uint64_t>(st.st_size);
}

std::vector<DirEntry> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) throw JournalError(errno_message("cannot list directory", dir, errno));
  std::vector<DirEntry> out;
  // Bounded by the directory's size; readdir returns each entry once.
  for (;;) {
    errno = 0;
    const struct dirent* e = ::readdir(d);
    if (e == nullptr) break;
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool regular = e->d_type == DT_REG;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      regular = ::stat(join_path(dir, name).c_str(), &st) == 0 && S_ISREG(st.st_mode);
    }
    out.push_back(DirEntry{name, regular});
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) throw JournalError(errno_message("cannot list directory", dir, err));
  return out;
}

std::string join_path(const std::string& dir, const std::string& name) {
  assert(!dir.empty() && !name.empty());
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace dsql::journal
