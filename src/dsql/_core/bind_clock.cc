// pybind11 bindings for the clock kernel: sources, their configuration, the simulated clock's
// controls, the hybrid-logical clock, and read-cost measurement. Per-call reads go through the
// Cython module dsql._core.clockread instead, which reaches the same C++ objects through the
// capsules that _capsule() hands out (a pybind11 call costs more than the read itself).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "bindings.h"
#include "clock/hybrid_clock.h"
#include "clock/read_cost.h"
#include "clock/select.h"
#include "clock/simulated_source.h"

namespace py = pybind11;

namespace dsql::clock {
namespace {

Status parse_status(const std::string& s) {
  if (s == "synchronized") return Status::kSynchronized;
  if (s == "free-running") return Status::kFreeRunning;
  if (s == "unknown") return Status::kUnknown;
  throw py::value_error("status must be synchronized, free-running or unknown, not " + s);
}

void bind(py::module_& m) {
  py::register_exception<ClockConfigError>(m, "ClockConfigError", PyExc_ValueError);

  py::class_<Source, std::shared_ptr<Source>>(m, "Source")
      .def_property_readonly("name", [](const Source& s) { return std::string(s.name()); })
      .def("_capsule", [](Source& s) { return py::capsule(&s, "dsql.clock.Source"); });

  py::class_<SimulatedSource, Source, std::shared_ptr<SimulatedSource>>(m, "SimulatedSource")
      .def(py::init([](int64_t start_ns, bool follow_real_time, int64_t bound_ns,
                       const std::string& status) {
             if (bound_ns < 0) throw py::value_error("bound_ns must be >= 0");
             SimulatedSource::Options opt;
             opt.start_ns = start_ns;
             opt.follow_real_time = follow_real_time;
             opt.bound_ns = bound_ns;
             opt.status = parse_status(status);
             return std::make_shared<SimulatedSource>(opt);
           }),
           py::arg("start_ns"), py::arg("follow_real_time") = false, py::arg("bound_ns") = 0,
           py::arg("status") = "synchronized")
      .def_property_readonly("true_time_ns", &SimulatedSource::true_time_ns)
      .def("advance", [](SimulatedSource& s, int64_t delta_ns) {
             if (delta_ns < 0) throw py::value_error("advance() takes a delta >= 0; use step()");
             s.advance(delta_ns);
           }, py::arg("delta_ns"))
      .def("set_offset", &SimulatedSource::set_offset, py::arg("offset_ns"))
      .def("step", &SimulatedSource::step, py::arg("delta_ns"))
      .def("set_drift_ppb", &SimulatedSource::set_drift_ppb, py::arg("drift_ppb"))
      .def("freeze", &SimulatedSource::freeze)
      .def("unfreeze", &SimulatedSource::unfreeze)
      .def("set_bound", [](SimulatedSource& s, int64_t bound_ns) {
             if (bound_ns < 0) throw py::value_error("bound_ns must be >= 0");
             s.set_bound(bound_ns);
           }, py::arg("bound_ns"))
      .def("set_status", [](SimulatedSource& s, const std::string& status) {
             s.set_status(parse_status(status));
           }, py::arg("status"));

  m.def(
      "select_source",
      [](const std::string& source, const std::string& clockbound_path,
         const std::string& ptp_path, const std::string& ptp_error_bound_path,
         int64_t ptp_tai_offset_ns, bool strict) {
        ClockConfig config;
        config.source = source;
        config.clockbound_path = clockbound_path;
        config.ptp_path = ptp_path;
        config.ptp.error_bound_path = ptp_error_bound_path;
        config.ptp.tai_offset_ns = ptp_tai_offset_ns;
        config.strict = strict;
        Selection sel = select_source(config);
        return py::make_tuple(sel.source, sel.log);
      },
      py::arg("source") = "auto", py::arg("clockbound_path") = "", py::arg("ptp_path") = "",
      py::arg("ptp_error_bound_path") = "", py::arg("ptp_tai_offset_ns") = 0,
      py::arg("strict") = false,
      "Choose a clock source; returns (source, log lines saying what was tried and why).");

  py::class_<HybridClock, std::shared_ptr<HybridClock>>(m, "HybridClock")
      .def(py::init([](std::shared_ptr<Source> source) {
             if (!source) throw py::value_error("HybridClock needs a source");
             return std::make_shared<HybridClock>(std::move(source));
           }),
           py::arg("source"))
      .def_property_readonly("source", &HybridClock::shared_source)
      .def("next_above", &HybridClock::next_above, py::arg("floor_ns"))
      .def("observe", &HybridClock::observe, py::arg("ts_ns"))
      .def_property_readonly("last", &HybridClock::last)
      .def_property_readonly("backward_steps", &HybridClock::backward_steps)
      .def_property_readonly("max_backward_ns", &HybridClock::max_backward_ns)
      .def("_capsule", [](HybridClock& h) { return py::capsule(&h, "dsql.clock.HybridClock"); });

  m.def("mean_read_cost_ns",
        [](const std::shared_ptr<Source>& source, int64_t iterations) {
          if (iterations <= 0) throw py::value_error("iterations must be > 0");
          py::gil_scoped_release release;
          return mean_read_cost_ns(*source, iterations);
        },
        py::arg("source"), py::arg("iterations"),
        "Mean ns per C++ read of the source, measured in a C++ loop.");
  m.def("mean_clock_gettime_ns",
        [](int64_t iterations) {
          if (iterations <= 0) throw py::value_error("iterations must be > 0");
          py::gil_scoped_release release;
          return mean_clock_gettime_ns(iterations);
        },
        py::arg("iterations"), "Mean ns per bare clock_gettime(CLOCK_REALTIME), the floor.");
}

}  // namespace
}  // namespace dsql::clock

DSQL_REGISTER_BINDINGS(clock, dsql::clock::bind);
