#include "journal/segment_preparer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <chrono>
#include <exception>

#include "journal/errors.h"
#include "journal/format.h"

namespace dsql::journal {

SegmentPreparer::SegmentPreparer(std::string dir, uint64_t bytes, bool sync)
    : spare_path_(join_path(dir, std::string(kSpareFileName))), bytes_(bytes), sync_(sync) {
  assert(bytes_ >= kSegmentHeaderBytes);
  assert(!dir.empty());
  thread_ = std::thread([this] { run(); });
}

SegmentPreparer::~SegmentPreparer() { stop(); }

UniqueFd SegmentPreparer::prepare() const {
  UniqueFd fd = open_or_throw(spare_path_, O_RDWR | O_CREAT | O_TRUNC);
  try {
    if (!write_zeros(fd.get(), 0, bytes_, spare_path_, &stop_)) {
      fd.reset();
      ::unlink(spare_path_.c_str());
      return UniqueFd();
    }
    // Data and size: the blocks are allocated and written, so later writes change no metadata.
    if (sync_) fdatasync_or_throw(fd.get(), spare_path_);
  } catch (...) {
    fd.reset();
    ::unlink(spare_path_.c_str());  // best effort; recovery removes a leftover spare anyway
    throw;
  }
  assert(fd.valid());
  assert(file_size(fd.get(), spare_path_) == bytes_);
  return fd;
}

void SegmentPreparer::run() {
  std::unique_lock<std::mutex> lock(mu_);
  // One pass per request; waits in between, exits on stop.
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_.load() || (wanted_ && !ready_); });
    if (stop_.load()) break;
    assert(!preparing_ && !ready_);
    wanted_ = false;
    preparing_ = true;
    lock.unlock();
    UniqueFd fd;
    bool failed = false;
    try {
      fd = prepare();
    } catch (const std::exception&) {
      failed = true;  // take() prepares in its own thread and reports the error
    }
    lock.lock();
    preparing_ = false;
    if (fd.valid()) {
      ready_fd_ = std::move(fd);
      ready_ = true;
      ++counters_.prepared;
    } else if (failed) {
      ++counters_.failures;
    }
    done_cv_.notify_all();
  }
  assert(!preparing_);
}

UniqueFd SegmentPreparer::take(bool* waited) {
  assert(waited != nullptr);
  std::unique_lock<std::mutex> lock(mu_);
  assert(!stop_.load());
  *waited = !ready_;
  if (preparing_) done_cv_.wait(lock, [&] { return !preparing_; });
  if (!ready_) {
    // None ready (first segment, or the background attempt failed): make it here. mu_ stays
    // held, so the background thread cannot start another under the same name meanwhile.
    wanted_ = false;
    UniqueFd fd = prepare();
    if (!fd.valid()) throw JournalError("journal stopped while preparing " + spare_path_);
    ++counters_.prepared;
    ready_fd_ = std::move(fd);
    ready_ = true;
  }
  if (*waited) ++counters_.waits;
  ready_ = false;
  UniqueFd out = std::move(ready_fd_);
  assert(out.valid() && !ready_fd_.valid());
  return out;
}

void SegmentPreparer::request() {
  std::lock_guard<std::mutex> guard(mu_);
  assert(!stop_.load());
  if (ready_ || preparing_) return;  // one is (being) made already
  wanted_ = true;
  work_cv_.notify_one();
}

void SegmentPreparer::stop() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    stop_.store(true);
    work_cv_.notify_all();
    done_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> guard(mu_);
  assert(!preparing_);
  if (ready_) {
    ready_fd_.reset();
    ready_ = false;
    ::unlink(spare_path_.c_str());  // best effort: recovery removes a leftover spare
  }
}

bool SegmentPreparer::ready() const {
  std::lock_guard<std::mutex> guard(mu_);
  return ready_;
}

bool SegmentPreparer::wait_ready(int64_t timeout_ns) const {
  assert(timeout_ns >= 0);
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns),
                    [&] { return ready_ || stop_.load(); });
  return ready_;
}

SegmentPreparer::Counters SegmentPreparer::counters() const {
  std::lock_guard<std::mutex> guard(mu_);
  return counters_;
}

}  // namespace dsql::journal
