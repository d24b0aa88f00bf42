// Checkpoint file format, version 1 (also in docs/checkpoint-format.md). All integers are
// little-endian; offsets are from the start of the file.
//
//   checkpoint := header block{header.block_count} trailer EOF
//   header     := magic:8 = "DSQLCKPT"
//                 format_version:u32 = 1
//                 flags:u32 = 0
//                 ts:i64                  the image is the store as of this timestamp
//                 record_count:u64        records in all blocks
//                 block_count:u64
//                 payload_bytes:u64       sum of the blocks' payload_len
//                 header_crc:u32          crc32c of the 48 bytes above
//                 reserved:u32 = 0                                            (56 bytes)
//   block      := payload_len:u32 record_count:u32 block_crc:u32 payload:payload_len
//                 block_crc = crc32c::value(payload_len ++ record_count ++ payload); record_count >= 1
//   payload    := record{record_count}   (exactly payload_len bytes)
//   record     := key_len:u32 value_len:u32 commit_ts:i64 key:key_len value:value_len
//                 key_len <= 65536, value_len <= 67108864, commit_ts <= ts; keys strictly
//                 increasing (bytewise) across the whole file; no tombstones (absent = no record)
//   trailer    := magic:8 = "DSQLCKND" record_count:u64 block_count:u64
//                 trailer_crc:u32 (crc32c of the 24 bytes before it) reserved:u32 = 0  (32 bytes)
//
// Blocks are cut once their payload reaches 64 KiB (a larger record gets a block to itself).
// The reader checks, in file order: magic, format version, header crc, each block's length
// bound and crc before parsing it, each record's bounds, order and timestamp, the trailer's
// magic, crc and counts against the header and what was read, and that the file ends there.
#include "storage/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/crc32c.h"

