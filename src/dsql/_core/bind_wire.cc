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
#include "wire/point_query.h"
#include "wire/socket_reader.h"

namespace py = pybind11;

namespace dsql::wire {
namespace {

storage::TypeId type_of(const std::string& name) {
  const auto t = storage::type_from_name(name);
  if (!t) throw py::value_error("unknown codec type " + name);
  return *t;
}

using FieldTuple = std::tuple<std::string, uint32_t, int16_t, uint32_t, int16_t, int32_t>;

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
      .def("bump_epoch", &FastPath::bump_epoch);

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
