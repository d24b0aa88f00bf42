#include "clock/ptp_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace dsql::clock {
namespace {

// The kernel's mapping from a posix-clock file descriptor to a dynamic clock id.
int fd_to_clock_id(int fd) { return static_cast<int>((~static_cast<unsigned>(fd) << 3) | 3u); }

std::string default_bound_path(const std::string& device_path) {
  const size_t slash = device_path.rfind('/');
  const std::string dev = slash == std::string::npos ? device_path : device_path.substr(slash + 1);
  return "/sys/class/ptp/" + dev + "/device/phc_error_bound";
}

// Reads one integer from a small text file; -1 when absent or unparsable.
int64_t read_integer_file(const std::string& path) noexcept {
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return -1;
  long long value = -1;
  if (std::fscanf(f, "%lld", &value) != 1 || value < 0) value = -1;
  std::fclose(f);
  return static_cast<int64_t>(value);
}

}  // namespace

std::unique_ptr<PtpSource> PtpSource::open(const std::string& device_path, Options options,
                                           std::string* why) {
  assert(why != nullptr);
  const int fd = ::open(device_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *why = "cannot open " + device_path + ": " + std::strerror(errno);
    return nullptr;
  }
  timespec ts;
  if (clock_gettime(fd_to_clock_id(fd), &ts) != 0) {
    *why = device_path + " is not a readable PTP clock: " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  if (options.error_bound_path.empty()) options.error_bound_path = default_bound_path(device_path);
  return std::unique_ptr<PtpSource>(new PtpSource(fd, device_path, std::move(options)));
}

PtpSource::PtpSource(int fd, std::string device_path, Options options)
    : fd_(fd), clock_id_(fd_to_clock_id(fd)), device_path_(std::move(device_path)),
      options_(std::move(options)) {
  assert(fd_ >= 0);
  assert(options_.refresh_interval_ns > 0);
}

PtpSource::~PtpSource() { ::close(fd_); }

int64_t PtpSource::device_bound_ns() noexcept {
  if (options_.error_bound_path == "none") return -1;
  const int64_t mono_ns = read_clock_ns(CLOCK_MONOTONIC_COARSE);
  const int64_t at = cached_at_mono_ns_.load(std::memory_order_acquire);
  if (at != INT64_MIN && mono_ns - at < options_.refresh_interval_ns) {
    return cached_bound_ns_.load(std::memory_order_relaxed);
  }
  // Concurrent refreshers read the same file; the last store wins, both values are fresh.
  const int64_t bound = read_integer_file(options_.error_bound_path);
  cached_bound_ns_.store(bound, std::memory_order_relaxed);
  cached_at_mono_ns_.store(mono_ns, std::memory_order_release);
  return bound;
}

Reading PtpSource::now() noexcept {
  timespec ts;
  const int64_t before_ns = read_clock_ns(CLOCK_MONOTONIC_RAW);
  const int rc = clock_gettime(clock_id_, &ts);
  const int64_t after_ns = read_clock_ns(CLOCK_MONOTONIC_RAW);
  if (rc != 0) {
    return make_reading(read_clock_ns(CLOCK_REALTIME), kUnvouchedBoundNs, Status::kUnknown);
  }
  const int64_t phc_ns =
      static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec - options_.tai_offset_ns;
  const int64_t window_ns = (after_ns - before_ns + 1) / 2;
  assert(window_ns >= 0);
  const int64_t device_ns = device_bound_ns();
  if (device_ns >= 0) return make_reading(phc_ns, device_ns + window_ns, Status::kSynchronized);
  const Reading sys = system_.now();
  return make_reading(phc_ns, sys.bound_ns() + window_ns, Status::kUnknown);
}

}  // namespace dsql::clock
