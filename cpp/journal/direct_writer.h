// Writes the active segment's batches durably with one O_DIRECT|O_DSYNC write each, instead of a
// buffered write followed by fdatasync.
//
// Why: a record is ~50 bytes and a commit is one write plus one flush of the disk cache. A
// buffered pwritev + fdatasync dirties a page, then has fdatasync write it back and flush; a
// direct O_DSYNC write of the whole 4 KiB block(s) holding the new bytes skips the page cache
// and the writeback machinery (measured on this project's ext4 test machine, 49-byte records
// over zero-filled blocks: ~139 us per pwrite + fdatasync, ~125 us per direct O_DSYNC block
// write). The file's bytes do not change format: a direct write rewrites the last partial block
// with the same bytes it already holds, then the new records, then zeros to the block end, which
// are the zeros the file already holds (a preallocated segment) or zeros that extend it. The
// page cache's writeback of a buffered write rewrites the same whole block, so a torn write
// exposes nothing new: bytes before the logical end are rewritten with themselves, and recovery
// finds a torn batch by its record checksums as before (format.cc).
//
// The writer keeps the file's last partial block (the "tail": bytes [tail_start, end) where
// tail_start = end rounded down to kBlockBytes) in a kBlockBytes-aligned buffer, appends a
// batch's frames after it, zero-pads to the next block boundary and writes the covering blocks
// at tail_start with one pwrite. Then the tail moves to the new last partial block.
//
// Fallback: open() returns false when the filesystem refuses O_DIRECT (EINVAL, EOPNOTSUPP: e.g.
// some FUSE and older tmpfs), and write() returns false, having written nothing, when the first
// direct write on this descriptor is refused with EINVAL (alignment the device will not take).
// The journal then writes that segment with pwritev + fdatasync. Any other error throws
// JournalError (the journal then fails, as for a buffered write error).
//
// Thread-safety: none; owned and used by one thread at a time (the journal's leader, or open).
// Invariants (while open):
//   1. buf_ is kBlockBytes-aligned and holds tail_bytes() == end_ - tail_start_ < kBlockBytes
//      bytes at its front, equal to the file's bytes [tail_start_, end_).
//   2. tail_start_ % kBlockBytes == 0 and tail_start_ <= end_.
//   3. A direct write covers exactly [tail_start_, round_up(end_ + batch bytes)): it never
//      writes below the tail's block, and bytes past the batch's end up to the padded block end
//      are zeros.
//   4. Once a write has succeeded (wrote_ is true) a refused write is an error, not a fallback.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "journal/file_util.h"

namespace dsql::journal {

// Faults a test can inject into the direct path (Options::direct_fault_for_testing).
enum class DirectFault {
  kNone,
  kOpenRefused,   // open() behaves as if O_DIRECT gave EINVAL
  kWriteRefused,  // the first write behaves as if it gave EINVAL (nothing written)
  kWriteFails,    // the second write behaves as if it gave EIO (after one succeeded)
};

class DirectWriter {
 public:
  // Alignment of the buffer, the offset and the length of every direct write. Linux requires
  // the device's logical block size (512 or 4096 on common disks), which divides 4096.
  static constexpr size_t kBlockBytes = 4096;

  DirectWriter() = default;
  ~DirectWriter() = default;
  DirectWriter(const DirectWriter&) = delete;
  DirectWriter& operator=(const DirectWriter&) = delete;

  // Opens path O_WRONLY|O_DIRECT|O_DSYNC for writes at the logical end `end`; `tail` is the
  // file's bytes [end rounded down to kBlockBytes, end). Returns false (not open) when the
  // filesystem refuses O_DIRECT; throws JournalError on another error.
  // REQUIRES: !is_open(); tail.size() == end % kBlockBytes.
  bool open(const std::string& path, uint64_t end, std::string_view tail, DirectFault fault);

  // Writes the frames iov[0, count) (bytes in all) at end() and returns once they are on stable
  // storage (O_DSYNC); end() then moves past them. Returns false, having written nothing and
  // closed the writer, when the first write is refused (see the file comment). Throws
  // JournalError on any other failure (the file's bytes past end() are then unknown).
  // REQUIRES: is_open(); count >= 1; bytes == the sum of the iov lengths.
  bool write(const struct iovec* iov, int count, size_t bytes);

  void close();
  bool is_open() const { return fd_.valid(); }
  uint64_t end() const { return end_; }
  // The padded end of the last write: the file has at least this many bytes.
  uint64_t written_end() const { return written_end_; }
  size_t tail_bytes() const { return static_cast<size_t>(end_ - tail_start_); }
  uint64_t writes() const { return writes_; }

 private:
  struct FreeAligned {
    void operator()(char* p) const;
  };
  // Makes buf_ hold at least bytes, keeping its first tail_bytes() bytes.
  void reserve(size_t bytes);

  // Buffers larger than this are given back after the write that needed them.
  static constexpr size_t kKeepBufferBytes = size_t{1} << 20;

  UniqueFd fd_;
  std::string path_;
  std::unique_ptr<char, FreeAligned> buf_;
  size_t buf_bytes_ = 0;
  uint64_t tail_start_ = 0;
  uint64_t end_ = 0;
  uint64_t written_end_ = 0;
  uint64_t writes_ = 0;
  bool wrote_ = false;
  DirectFault fault_ = DirectFault::kNone;
};

}  // namespace dsql::journal
