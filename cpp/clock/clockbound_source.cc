#include "clock/clockbound_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace dsql::clock {
namespace {

constexpr uint8_t kMagic[8] = {0x41, 0x4D, 0x5A, 0x4E, 0x43, 0x42, 0x02, 0x00};
constexpr int kMaxAttempts = 10'000;

template <typename T>
T load_plain(const uint8_t* p) noexcept {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

int64_t timespec_ns_at(const uint8_t* p) noexcept {
  return load_plain<int64_t>(p) * 1'000'000'000 + load_plain<int64_t>(p + 8);
}

uint16_t load_generation(const uint8_t* base) noexcept {
  // The daemon updates generation atomically; read it as one 16-bit atomic load.
  return __atomic_load_n(reinterpret_cast<const uint16_t*>(base + 14), __ATOMIC_ACQUIRE);
}

}  // namespace

std::unique_ptr<ClockBoundSource> ClockBoundSource::open(const std::string& path,
                                                         std::string* why) {
  assert(why != nullptr);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *why = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    *why = "cannot stat " + path + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  const size_t length = static_cast<size_t>(st.st_size);
  if (length < kMinSegmentBytes) {
    *why = path + " is " + std::to_string(length) + " bytes, too short for a ClockBound segment";
    ::close(fd);
    return nullptr;
  }
  void* map = mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    *why = "cannot map " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  const auto* base = static_cast<const uint8_t*>(map);
  if (std::memcmp(base, kMagic, sizeof kMagic) != 0) {
    *why = path + " has no ClockBound magic number";
    munmap(map, length);
    return nullptr;
  }
  const uint32_t declared = load_plain<uint32_t>(base + 8);
  const uint16_t version = load_plain<uint16_t>(base + 12);
  if (version != 1 && version != 2) {
    *why = path + " has ClockBound protocol version " + std::to_string(version) +
           ", only 1 and 2 are understood";
    munmap(map, length);
    return nullptr;
  }
  if (declared < kMinSegmentBytes || declared > length) {
    *why = path + " declares a segment of " + std::to_string(declared) + " bytes in a file of " +
           std::to_string(length);
    munmap(map, length);
    return nullptr;
  }
  return std::unique_ptr<ClockBoundSource>(new ClockBoundSource(base, length, version));
}

ClockBoundSource::ClockBoundSource(const uint8_t* base, size_t length, int version)
    : base_(base), length_(length), version_(version) {
  assert(base_ != nullptr && length_ >= kMinSegmentBytes);
  assert(version_ == 1 || version_ == 2);
}

ClockBoundSource::~ClockBoundSource() {
  munmap(const_cast<uint8_t*>(base_), length_);
}

bool ClockBoundSource::load(Snapshot* out) const noexcept {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const uint16_t before = load_generation(base_);
    if (before == 0 || before % 2 != 0) continue;  // not yet written, or being written
    Snapshot s;
    s.as_of_ns = timespec_ns_at(base_ + 16);
    s.void_after_ns = timespec_ns_at(base_ + 32);
    s.bound_ns = load_plain<int64_t>(base_ + 48);
    if (version_ == 2) {
      s.max_drift_ppb = load_plain<uint32_t>(base_ + 64);
      s.status = load_plain<int32_t>(base_ + 68);
    } else {
      s.max_drift_ppb = load_plain<uint32_t>(base_ + 56);
      s.status = load_plain<int32_t>(base_ + 64);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (load_generation(base_) != before) continue;
    *out = s;
    return true;
  }
  return false;
}

Reading ClockBoundSource::now() noexcept {
  const int64_t real_ns = read_clock_ns(CLOCK_REALTIME);
  const int64_t mono_ns = read_clock_ns(CLOCK_MONOTONIC_COARSE);
  Snapshot s;
  if (!load(&s)) {
    // The daemon never finished a write in time: nothing can be vouched for.
    return make_reading(real_ns, kUnvouchedBoundNs, Status::kUnknown);
  }
  Status status = Status::kUnknown;
  if (s.status == 1) status = Status::kSynchronized;
  if (s.status == 2) status = Status::kFreeRunning;
  if (mono_ns > s.void_after_ns || s.bound_ns < 0) status = Status::kUnknown;  // stale

  int64_t bound_ns = s.bound_ns < 0 ? 0 : s.bound_ns;
  const int64_t since_ns = mono_ns - s.as_of_ns;
  if (since_ns > 0) {
    // Drift growth, computed in 128 bits: since_ns * ppb overflows 64 bits after ~9 s at 1e9.
    const __int128 growth = static_cast<__int128>(since_ns) * s.max_drift_ppb / 1'000'000'000;
    bound_ns += static_cast<int64_t>(growth);
  }
  return make_reading(real_ns, bound_ns, status);
}

}  // namespace dsql::clock
