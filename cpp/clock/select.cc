#include "clock/select.h"

#include <glob.h>

#include <algorithm>
#include <cassert>
#include <ctime>

#include "clock/clockbound_source.h"
#include "clock/simulated_source.h"
#include "clock/system_source.h"

namespace dsql::clock {
namespace {

std::vector<std::string> ptp_candidates(const ClockConfig& config) {
  if (!config.ptp_path.empty()) return {config.ptp_path};
  std::vector<std::string> paths;
  glob_t g{};
  if (glob("/dev/ptp*", 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::shared_ptr<Source> try_clockbound(const ClockConfig& config, std::vector<std::string>* log) {
  std::vector<std::string> paths;
  if (config.clockbound_path.empty()) {
    paths = {ClockBoundSource::kDefaultPath, "/var/run/clockbound/shm"};
  } else {
    paths = {config.clockbound_path};
  }
  for (const std::string& path : paths) {
    std::string why;
    if (auto src = ClockBoundSource::open(path, &why)) {
      log->push_back("clockbound: using " + path + " (protocol v" +
                     std::to_string(src->version()) + ")");
      return src;
    }
    log->push_back("clockbound: " + why);
  }
  return nullptr;
}

std::shared_ptr<Source> try_ptp(const ClockConfig& config, std::vector<std::string>* log) {
  const std::vector<std::string> paths = ptp_candidates(config);
  if (paths.empty()) log->push_back("ptp: no /dev/ptp* device");
  for (const std::string& path : paths) {
    std::string why;
    if (auto src = PtpSource::open(path, config.ptp, &why)) {
      log->push_back("ptp: using " + path);
      return src;
    }
    log->push_back("ptp: " + why);
  }
  return nullptr;
}

std::shared_ptr<Source> make_system(std::vector<std::string>* log) {
  auto src = std::make_shared<SystemSource>();
  const Reading r = src->now();
  log->push_back("system: using CLOCK_REALTIME, bound from adjtimex maxerror (status " +
                 std::string(status_name(r.status)) + ", bound " + std::to_string(r.bound_ns()) +
                 " ns)");
  return src;
}

}  // namespace

Selection select_source(const ClockConfig& config) {
  Selection sel;
  const std::string& want = config.source;
  if (want == "simulated") {
    SimulatedSource::Options opt;
    opt.start_ns = read_clock_ns(CLOCK_REALTIME);
    opt.follow_real_time = true;
    sel.source = std::make_shared<SimulatedSource>(opt);
    sel.log.push_back("simulated: using a simulated clock that follows real time");
    return sel;
  }
  if (want != "auto" && want != "clockbound" && want != "ptp" && want != "system") {
    throw ClockConfigError("unknown clock source \"" + want +
                           "\" (expected auto, clockbound, ptp, system or simulated)");
  }
  const bool from_clockbound = want == "auto" || want == "clockbound";
  const bool from_ptp = from_clockbound || want == "ptp";
  if (from_clockbound) sel.source = try_clockbound(config, &sel.log);
  if (!sel.source && config.strict && want == "clockbound") {
    throw ClockConfigError("clock source clockbound unavailable: " + sel.log.back());
  }
  if (!sel.source && from_ptp) sel.source = try_ptp(config, &sel.log);
  if (!sel.source && config.strict && want == "ptp") {
    throw ClockConfigError("clock source ptp unavailable: " + sel.log.back());
  }
  if (!sel.source) sel.source = make_system(&sel.log);
  assert(sel.source != nullptr && !sel.log.empty());
  return sel;
}

}  // namespace dsql::clock
