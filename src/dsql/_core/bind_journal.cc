// pybind11 bindings for the journal kernel (cpp/journal/): Journal, Cursor, the recovery report,
// inspect() and the CRC32C functions, in dsql._core._kernels.journal. The typed face is
// src/dsql/journal.py.
//
// append() frames the writes while holding the GIL (views into the caller's bytes objects are
// only valid then), then releases the GIL while it waits for durability, so many Python threads
// can commit at once and share fdatasyncs. Cursor.next_batch() reads with the GIL released and
// builds the Python records after.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "common/crc32c.h"
#include "journal/append_load.h"
#include "journal/journal.h"
#include "journal/recovery.h"

namespace py = pybind11;

namespace dsql::journal {
namespace {

Durability parse_durability(const std::string& s) {
  if (s == "fdatasync") return Durability::kFdatasync;
  if (s == "unsafe-no-sync") return Durability::kUnsafeNoSync;
  throw py::value_error("durability must be 'fdatasync' or 'unsafe-no-sync', not '" + s + "'");
}

const char* durability_name(Durability d) {
  return d == Durability::kFdatasync ? "fdatasync" : "unsafe-no-sync";
}

std::string_view bytes_view(PyObject* o, const char* what, size_t index) {
  if (!PyBytes_Check(o)) {
    throw py::type_error(std::string("write ") + std::to_string(index) + ": the " + what +
                         " must be bytes" + (std::string(what) == "value" ? " or None" : "") +
                         ", not " + Py_TYPE(o)->tp_name);
  }
  return std::string_view(PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o)));
}

// Frames a sequence of (key, value | None) pairs. REQUIRES: the GIL is held.
EncodedRecord encode_from_python(const Journal& j, int64_t commit_ts, py::handle writes) {
  py::object seq = py::reinterpret_steal<py::object>(
      PySequence_Fast(writes.ptr(), "writes must be a sequence of (key, value) pairs"));
  if (!seq) throw py::error_already_set();
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
  PyObject** items = PySequence_Fast_ITEMS(seq.ptr());
  std::vector<WriteView> views;
  views.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* pair = items[i];
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      throw py::type_error("write " + std::to_string(i) +
                           " must be a (key, value) tuple; value None deletes the key");
    }
    WriteView w;
    w.key = bytes_view(PyTuple_GET_ITEM(pair, 0), "key", static_cast<size_t>(i));
    PyObject* value = PyTuple_GET_ITEM(pair, 1);
    w.tombstone = value == Py_None;
    if (!w.tombstone) w.value = bytes_view(value, "value", static_cast<size_t>(i));
    views.push_back(w);
  }
  // The views point into bytes objects that `seq` keeps alive while the GIL is held.
  return j.encode(commit_ts, views.data(), views.size());
}

