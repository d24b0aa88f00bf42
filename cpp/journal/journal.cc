#include "journal/journal.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <stdexcept>

namespace dsql::journal {

namespace {
constexpr size_t kBatchRecordsLimit = 1024;  // iovecs per writev (IOV_MAX on Linux)
static_assert(kBatchRecordsLimit <= IOV_MAX);
constexpr int64_t kGroupWaitLimitNs = 1'000'000'000;
}  // namespace

// An appender's record, on the appender's stack from enqueue until the leader marks it done.
struct Journal::Pending {
  EncodedRecord record;
  uint64_t lsn = 0;
  bool done = false;   // GUARDED_BY(mu_)
  std::string error;   // GUARDED_BY(mu_): set with done when the batch failed
  std::condition_variable cv;
};

void validate(const Options& o) {
  if (o.durability != Durability::kFdatasync && o.durability != Durability::kUnsafeNoSync) {
    throw std::invalid_argument("unknown durability");
  }
  if (o.segment_bytes < 128) throw std::invalid_argument("segment_bytes must be >= 128");
  if (o.batch_records_max < 1 || o.batch_records_max > kBatchRecordsLimit) {
    throw std::invalid_argument("batch_records_max must be in [1, 1024]");
  }
  if (o.batch_bytes_max < 1) throw std::invalid_argument("batch_bytes_max must be >= 1");
  if (o.group_wait_ns < 0 || o.group_wait_ns > kGroupWaitLimitNs) {
    throw std::invalid_argument("group_wait_ns must be in [0, 1e9]");
  }
  if (o.queue_records_max < o.batch_records_max) {
    throw std::invalid_argument("queue_records_max must be >= batch_records_max");
  }
  if (o.record_bytes_max < kPayloadBytesMin || o.record_bytes_max > kPayloadBytesLimit) {
    throw std::invalid_argument("record_bytes_max must be in [4, 2^30]");
  }
}

bool preallocates(const Options& options) {
  return options.preallocate.value_or(options.durability == Durability::kFdatasync);
}

Journal::Journal(std::string dir, Options options)
    : dir_(std::move(dir)), options_(std::move(options)) {
  assert(!dir_.empty());
}

std::shared_ptr<Journal> Journal::open(const std::string& dir, const Options& options) {
  if (dir.empty()) throw std::invalid_argument("the journal needs a directory path");
  validate(options);
  std::shared_ptr<Journal> j(new Journal(dir, options));
  j->open_locked_dir();
  assert(!j->segments_.empty() && j->active_fd_.valid());
  return j;
}

void Journal::open_locked_dir() {
  const bool sync = options_.durability == Durability::kFdatasync;
  struct stat st;
  if (::stat(dir_.c_str(), &st) != 0) {
    if (errno != ENOENT || !options_.create) {
      throw JournalError(errno_message("cannot open journal directory", dir_, errno));
    }
    if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) {
      throw JournalError(errno_message("cannot create journal directory", dir_, errno));
    }
    const size_t slash = dir_.find_last_of('/');
    if (sync) fsync_dir(slash == std::string::npos ? "." : slash == 0 ? "/" : dir_.substr(0, slash));
  } else if (!S_ISDIR(st.st_mode)) {
    throw JournalError("journal path " + dir_ + " is not a directory");
  }

  const std::string lock_path = join_path(dir_, "LOCK");
  lock_fd_ = open_or_throw(lock_path, O_RDWR | O_CREAT);
  if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    lock_fd_.reset();
    if (err == EWOULDBLOCK) {
      throw JournalError("journal directory " + dir_ +
                         " is in use (another Journal holds its LOCK file)");
    }
    throw JournalError(errno_message("cannot lock", lock_path, err));
  }

  RecoveryPlan plan = plan_recovery(dir_);
  apply_recovery(dir_, plan, sync);
  recovery_ = std::move(plan.report);

  std::lock_guard<std::mutex> guard(mu_);
  next_lsn_ = recovery_.next_lsn;
  durable_lsn_ = recovery_.next_lsn - 1;
  segments_ = std::move(plan.keep);
  if (preallocates(options_)) {
    preparer_ = std::make_unique<SegmentPreparer>(dir_, options_.segment_bytes, sync);
  }
  if (segments_.empty()) {
    // Not from a spare: none is ready yet, and open does not wait for zero-filling. The leader
    // moves to the spare once it is ready (invariant 7).
    bool waited = false;
    segments_.push_back(create_segment_file(plan.next_seq, next_lsn_, /*from_spare=*/false,
                                            &active_fd_, &active_file_bytes_, &waited));
    ++stats_.segments_created;
    active_path_ = segments_.back().path;
  } else {
    // Recovery checked that every byte past the last record is zero (invariant 6).
    const SegmentInfo& active = segments_.back();
    active_fd_ = open_or_throw(active.path, O_RDWR);
    active_file_bytes_ = file_size(active_fd_.get(), active.path);
    active_path_ = active.path;
    assert(active_file_bytes_ >= active.bytes);
  }
  if (direct_wanted() && !open_direct(segments_.back().bytes)) ++stats_.direct_fallbacks;
  if (preparer_) preparer_->request();  // the next segment, in the background
  assert(durable_lsn_ + 1 == next_lsn_);
}