namespace dsql::storage {

static_assert(std::endian::native == std::endian::little, "checkpoint I/O assumes little-endian");

namespace {

constexpr char kMagic[8] = {'D', 'S', 'Q', 'L', 'C', 'K', 'P', 'T'};
constexpr char kTrailerMagic[8] = {'D', 'S', 'Q', 'L', 'C', 'K', 'N', 'D'};
constexpr size_t kHeaderBytes = 56;
constexpr size_t kHeaderCrcOffset = 48;
constexpr size_t kBlockHeaderBytes = 12;
constexpr size_t kRecordHeaderBytes = 16;
constexpr size_t kTrailerBytes = 32;
constexpr size_t kTrailerCrcOffset = 24;
constexpr size_t kTargetBlockBytes = 64 * 1024;
constexpr size_t kMaxBlockPayloadBytes =
    kTargetBlockBytes + kRecordHeaderBytes + kMaxKeyBytes + kMaxValueBytes;

template <typename T>
T load_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T>
void store_le(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

std::string errno_text(int err) { return std::string(std::strerror(err)); }

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release_and_close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// ---- writing --------------------------------------------------------------------------------

class CheckpointWriter {
 public:
  CheckpointWriter(std::string path, std::string tmp_path)
      : path_(std::move(path)), tmp_path_(std::move(tmp_path)) {}
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;
  ~CheckpointWriter() {
    if (!committed_) ::unlink(tmp_path_.c_str());  // never leave a half-written temp file
  }

  CheckpointInfo write(const ReadView& view) {
    fd_ = std::make_unique<Fd>(::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd_->get() < 0) fail("cannot create " + tmp_path_ + ": " + errno_text(errno));
    const std::string zeros(kHeaderBytes, '\0');
    write_all(zeros.data(), zeros.size());  // the real header is written last
    const int64_t ts = view.ts();
    for (const KeyNode* n = view.generation().list().first(); n != nullptr; n = n->next(0)) {
      const Version* v = n->visible_at(ts);  // the loop is bounded by the list's length
      if (v == nullptr || v->tombstone()) continue;
      add_record(n->key(), v->value(), v->commit_ts);
    }
    flush_block();
    std::string trailer(kTrailerMagic, 8);
    store_le<uint64_t>(&trailer, records_);
    store_le<uint64_t>(&trailer, blocks_);
    store_le<uint32_t>(&trailer, crc32c::value(trailer.data(), trailer.size()));
    store_le<uint32_t>(&trailer, 0);
    assert(trailer.size() == kTrailerBytes);
    write_all(trailer.data(), trailer.size());

    std::string header(kMagic, 8);
    store_le<uint32_t>(&header, kCheckpointFormatVersion);
    store_le<uint32_t>(&header, 0);
    store_le<int64_t>(&header, ts);
    store_le<uint64_t>(&header, records_);
    store_le<uint64_t>(&header, blocks_);
    store_le<uint64_t>(&header, payload_bytes_);
    assert(header.size() == kHeaderCrcOffset);
    store_le<uint32_t>(&header, crc32c::value(header.data(), header.size()));
    store_le<uint32_t>(&header, 0);
    assert(header.size() == kHeaderBytes);
    if (::pwrite(fd_->get(), header.data(), header.size(), 0) != static_cast<ssize_t>(header.size())) {
      fail("cannot write the header of " + tmp_path_ + ": " + errno_text(errno));
    }
    if (::fsync(fd_->get()) != 0) fail("fsync " + tmp_path_ + ": " + errno_text(errno));
    if (fd_->release_and_close() != 0) fail("close " + tmp_path_ + ": " + errno_text(errno));
    if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
      fail("rename " + tmp_path_ + " -> " + path_ + ": " + errno_text(errno));
    }
    committed_ = true;
    sync_directory();
    CheckpointInfo info;
    info.ts = ts;
    info.records = records_;
    info.blocks = blocks_;
    info.file_bytes = file_bytes_ ;
    assert(info.file_bytes == kHeaderBytes + blocks_ * kBlockHeaderBytes + payload_bytes_ + kTrailerBytes);
    return info;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw CheckpointError("checkpoint " + path_ + ": " + what);
  }

  void write_all(const char* data, size_t n) {
    while (n > 0) {  // bounded: every iteration writes >= 1 byte or fails
      const ssize_t done = ::write(fd_->get(), data, n);
      if (done < 0 && errno == EINTR) continue;
      if (done <= 0) fail("write " + tmp_path_ + ": " + errno_text(errno));
      data += done;
      n -= static_cast<size_t>(done);
      file_bytes_ += static_cast<uint64_t>(done);
    }
  }

  void add_record(std::string_view key, std::string_view value, int64_t commit_ts) {
    assert(key.size() <= kMaxKeyBytes && value.size() <= kMaxValueBytes);
    store_le<uint32_t>(&payload_, static_cast<uint32_t>(key.size()));
    store_le<uint32_t>(&payload_, static_cast<uint32_t>(value.size()));
    store_le<int64_t>(&payload_, commit_ts);
    payload_.append(key);
    payload_.append(value);
    ++block_records_;
    if (payload_.size() >= kTargetBlockBytes) flush_block();
  }

  void flush_block() {
    if (block_records_ == 0) return;
    assert(payload_.size() <= kMaxBlockPayloadBytes);
    std::string head;
    store_le<uint32_t>(&head, static_cast<uint32_t>(payload_.size()));
    store_le<uint32_t>(&head, block_records_);
    uint32_t crc = crc32c::value(head.data(), head.size());
    crc = crc32c::extend(crc, payload_.data(), payload_.size());
    store_le<uint32_t>(&head, crc);
    write_all(head.data(), head.size());
    write_all(payload_.data(), payload_.size());
    records_ += block_records_;
    payload_bytes_ += payload_.size();
    ++blocks_;
    payload_.clear();
    block_records_ = 0;
  }

  void sync_directory() {
    const size_t slash = path_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() < 0 || ::fsync(dfd.get()) != 0) {
      fail("fsync directory " + dir + ": " + errno_text(errno));
    }
  }

  const std::string path_;
  const std::string tmp_path_;
  std::unique_ptr<Fd> fd_;
  std::string payload_;
  uint32_t block_records_ = 0;
  uint64_t records_ = 0;
  uint64_t blocks_ = 0;
  uint64_t payload_bytes_ = 0;
  uint64_t file_bytes_ = 0;
  bool committed_ = false;
};

// ---- reading --------------------------------------------------------------------------------

class CheckpointReader {
 public:
  CheckpointReader(std::string path, uint64_t seed) : path_(std::move(path)), seed_(seed) {}
  CheckpointReader(const CheckpointReader&) = delete;
  CheckpointReader& operator=(const CheckpointReader&) = delete;