py::object to_bytes(std::string_view s) {
  PyObject* o = PyBytes_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
  if (o == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(o);
}

// (commit_ts, lsn, [(key, value | None), ...]) per record. REQUIRES: the GIL is held.
py::list records_to_python(const std::vector<Record>& records) {
  py::list out(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    PayloadIterator it(r.payload);
    py::list writes(it.count());
    WriteView w;
    for (size_t k = 0; it.next(&w); ++k) {
      py::object value = w.tombstone ? py::none() : to_bytes(w.value);
      writes[k] = py::make_tuple(to_bytes(w.key), std::move(value));
    }
    out[i] = py::make_tuple(r.commit_ts, r.lsn, std::move(writes));
  }
  return out;
}

py::dict segment_to_python(const SegmentInfo& s) {
  py::dict d;
  d["seq"] = s.seq;
  d["first_lsn"] = s.first_lsn;
  d["path"] = s.path;
  d["bytes"] = s.bytes;
  d["records"] = s.records;
  return d;
}

void bind(py::module_& m) {
  py::object journal_error =
      py::register_exception<JournalError>(m, "JournalError", PyExc_RuntimeError);
  py::register_exception<JournalCorruption>(m, "JournalCorruption", journal_error.ptr());

  m.def("crc32c", [](py::bytes data, uint32_t crc) {
          const std::string_view v = data;
          return crc32c::extend(crc, v.data(), v.size());
        },
        py::arg("data"), py::arg("crc") = 0, "CRC32C of data, continuing from crc.");
  m.def("crc32c_portable", [](py::bytes data) {
          const std::string_view v = data;
          return crc32c::extend_portable(0, v.data(), v.size());
        },
        py::arg("data"));
  m.def("crc32c_implementation", [] { return std::string(crc32c::implementation()); });

  py::class_<RecoveryReport>(m, "RecoveryReport")
      .def_readonly("first_lsn", &RecoveryReport::first_lsn)
      .def_readonly("last_lsn", &RecoveryReport::last_lsn)
      .def_readonly("next_lsn", &RecoveryReport::next_lsn)
      .def_readonly("last_commit_ts", &RecoveryReport::last_commit_ts)
      .def_readonly("max_commit_ts", &RecoveryReport::max_commit_ts)
      .def_readonly("records", &RecoveryReport::records)
      .def_readonly("segments", &RecoveryReport::segments)
      .def_readonly("truncated", &RecoveryReport::truncated)
      .def_readonly("truncated_file", &RecoveryReport::truncated_file)
      .def_readonly("truncated_offset", &RecoveryReport::truncated_offset)
      .def_readonly("truncated_bytes", &RecoveryReport::truncated_bytes)
      .def_readonly("reason", &RecoveryReport::reason)
      .def_readonly("dropped_files", &RecoveryReport::dropped_files)
      .def_readonly("ignored_files", &RecoveryReport::ignored_files)
      .def_readonly("spare_files", &RecoveryReport::spare_files)
      .def_readonly("messages", &RecoveryReport::messages)
      .def_property_readonly("clean", &RecoveryReport::clean);

  m.def("inspect", [](const std::string& path) {
          RecoveryPlan plan;
          {
            py::gil_scoped_release release;
            plan = plan_recovery(path);
          }
          return plan.report;
        },
        py::arg("path"),
        "What recovery would find and cut in the journal at path, without changing it.");

  py::class_<Cursor, std::shared_ptr<Cursor>>(m, "Cursor")
      .def("next_batch", [](Cursor& c, size_t records_max, size_t bytes_max) {
             if (records_max < 1) throw py::value_error("records_max must be >= 1");
             std::vector<Record> records;
             {
               py::gil_scoped_release release;
               records = c.next_batch(records_max, bytes_max);
             }
             return records_to_python(records);
           },
           py::arg("records_max") = 1024, py::arg("bytes_max") = size_t{8} << 20,
           "Up to records_max durable records [(commit_ts, lsn, writes)] in lsn order; [] when "
           "caught up.")
      .def_property_readonly("next_lsn", &Cursor::next_lsn);

  py::class_<Journal, std::shared_ptr<Journal>>(m, "Journal")
      .def(py::init([](const std::string& path, const std::string& durability,
                       uint64_t segment_bytes, size_t batch_records_max, size_t batch_bytes_max,
                       int64_t group_wait_ns, size_t queue_records_max, size_t record_bytes_max,
                       bool create, std::optional<bool> preallocate, bool direct_writes) {
             Options o;
             o.durability = parse_durability(durability);
             o.segment_bytes = segment_bytes;
             o.batch_records_max = batch_records_max;
             o.batch_bytes_max = batch_bytes_max;
             o.group_wait_ns = group_wait_ns;
             o.queue_records_max = queue_records_max;
             o.record_bytes_max = record_bytes_max;
             o.create = create;
             o.preallocate = preallocate;
             o.direct_writes = direct_writes;
             py::gil_scoped_release release;
             return Journal::open(path, o);
           }),
           py::arg("path"), py::arg("durability") = "fdatasync",
           py::arg("segment_bytes") = uint64_t{64} << 20, py::arg("batch_records_max") = 512,
           py::arg("batch_bytes_max") = size_t{8} << 20, py::arg("group_wait_ns") = 0,
           py::arg("queue_records_max") = 16384, py::arg("record_bytes_max") = size_t{32} << 20,
           py::arg("create") = true, py::arg("preallocate") = py::none(),
           py::arg("direct_writes") = true)
      .def("append", [](Journal& j, int64_t commit_ts, py::handle writes) {
             EncodedRecord rec = encode_from_python(j, commit_ts, writes);
             py::gil_scoped_release release;
             return j.append(std::move(rec));
           },
           py::arg("commit_ts"), py::arg("writes"),
           "Appends one record; returns its lsn once it is durable.")
      .def("_append_load",
           [](Journal& j, int committers, int64_t duration_ns, int64_t first_ts,
              py::handle writes) {
             if (committers <= 0 || duration_ns <= 0) {
               throw py::value_error("committers and duration_ns must be > 0");
             }
             // Keep the bytes alive and view them; the load runs without the GIL.
             py::list held;
             std::vector<WriteView> views;
             for (py::handle pair : writes) {
               auto t = pair.cast<py::tuple>();
               held.append(t);
               WriteView w;
               w.key = bytes_view(t[0].ptr(), "key", views.size());
               w.tombstone = t[1].is_none();
               if (!w.tombstone) w.value = bytes_view(t[1].ptr(), "value", views.size());
               views.push_back(w);
             }
             AppendLoadResult r;
             {
               py::gil_scoped_release release;
               r = run_append_load(j, committers, duration_ns, first_ts, views);
             }
             return py::make_tuple(r.appends, r.elapsed_ns, r.late_acks);
           },
           py::arg("committers"), py::arg("duration_ns"), py::arg("first_ts"),
           py::arg("writes"),
           "Benchmark load: committers C++ threads appending for duration_ns; returns "
           "(appends, elapsed_ns, late_acks).")
      .def("wait_durable", [](const Journal& j, uint64_t lsn, int64_t timeout_ns) {
             if (timeout_ns < 0) throw py::value_error("timeout_ns must be >= 0");
             py::gil_scoped_release release;
             return j.wait_durable(lsn, timeout_ns);
           },
           py::arg("lsn"), py::arg("timeout_ns") = 0)
      .def("wait_spare_ready", [](const Journal& j, int64_t timeout_ns) {
             if (timeout_ns < 0) throw py::value_error("timeout_ns must be >= 0");
             py::gil_scoped_release release;
             return j.wait_spare_ready(timeout_ns);
           },
           py::arg("timeout_ns") = 0)
      .def("drop_through", [](Journal& j, uint64_t lsn) {
             py::gil_scoped_release release;
             return j.drop_through(lsn);
           },
           py::arg("lsn"))
      .def("read_from", [](const std::shared_ptr<Journal>& j, uint64_t lsn) {
             if (lsn < 1) throw py::value_error("lsns start at 1");
             return std::make_shared<Cursor>(j, lsn);
           },
           py::arg("lsn"), "A cursor over durable records from lsn on.")
      .def("close", [](Journal& j) {
             py::gil_scoped_release release;
             j.close();
           })
      .def_property_readonly("recovery", &Journal::recovery)
      .def_property_readonly("path", &Journal::dir)
      .def_property_readonly("durability",
                             [](const Journal& j) { return durability_name(j.options().durability); })
      .def_property_readonly("durable_lsn", &Journal::durable_lsn)
      .def_property_readonly("preallocate", &Journal::preallocate)
      .def_property_readonly("first_lsn", &Journal::first_lsn)
      .def_property_readonly("closed", &Journal::closed)
      .def("segments", [](const Journal& j) {
             py::list out;
             for (const SegmentInfo& s : j.segments()) out.append(segment_to_python(s));
             return out;
           })
      .def("stats", [](const Journal& j) {
             const Stats s = j.stats();
             py::dict d;
             d["appends"] = s.appends;
             d["batches"] = s.batches;
             d["syncs"] = s.syncs;
             d["bytes_written"] = s.bytes_written;
             d["segments_created"] = s.segments_created;
             d["segments_dropped"] = s.segments_dropped;
             d["max_batch_records"] = s.max_batch_records;
             d["rollover_waits"] = s.rollover_waits;
             d["direct_writes"] = s.direct_writes;
             d["direct_fallbacks"] = s.direct_fallbacks;
             return d;
           });
}

}  // namespace
}  // namespace dsql::journal

DSQL_REGISTER_BINDINGS(journal, dsql::journal::bind);