Journal::~Journal() {
  try {
    close();
  } catch (...) {
    // Destructors must not throw; close() failures were already reported to appenders.
  }
}

SegmentInfo Journal::create_segment_file(uint64_t seq, uint64_t first_lsn, bool from_spare,
                                         UniqueFd* fd, uint64_t* file_bytes,
                                         bool* waited) const {
  assert(seq >= 1 && first_lsn >= 1);
  assert(fd != nullptr && file_bytes != nullptr && waited != nullptr);
  assert(!from_spare || preparer_);
  const bool sync = options_.durability == Durability::kFdatasync;
  const std::string path = join_path(dir_, segment_file_name(first_lsn));
  const std::string header = encode_segment_header(SegmentHeader{seq, first_lsn});
  UniqueFd created;
  *waited = false;
  if (from_spare) {
    // The spare is whole and synced: the header, synced, then the rename, synced, make it the
    // segment. A crash before the rename leaves a spare (removed on open), after it an empty
    // last segment; either way no record was acknowledged in it.
    created = preparer_->take(waited);
    pwrite_all(created.get(), header.data(), header.size(), 0, preparer_->spare_path());
    if (sync) fdatasync_or_throw(created.get(), preparer_->spare_path());
    rename_no_replace(preparer_->spare_path(), path);
    *file_bytes = preparer_->bytes();
  } else {
    created = open_or_throw(path, O_RDWR | O_CREAT | O_EXCL);
    pwrite_all(created.get(), header.data(), header.size(), 0, path);
    if (sync) fdatasync_or_throw(created.get(), path);
    *file_bytes = kSegmentHeaderBytes;
  }
  if (sync) fsync_dir(dir_);
  if (from_spare) preparer_->request();
  *fd = std::move(created);
  assert(fd->valid());
  return SegmentInfo{seq, first_lsn, path, kSegmentHeaderBytes, 0};
}

bool Journal::open_direct(uint64_t end) {
  assert(direct_wanted() && !direct_.is_open());
  assert(active_fd_.valid() && end >= kSegmentHeaderBytes && end <= active_file_bytes_);
  // The file's bytes of the last partial block: from the page cache (just written or
  // recovered), or the disk.
  std::string tail(static_cast<size_t>(end % DirectWriter::kBlockBytes), '\0');
  const uint64_t tail_start = end - tail.size();
  const size_t got = pread_full(active_fd_.get(), tail.data(), tail.size(), tail_start,
                                active_path_);
  if (got != tail.size()) {
    throw JournalError("cannot read " + active_path_ + ": short read of its last block");
  }
  const bool opened = direct_.open(active_path_, end, tail, options_.direct_fault_for_testing);
  assert(!opened || (direct_.end() == end && direct_.tail_bytes() == tail.size()));
  return opened;
}

EncodedRecord Journal::encode(int64_t commit_ts, const WriteView* writes, size_t count) const {
  return encode_record(commit_ts, writes, count, options_.record_bytes_max);
}

uint64_t Journal::append(int64_t commit_ts, const std::vector<WriteView>& writes) {
  return append(encode(commit_ts, writes.data(), writes.size()));
}

void Journal::throw_if_unusable_locked() const {
  if (!failure_.empty()) throw JournalError("journal " + dir_ + " has failed: " + failure_);
  if (closing_ || closed_) throw JournalError("journal " + dir_ + " is closed");
}

uint64_t Journal::append(EncodedRecord record) {
  assert(record.frame.size() >= kRecordHeaderBytes + kPayloadBytesMin);
  Pending p;
  p.record = std::move(record);
  std::unique_lock<std::mutex> lock(mu_);
  room_cv_.wait(lock, [&] {
    return !failure_.empty() || closing_ || queue_.size() < options_.queue_records_max;
  });
  throw_if_unusable_locked();
  p.lsn = next_lsn_++;
  seal_record(&p.record, p.lsn);
  queue_.push_back(&p);
  queued_bytes_ += p.record.frame.size();
  assert(queue_.size() <= options_.queue_records_max);
  if (queue_.front() != &p) {
    if (leader_waiting_) leader_cv_.notify_one();
    // Woken when our batch is done or when we reach the front (we then lead).
    p.cv.wait(lock, [&] { return p.done || queue_.front() == &p; });
  }
  if (!p.done) lead(lock, &p);
  assert(p.done);
  if (!p.error.empty()) throw JournalError(p.error);
  assert(p.lsn <= durable_lsn_);
  return p.lsn;
}

