// pybind11 bindings for the server's fast path (cpp/wire/point_query.h): point plans, the
// server-wide FastPath (storage + catalog epoch) and the per-connection FastConn, whose
// serve() answers a buffer of client messages and writes the replies to the socket itself.
//
// The GIL stays held in serve(): it reads storage at the watermark (never waits) and sends
// with MSG_DONTWAIT, so it is shorter than a release and re-acquire would be.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "bindings.h"
#include "storage/datum.h"
#include "adjudicator/kind.h"
#include "clock/hybrid_clock.h"
#include "node/commit_path.h"
#include "node/sequencer.h"
#include "wire/point_query.h"
#include "wire/socket_reader.h"
#include "wire/txn_lane.h"

namespace py = pybind11;

namespace dsql::wire {
namespace {

storage::TypeId type_of(const std::string& name) {
  const auto t = storage::type_from_name(name);
  if (!t) throw py::value_error("unknown codec type " + name);
  return *t;
}

using FieldTuple = std::tuple<std::string, uint32_t, int16_t, uint32_t, int16_t, int32_t>;

std::vector<storage::KeyColumn> key_columns(const std::vector<std::string>& types) {
  std::vector<storage::KeyColumn> out;
  for (const auto& t : types) out.push_back(storage::KeyColumn{type_of(t)});
  return out;
}

std::vector<storage::TypeId> row_layout(const std::vector<std::string>& types) {
  std::vector<storage::TypeId> out;
  for (const auto& t : types) out.push_back(type_of(t));
  return out;
}

py::object handover(FastConn& c) {
  const LaneTxn& t = c.txn();
  if (!t.open()) return py::none();
  py::list writes, claims;
  for (const std::string& key : t.order()) {
    writes.append(py::make_tuple(py::bytes(key), py::bytes(t.value_of(key))));
    claims.append(py::make_tuple(py::bytes(key), static_cast<int>(t.claim_of(key))));
  }
  py::object failure = py::none();
  const FastConn::CommitFailure& f = c.commit_failure();
  if (f.failed && f.commit_error_kind.empty()) {
    const adjudicator::TxnResult& r = f.result;
    failure = py::make_tuple("result", py::make_tuple(static_cast<int>(r.outcome), r.commit_ts,
                                                      r.key_index, static_cast<int>(r.mine),
                                                      static_cast<int>(r.theirs), r.pending,
                                                      r.other_txn));
  } else if (f.failed) {
    failure = py::make_tuple(f.commit_error_kind, f.commit_error);
  }
  py::tuple out = py::make_tuple(t.start_ts(), t.wall_ns(), t.mono_ns(), writes, claims, failure);
  c.release_txn();
  return out;
}

void bind(py::module_& m) {
  py::class_<PointPlan, std::shared_ptr<PointPlan>>(m, "PointPlan")
      .def(py::init([](uint32_t table_id, const std::vector<std::string>& key_types,
                       std::vector<uint32_t> key_params, uint32_t nparams, uint8_t row_version,
                       const std::vector<std::string>& row_types,
                       const std::vector<std::pair<bool, uint32_t>>& outputs,
                       const std::vector<FieldTuple>& fields, uint64_t epoch) {
             std::vector<storage::KeyColumn> kcols;
             for (const auto& t : key_types) kcols.push_back(storage::KeyColumn{type_of(t)});
             std::vector<storage::TypeId> rtypes;
             for (const auto& t : row_types) rtypes.push_back(type_of(t));
             auto p = std::make_shared<PointPlan>(PointPlan{
                 storage::KeyLayout(table_id, std::move(kcols)), std::move(key_params), nparams,
                 row_version, storage::RowLayout(std::move(rtypes)), {}, {}, epoch});
             for (const auto& [from_key, index] : outputs) p->outputs.push_back(Output{from_key, index});
             for (const auto& [name, toid, colno, typoid, typlen, typmod] : fields) {
               p->fields.push_back(Field{name, toid, colno, typoid, typlen, typmod});
             }
             p->validate();
             return p;
           }),
           py::arg("table_id"), py::arg("key_types"), py::arg("key_params"), py::arg("nparams"),
           py::arg("row_version"), py::arg("row_types"), py::arg("outputs"), py::arg("fields"),
           py::arg("epoch"))
      .def_property_readonly("epoch", [](const PointPlan& p) { return p.epoch; })
      .def("row_description", [](const PointPlan& p, const std::vector<int16_t>& formats) {
        if (formats.size() != p.fields.size()) throw py::value_error("one format per field");
        std::string out;
        append_row_description(p, formats, &out);
        return py::bytes(out);
      });

  py::class_<FastPath, std::shared_ptr<FastPath>>(m, "FastPath")
      .def(py::init([](std::shared_ptr<storage::ShardMap> store) {
             return std::make_shared<FastPath>(std::move(store));
           }),
           py::arg("store"))
      .def_property_readonly("epoch", &FastPath::epoch)
      .def_property_readonly("served", &FastPath::served)
      .def("bump_epoch", &FastPath::bump_epoch)
      .def("attach_txn", &FastPath::attach_txn, py::arg("kernels"),
           "Lets connections run transactions in the lane (once, before any FastConn).");

  py::class_<TxnKernels, std::shared_ptr<TxnKernels>>(m, "TxnKernels")
      .def(py::init([](std::shared_ptr<clock::HybridClock> clock,
                       std::shared_ptr<node::Sequencer> sequencer,
                       std::shared_ptr<node::CommitPath> path,
                       std::shared_ptr<storage::ShardMap> store, py::bytes share_key,
                       int64_t first_rowid) {
             return std::make_shared<TxnKernels>(std::move(clock), std::move(sequencer),
                                                 std::move(path), std::move(store),
                                                 std::string(share_key), first_rowid);
           }),
           py::arg("clock"), py::arg("sequencer"), py::arg("commit_path"), py::arg("store"),
           py::arg("share_key"), py::arg("first_rowid"))
      .def("set_horizon", &TxnKernels::set_horizon, py::arg("horizon_ns"))
      .def_property_readonly("horizon", &TxnKernels::horizon)
      .def("next_rowid", &TxnKernels::next_rowid)
      .def("stop", &TxnKernels::stop, "No BEGIN or COMMIT in the lane from now on.")
      .def_property_readonly("last_commit", &TxnKernels::last_commit);

  py::class_<UpdatePlan, std::shared_ptr<UpdatePlan>>(m, "UpdatePlan")
      .def(py::init([](uint32_t table_id, const std::vector<std::string>& key_types,
                       std::vector<uint32_t> key_params, uint32_t nparams, uint8_t row_version,
                       const std::vector<std::string>& row_types,
                       const std::vector<std::pair<uint32_t, uint32_t>>& adds, uint64_t epoch) {
             auto p = std::make_shared<UpdatePlan>(UpdatePlan{
                 storage::KeyLayout(table_id, key_columns(key_types)), std::move(key_params),
                 nparams, row_version, storage::RowLayout(row_layout(row_types)), {}, epoch});
             for (const auto& [column, param] : adds) p->adds.push_back({column, param});
             p->validate();
             return p;
           }),
           py::arg("table_id"), py::arg("key_types"), py::arg("key_params"), py::arg("nparams"),
           py::arg("row_version"), py::arg("row_types"), py::arg("adds"), py::arg("epoch"),
           "UPDATE t SET c = c + $p ... WHERE key = $k ...: adds are (row column, parameter).");

  py::class_<InsertPlan, std::shared_ptr<InsertPlan>>(m, "InsertPlan")
      .def(py::init([](uint32_t table_id, bool hidden_rowid,
                       const std::vector<std::string>& key_types,
                       std::vector<uint32_t> key_params, uint32_t nparams, uint8_t row_version,
                       const std::vector<std::string>& row_types,
                       const std::vector<std::pair<int, uint32_t>>& values,
                       std::vector<bool> not_null, uint64_t epoch) {
             auto p = std::make_shared<InsertPlan>(InsertPlan{
                 storage::KeyLayout(table_id, key_columns(key_types)), hidden_rowid,
                 std::move(key_params), nparams, row_version,
                 storage::RowLayout(row_layout(row_types)), {}, std::move(not_null), epoch});
             for (const auto& [source, param] : values) {
               if (source < 0 || source > 2) throw py::value_error("source: 0 NULL, 1 param, 2 now");
               p->values.push_back({static_cast<InsertPlan::Source>(source), param});
             }
             p->validate();
             return p;
           }),
           py::arg("table_id"), py::arg("hidden_rowid"), py::arg("key_types"),
           py::arg("key_params"), py::arg("nparams"), py::arg("row_version"),
           py::arg("row_types"), py::arg("values"), py::arg("not_null"), py::arg("epoch"),
           "INSERT of one row: per row column (source 0 NULL | 1 parameter | 2 now(), param).");

  m.def("bytes_repr", [](py::bytes b) {
    std::string out;
    append_bytes_repr(std::string_view(b), &out);
    return out;
  }, py::arg("data"), "repr(data) as the kernel writes it (tests compare it with Python's).");

  m.def("normalize", [](const std::string& sql) -> py::object {
    Normalized n;
    if (!normalize(sql, &n)) return py::none();
    return py::make_tuple(n.text, n.values, n.oids);
  }, py::arg("sql"), "(normalized text, integer values, their type oids), or None.");

  py::class_<FastConn>(m, "FastConn")
      .def(py::init<std::shared_ptr<FastPath>>(), py::arg("fast"))
      .def("add_query", &FastConn::add_query, py::arg("normalized_text"), py::arg("plan"))
      .def("add_statement", &FastConn::add_statement, py::arg("name"), py::arg("plan"),
           py::arg("param_oids"))
      .def("add_begin",
           [](FastConn& c, const std::string& name, uint64_t max_rows, uint64_t max_bytes,
              int64_t max_age_ns, uint64_t txn_keys_max, uint64_t record_bytes_max,
              uint64_t write_overhead_bytes) {
             c.add_begin(name, LaneLimits{max_rows, max_bytes, max_age_ns, txn_keys_max,
                                          record_bytes_max, write_overhead_bytes});
           },
           py::arg("name"), py::arg("max_rows"), py::arg("max_bytes"), py::arg("max_age_ns"),
           py::arg("txn_keys_max"), py::arg("record_bytes_max"),
           py::arg("write_overhead_bytes"))
      .def("add_commit", &FastConn::add_commit, py::arg("name"))
      .def("add_update", &FastConn::add_update, py::arg("name"), py::arg("plan"),
           py::arg("param_oids"))
      .def("add_insert", &FastConn::add_insert, py::arg("name"), py::arg("plan"),
           py::arg("param_oids"))
      .def_property_readonly("in_txn", [](const FastConn& c) { return c.txn().open(); },
                             "Whether the lane holds an open transaction (any thread).")
      .def_property_readonly("last_served_s",
                             [](const FastConn& c) { return c.last_served_ns() / 1e9; },
                             "time.monotonic() of the last group served, 0.0 if none (any "
                             "thread).")
      .def("handover", &handover,
           "The lane's open transaction, taken over by the caller (the lane forgets it): "
           "(start_ts, wall_ns, monotonic_ns, [(key, value)], [(key, kind)], failure), or None "
           "when none is open. failure: None; ('result', adjudicator result tuple) when the "
           "adjudicator refused its COMMIT; or (error class name, message) when the commit "
           "path raised.")
      .def("clear_statements", &FastConn::clear_statements)
      .def("clear", &FastConn::clear)
      .def_property_readonly("query_count", &FastConn::query_count)
      .def_property_readonly("statement_count", &FastConn::statement_count)
      .def_property_readonly("served", [](const FastConn& c) { return c.stats().served; })
      .def_property_readonly("refused", [](const FastConn& c) { return c.stats().refused; })
      .def("answer", [](FastConn& c, py::bytes data) -> py::object {
        std::string out;
        if (!c.serve(std::string_view(data), &out)) return py::none();
        return py::bytes(out);
      }, py::arg("data"), "The replies to `data`, or None when the fast path refuses it.")
      .def("serve", [](FastConn& c, py::handle data, int fd) -> py::object {
        char* p = nullptr;
        Py_ssize_t n = 0;
        if (PyBytes_AsStringAndSize(data.ptr(), &p, &n) != 0) throw py::error_already_set();
        std::string out;
        if (!c.serve(std::string_view(p, static_cast<size_t>(n)), &out)) return py::none();
        const size_t sent = send_now(fd, out);
        return py::bytes(out.data() + sent, out.size() - sent);
      }, py::arg("data"), py::arg("fd"),
      "Answers `data` and sends the replies on fd without blocking: None when refused (nothing "
      "sent), else the bytes that could not be sent yet (b'' when all went out).");

  m.def("send_now", [](int fd, py::buffer data) -> size_t {
        const py::buffer_info b = data.request();
        if (fd < 0) throw py::value_error("fd must be >= 0");
        if (b.ndim != 1 || b.itemsize != 1) throw py::value_error("data must be bytes-like");
        return send_now(fd, std::string_view(static_cast<const char*>(b.ptr),
                                             static_cast<size_t>(b.size)));
      }, py::arg("fd"), py::arg("data"),
      "Sends what the socket takes now, without blocking; returns the bytes sent (0 on EAGAIN "
      "or an error, which the caller's blocking writer then reports). The GIL is kept: the "
      "call never waits, and giving the GIL up for it would make this thread queue for it "
      "again behind other connections' statements.");

  py::class_<SocketReader>(m, "SocketReader")
      .def(py::init<int, int>(), py::arg("fd"), py::arg("wake_fd"))
      .def("next", [](SocketReader& r, FastConn* fast, int timeout_ms) {
        if (timeout_ms < 0) throw py::value_error("timeout_ms must be >= 0");
        SocketReader::Result got;
        {
          py::gil_scoped_release unlocked;
          got = r.next(fast, timeout_ms);
        }
        return py::make_tuple(static_cast<int>(got.event), py::bytes(got.bytes));
      }, py::arg("fast").none(true), py::arg("timeout_ms"),
      "(event, bytes): event 0 data, 1 end of input, 2 woken, 3 timeout, 4 unsent reply. The "
      "GIL is released while waiting and while the fast path answers.");
  m.attr("READ_DATA") = static_cast<int>(SocketReader::Event::kData);
  m.attr("READ_EOF") = static_cast<int>(SocketReader::Event::kEof);
  m.attr("READ_WAKE") = static_cast<int>(SocketReader::Event::kWake);
  m.attr("READ_TIMEOUT") = static_cast<int>(SocketReader::Event::kTimeout);
  m.attr("READ_UNSENT") = static_cast<int>(SocketReader::Event::kUnsent);
}

}  // namespace

DSQL_REGISTER_BINDINGS(wire, bind);

}  // namespace dsql::wire