  LoadedCheckpoint read() {
    fd_ = std::make_unique<Fd>(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd_->get() < 0) fail(0, "cannot open: " + errno_text(errno));
    struct stat st;
    if (::fstat(fd_->get(), &st) != 0) fail(0, "cannot stat: " + errno_text(errno));
    file_bytes_ = static_cast<uint64_t>(st.st_size);

    // Header: magic first, then the version (a later version may lay out the rest differently).
    char header[kHeaderBytes];
    read_at(0, std::min<uint64_t>(8, file_bytes_), header, "the magic number");
    if (file_bytes_ < 8 || std::memcmp(header, kMagic, 8) != 0) {
      fail(0, "not a dsql checkpoint (bad magic number)");
    }
    read_at(0, kHeaderBytes, header, "the header");
    const uint32_t version = load_le<uint32_t>(header + 8);
    if (version != kCheckpointFormatVersion) {
      fail(8, "unsupported checkpoint format version " + std::to_string(version) +
                  " (this build reads version " + std::to_string(kCheckpointFormatVersion) + ")");
    }
    if (crc32c::value(header, kHeaderCrcOffset) != load_le<uint32_t>(header + kHeaderCrcOffset)) {
      fail(kHeaderCrcOffset, "header checksum mismatch");
    }
    if (load_le<uint32_t>(header + 12) != 0) fail(12, "unknown header flags");
    if (load_le<uint32_t>(header + 52) != 0) fail(52, "reserved header field is not zero");
    const int64_t ts = load_le<int64_t>(header + 16);
    const uint64_t record_count = load_le<uint64_t>(header + 24);
    const uint64_t block_count = load_le<uint64_t>(header + 32);
    const uint64_t payload_bytes = load_le<uint64_t>(header + 40);
    const uint64_t body_max = file_bytes_ - std::min<uint64_t>(file_bytes_, kHeaderBytes);
    if (block_count > body_max / kBlockHeaderBytes || record_count > body_max / kRecordHeaderBytes ||
        payload_bytes > body_max || (record_count == 0) != (block_count == 0)) {
      fail(24, "header counts do not fit the file (" + std::to_string(record_count) + " records, " +
                   std::to_string(block_count) + " blocks in " + std::to_string(file_bytes_) +
                   " bytes)");
    }

    auto gen = std::make_unique<Generation>(ts, record_count, seed_);
    // In memory a record costs its payload plus ~45 bytes of node and version headers.
    gen->set_size_hint(payload_bytes + record_count * 48);
    uint64_t offset = kHeaderBytes;
    uint64_t records = 0;
    uint64_t payload_total = 0;
    const KeyNode* prev = nullptr;
    std::vector<char> payload;
    for (uint64_t b = 0; b < block_count; ++b) {  // bounded by the header's block_count
      char head[kBlockHeaderBytes];
      read_at(offset, kBlockHeaderBytes, head, "a block header");
      const uint32_t payload_len = load_le<uint32_t>(head);
      const uint32_t block_records = load_le<uint32_t>(head + 4);
      if (payload_len > kMaxBlockPayloadBytes || block_records == 0 ||
          block_records > payload_len / kRecordHeaderBytes) {
        fail(offset, "implausible block header (" + std::to_string(payload_len) + " bytes, " +
                         std::to_string(block_records) + " records)");
      }
      require_bytes(offset + kBlockHeaderBytes, payload_len, "a block payload");
      payload.resize(payload_len);
      read_at(offset + kBlockHeaderBytes, payload_len, payload.data(), "a block payload");
      uint32_t crc = crc32c::value(head, 8);
      crc = crc32c::extend(crc, payload.data(), payload_len);
      if (crc != load_le<uint32_t>(head + 8)) fail(offset, "block checksum mismatch");
      const uint64_t payload_offset = offset + kBlockHeaderBytes;
      size_t pos = 0;
      for (uint32_t r = 0; r < block_records; ++r) {  // bounded by the block's record_count
        if (payload_len - pos < kRecordHeaderBytes) {
          fail(payload_offset + pos, "record header runs past the end of its block");
        }
        const uint32_t key_len = load_le<uint32_t>(payload.data() + pos);
        const uint32_t value_len = load_le<uint32_t>(payload.data() + pos + 4);
        const int64_t commit_ts = load_le<int64_t>(payload.data() + pos + 8);
        if (key_len > kMaxKeyBytes || value_len > kMaxValueBytes ||
            payload_len - pos - kRecordHeaderBytes < uint64_t{key_len} + value_len) {
          fail(payload_offset + pos, "record lengths out of bounds (key " +
                                         std::to_string(key_len) + ", value " +
                                         std::to_string(value_len) + " bytes)");
        }
        if (commit_ts > ts) {
          fail(payload_offset + pos + 8, "record commit_ts " + std::to_string(commit_ts) +
                                             " is after the checkpoint ts " + std::to_string(ts));
        }
        const std::string_view key(payload.data() + pos + kRecordHeaderBytes, key_len);
        const std::string_view value(key.data() + key_len, value_len);
        if (prev != nullptr && !(prev->key() < key)) {
          fail(payload_offset + pos, "keys out of order");
        }
        KeyNode* node = gen->append_key(key);
        gen->append_version(node, nullptr, commit_ts, value, false);
        prev = node;
        pos += kRecordHeaderBytes + key_len + value_len;
      }
      if (pos != payload_len) fail(payload_offset + pos, "unexpected bytes after the last record of a block");
      records += block_records;
      payload_total += payload_len;
      offset += kBlockHeaderBytes + payload_len;
    }

    char trailer[kTrailerBytes];
    read_at(offset, kTrailerBytes, trailer, "the trailer");
    if (std::memcmp(trailer, kTrailerMagic, 8) != 0) fail(offset, "bad trailer magic number");
    if (crc32c::value(trailer, kTrailerCrcOffset) != load_le<uint32_t>(trailer + kTrailerCrcOffset)) {
      fail(offset + kTrailerCrcOffset, "trailer checksum mismatch");
    }
    if (load_le<uint32_t>(trailer + 28) != 0) fail(offset + 28, "reserved trailer field is not zero");
    if (load_le<uint64_t>(trailer + 8) != record_count || load_le<uint64_t>(trailer + 16) != block_count ||
        records != record_count || payload_total != payload_bytes) {
      fail(offset, "counts disagree (header: " + std::to_string(record_count) + " records in " +
                       std::to_string(block_count) + " blocks; read: " + std::to_string(records) +
                       " records)");
    }
    offset += kTrailerBytes;
    if (offset != file_bytes_) fail(offset, "unexpected bytes after the trailer");
    assert(gen->keys() == record_count);

    LoadedCheckpoint out;
    out.info.ts = ts;
    out.info.records = records;
    out.info.blocks = block_count;
    out.info.file_bytes = file_bytes_;
    out.generation = std::move(gen);
    return out;
  }