void Journal::lead(std::unique_lock<std::mutex>& lock, Pending* self) {
  assert(lock.owns_lock() && !leader_active_);
  assert(!queue_.empty() && queue_.front() == self && !self->done);
  leader_active_ = true;
  if (options_.group_wait_ns > 0 && failure_.empty()) {
    leader_waiting_ = true;
    leader_cv_.wait_for(lock, std::chrono::nanoseconds(options_.group_wait_ns), [&] {
      return queue_.size() >= options_.batch_records_max ||
             queued_bytes_ >= options_.batch_bytes_max || closing_;
    });
    leader_waiting_ = false;
  }

  // Choose the batch: roll first if the front record does not fit the active segment, or (when
  // preallocating) would run past the zero-filled part of its file while a spare is ready.
  const SegmentInfo& active = segments_.back();
  const size_t front_bytes = self->record.frame.size();
  const uint64_t front_end = active.bytes + front_bytes;
  const bool roll = active.records > 0 &&
                    (front_end > options_.segment_bytes ||
                     (preparer_ && front_end > active_file_bytes_ && preparer_->ready()));
  const uint64_t base = roll ? kSegmentHeaderBytes : active.bytes;
  const uint64_t roll_seq = active.seq + 1;
  // On the stack: no allocation per batch (n <= kBatchRecordsLimit, 16 bytes each).
  struct iovec iov[kBatchRecordsLimit];
  size_t n = 0;
  size_t batch_bytes = 0;
  for (size_t i = 0; i < queue_.size() && i < options_.batch_records_max; ++i) {
    const std::string& frame = queue_[i]->record.frame;
    if (i > 0 && (batch_bytes + frame.size() > options_.batch_bytes_max ||
                  base + batch_bytes + frame.size() > options_.segment_bytes)) {
      break;
    }
    batch_bytes += frame.size();
    iov[n++] = iovec{const_cast<char*>(frame.data()), frame.size()};
  }
  assert(n >= 1 && n <= kBatchRecordsLimit);
  const uint64_t first_lsn = self->lsn;
  const uint64_t last_lsn = first_lsn + n - 1;
  assert(queue_[n - 1]->lsn == last_lsn);

  // The I/O, without the lock. Appenders keep queueing behind the batch meanwhile.
  std::string error = failure_;
  std::vector<SegmentInfo> rolled;
  bool waited = false;
  bool direct = false;     // the batch went through direct_
  bool fell_back = false;  // this batch found O_DIRECT refused on its segment
  if (error.empty()) {
    lock.unlock();
    try {
      if (roll) {
        // The old segment was synced with its last batch; closing it needs no sync.
        direct_.close();
        rolled.push_back(create_segment_file(roll_seq, first_lsn, preparer_ != nullptr,
                                             &active_fd_, &active_file_bytes_, &waited));
        active_path_ = rolled[0].path;
        if (direct_wanted()) fell_back = !open_direct(kSegmentHeaderBytes);
      }
      // At the logical end (invariant 6: zeros there, or past the end of the file).
      if (direct_.is_open()) {
        assert(direct_.end() == base);  // invariant 8
        direct = direct_.write(iov, static_cast<int>(n), batch_bytes);
        fell_back = fell_back || !direct;
        if (direct) active_file_bytes_ = std::max(active_file_bytes_, direct_.written_end());
      }
      if (!direct) {
        pwrite_all(active_fd_.get(), iov, static_cast<int>(n), base, active_path_);
        active_file_bytes_ = std::max<uint64_t>(active_file_bytes_, base + batch_bytes);
        if (options_.durability == Durability::kFdatasync) {
          fdatasync_or_throw(active_fd_.get(), active_path_);
        }
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    lock.lock();
  }

  // Publish, then wake the batch and hand over to the next front.
  if (error.empty()) {
    if (!rolled.empty()) {
      segments_.push_back(std::move(rolled[0]));
      ++stats_.segments_created;
      if (waited) ++stats_.rollover_waits;
    }
    assert(segments_.back().bytes == base);
    SegmentInfo& seg = segments_.back();
    seg.bytes += batch_bytes;
    seg.records += n;
    durable_lsn_ = last_lsn;
    ++stats_.batches;
    if (options_.durability == Durability::kFdatasync) ++stats_.syncs;
    if (direct) ++stats_.direct_writes;
    if (fell_back) ++stats_.direct_fallbacks;
    stats_.appends += n;
    stats_.bytes_written += batch_bytes;
    stats_.max_batch_records = std::max<uint64_t>(stats_.max_batch_records, n);
  } else if (failure_.empty()) {
    failure_ = error;
  }
  // After a failure nothing queued can be written (its lsn would leave a gap): fail them all.
  const size_t finish = error.empty() ? n : queue_.size();
  for (size_t i = 0; i < finish; ++i) {
    Pending* p = queue_.front();
    queue_.pop_front();
    queued_bytes_ -= p->record.frame.size();
    p->done = true;
    if (!error.empty()) p->error = "journal " + dir_ + " has failed: " + error;
    if (p != self) p->cv.notify_one();
  }
  leader_active_ = false;
  assert(self->done);
  assert(queue_.empty() || queue_.front()->lsn == durable_lsn_ + 1 || !error.empty());
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  room_cv_.notify_all();
  durable_cv_.notify_all();
  if (queue_.empty()) idle_cv_.notify_all();
}

bool Journal::wait_durable(uint64_t lsn, int64_t timeout_ns) const {
  assert(timeout_ns >= 0);
  std::unique_lock<std::mutex> lock(mu_);
  if (timeout_ns > 0) {
    durable_cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), [&] {
      return durable_lsn_ >= lsn || closed_ || !failure_.empty();
    });
  }
  return durable_lsn_ >= lsn;
}

