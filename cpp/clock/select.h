// Choosing a clock source, with a fallback chain that never fails.
//
// Order for "auto": ClockBound (v2 segment, then v1), then each /dev/ptp* device, then the
// system clock, which always works. An explicitly named source is tried first and, unless
// strict, falls back down the same chain. Every step is written to the selection log (why a
// source was passed over, which one is used) for the caller to put in its own log.
//
// Thread-safety: select_source() is a pure function of its config and the machine; call it
// from any thread.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "clock/ptp_source.h"
#include "clock/source.h"

namespace dsql::clock {

struct ClockConfig {
  std::string source = "auto";  // auto | clockbound | ptp | system | simulated
  // Empty: /var/run/clockbound/shm0, then the v1 path /var/run/clockbound/shm.
  std::string clockbound_path;
  // Empty: every /dev/ptp* in name order.
  std::string ptp_path;
  PtpSource::Options ptp;
  // With strict, an explicitly named source that cannot be opened is an error.
  bool strict = false;
};

struct Selection {
  std::shared_ptr<Source> source;
  std::vector<std::string> log;
};

class ClockConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws ClockConfigError for an unknown source name, or when strict and the named source fails.
Selection select_source(const ClockConfig& config);

}  // namespace dsql::clock