 private:
  [[noreturn]] void fail(uint64_t offset, const std::string& what) const {
    throw CheckpointError("checkpoint " + path_ + ": " + what + " at offset " + std::to_string(offset));
  }

  void require_bytes(uint64_t offset, uint64_t n, const char* what) const {
    if (offset > file_bytes_ || n > file_bytes_ - offset) {
      fail(offset, std::string("truncated: ") + what + " needs " + std::to_string(n) +
                       " bytes but the file ends at " + std::to_string(file_bytes_));
    }
  }

  void read_at(uint64_t offset, uint64_t n, char* out, const char* what) {
    require_bytes(offset, n, what);
    uint64_t done = 0;
    while (done < n) {  // bounded: every iteration reads >= 1 byte or fails
      const ssize_t got = ::pread(fd_->get(), out + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail(offset + done, "read failed: " + (got < 0 ? errno_text(errno) : std::string("end of file")));
      done += static_cast<uint64_t>(got);
    }
  }

  const std::string path_;
  const uint64_t seed_;
  std::unique_ptr<Fd> fd_;
  uint64_t file_bytes_ = 0;
};

}  // namespace

CheckpointInfo write_checkpoint(const ReadView& view, const std::string& path) {
  if (path.empty()) throw CheckpointError("checkpoint: empty path");
  CheckpointWriter writer(path, path + ".tmp-" + std::to_string(::getpid()));
  return writer.write(view);
}

LoadedCheckpoint read_checkpoint(const std::string& path, uint64_t seed) {
  CheckpointReader reader(path, seed);
  LoadedCheckpoint out = reader.read();
  assert(out.generation != nullptr);
  assert(out.generation->horizon() == out.info.ts);
  return out;
}

}  // namespace dsql::storage