bool Journal::wait_spare_ready(int64_t timeout_ns) const {
  assert(timeout_ns >= 0);
  if (!preparer_) return false;
  return preparer_->wait_ready(timeout_ns);
}

size_t Journal::drop_through(uint64_t lsn) {
  std::vector<SegmentInfo> victims;
  {
    std::lock_guard<std::mutex> guard(mu_);
    throw_if_unusable_locked();
    if (lsn > durable_lsn_) {
      throw std::invalid_argument("drop_through(" + std::to_string(lsn) +
                                  ") is past the durable end of the journal (lsn " +
                                  std::to_string(durable_lsn_) + ")");
    }
    // Sealed segments only (invariant 4); a sealed segment's last lsn is its successor's
    // first lsn - 1. Bounded by the number of segments.
    size_t k = 0;
    while (k + 1 < segments_.size() && segments_[k + 1].first_lsn - 1 <= lsn) ++k;
    victims.assign(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(k));
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(k));
    stats_.segments_dropped += k;
    assert(!segments_.empty());
  }
  // Oldest first, so a crash part-way leaves a contiguous chain.
  for (const SegmentInfo& s : victims) {
    if (::unlink(s.path.c_str()) != 0 && errno != ENOENT) {
      throw JournalError(errno_message("cannot remove", s.path, errno));
    }
  }
  if (!victims.empty() && options_.durability == Durability::kFdatasync) fsync_dir(dir_);
  return victims.size();
}

void Journal::close() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (closed_) return;
    closing_ = true;
    room_cv_.notify_all();
    leader_cv_.notify_all();
    // Queued appends finish (or fail) in at most queue_records_max / 1 batches.
    idle_cv_.wait(lock, [&] { return queue_.empty() && !leader_active_; });
    closed_ = true;
    durable_cv_.notify_all();
  }
  if (preparer_) preparer_->stop();  // removes an unused spare
  direct_.close();
  active_fd_.reset();
  lock_fd_.reset();  // releases the flock
}

uint64_t Journal::durable_lsn() const {
  std::lock_guard<std::mutex> guard(mu_);
  return durable_lsn_;
}

uint64_t Journal::first_lsn() const {
  std::lock_guard<std::mutex> guard(mu_);
  assert(!segments_.empty());
  return segments_.front().first_lsn;
}

bool Journal::closed() const {
  std::lock_guard<std::mutex> guard(mu_);
  return closed_;
}

std::vector<SegmentInfo> Journal::segments() const {
  std::lock_guard<std::mutex> guard(mu_);
  return segments_;
}

Stats Journal::stats() const {
  std::lock_guard<std::mutex> guard(mu_);
  return stats_;
}

Journal::Locate Journal::locate(uint64_t lsn) const {
  std::lock_guard<std::mutex> guard(mu_);
  if (closed_) throw JournalError("journal " + dir_ + " is closed");
  assert(!segments_.empty());
  Locate out;
  out.durable_lsn = durable_lsn_;
  out.first_lsn = segments_.front().first_lsn;
  if (lsn < out.first_lsn) return out;
  // The last segment whose first lsn is <= lsn; segments_ is sorted by first_lsn.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), lsn,
                             [](uint64_t v, const SegmentInfo& s) { return v < s.first_lsn; });
  assert(it != segments_.begin());
  --it;
  out.found = true;
  out.sealed = (it + 1) != segments_.end();
  out.segment = *it;
  return out;
}

}  // namespace dsql::journal
