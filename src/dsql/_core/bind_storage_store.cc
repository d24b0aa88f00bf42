// pybind11 bindings for the multi-version store: MvccStore and ShardMap, registered into the
// submodule dsql._core._kernels.storage.
//
// Batch methods take and return Python lists and cross into C++ once per batch. The per-item
// work (reading bytes keys, building result bytes and tuples) uses the CPython API directly.
// The GIL is released while a read waits for the watermark, around batches above a small size,
// and around every write-side call (apply, advance_watermark, gc, checkpoint, load), which may
// wait for the store's writer lock. Before the GIL is released, the inputs are pinned in a
// tuple the binding owns, so another thread cannot free a key's bytes under the C++ code.
//
// Thread-safety: the C++ objects are thread-safe (see mvcc_store.h, shard_map.h); the binding
// touches Python objects only while holding the GIL.
// Invariants:
//   1. A string_view into a ReadView's generation is turned into bytes before that view dies.
//   2. No Python object is touched while the GIL is released.
#include <Python.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bindings.h"
#include "storage/mvcc_store.h"
#include "storage/shard_map.h"

namespace py = pybind11;

namespace dsql::storage {
namespace {

constexpr size_t kReleaseGilKeys = 256;  // batch sizes from which the GIL is released
constexpr size_t kReleaseGilRows = 256;
constexpr size_t kReserveRowsMax = 4096;

std::string_view bytes_view(PyObject* obj, const char* what, Py_ssize_t index) {
  if (!PyBytes_Check(obj)) {
    std::string msg = std::string(what);
    if (index >= 0) msg += "[" + std::to_string(index) + "]";
    msg += " must be bytes, not " + std::string(Py_TYPE(obj)->tp_name);
    throw py::type_error(msg);
  }
  return {PyBytes_AS_STRING(obj), static_cast<size_t>(PyBytes_GET_SIZE(obj))};
}

PyObject* to_bytes_or_none(std::string_view v) {
  if (v.data() == nullptr) {
    Py_INCREF(Py_None);
    return Py_None;
  }
  PyObject* out = PyBytes_FromStringAndSize(v.data(), static_cast<Py_ssize_t>(v.size()));
  if (out == nullptr) throw py::error_already_set();
  return out;
}

// A list or tuple pinned as a tuple (a list could change while the GIL is released).
py::tuple pinned_sequence(py::handle seq, const char* what) {
  if (PyTuple_Check(seq.ptr())) return py::reinterpret_borrow<py::tuple>(seq);
  if (!PyList_Check(seq.ptr())) {
    throw py::type_error(std::string(what) + " must be a list, not " + Py_TYPE(seq.ptr())->tp_name);
  }
  PyObject* t = PyList_AsTuple(seq.ptr());
  if (t == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::tuple>(t);
}

// Parses [(key, value | None), ...]; the views point into `pinned`, which the caller keeps.
std::vector<WriteView> parse_writes(const py::tuple& pinned) {
  const Py_ssize_t n = PyTuple_GET_SIZE(pinned.ptr());
  std::vector<WriteView> out(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* pair = PyTuple_GET_ITEM(pinned.ptr(), i);
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      throw py::type_error("writes[" + std::to_string(i) + "] must be a (key, value) tuple");
    }
    WriteView& w = out[static_cast<size_t>(i)];
    w.key = bytes_view(PyTuple_GET_ITEM(pair, 0), "write key", i);
    PyObject* value = PyTuple_GET_ITEM(pair, 1);
    if (value == Py_None) {
      w.tombstone = true;
    } else {
      w.value = bytes_view(value, "write value", i);
    }
  }
  return out;
}

int64_t check_limit(int64_t limit) {
  if (limit < 1) throw py::value_error("scan limit must be >= 1");
  return limit;
}

std::string fspath(py::handle path) {
  py::object s = py::module_::import("os").attr("fspath")(path);
  if (!py::isinstance<py::str>(s)) throw py::type_error("path must be a str or os.PathLike[str]");
  return s.cast<std::string>();
}

py::dict stats_dict(const StoreStats& s) {
  py::dict d;
  d["keys"] = s.keys;
  d["versions"] = s.versions;
  d["live_bytes"] = s.live_bytes;
  d["allocated_bytes"] = s.allocated_bytes;
  d["arena_used_bytes"] = s.arena_used_bytes;
  d["index_bytes"] = s.index_bytes;
  d["watermark"] = s.watermark;
  d["horizon"] = s.horizon;
  d["generation"] = s.generation;
  return d;
}

py::dict gc_dict(const GcResult& r) {
  py::dict d;
  d["rebuilt"] = r.rebuilt;
  d["keys_dropped"] = r.keys_dropped;
  d["versions_dropped"] = r.versions_dropped;
  d["allocated_bytes_before"] = r.allocated_bytes_before;
  d["allocated_bytes_after"] = r.allocated_bytes_after;
  return d;
}

py::dict checkpoint_dict(const CheckpointInfo& c) {
  py::dict d;
  d["ts"] = c.ts;
  d["records"] = c.records;
  d["blocks"] = c.blocks;
  d["file_bytes"] = c.file_bytes;
  return d;
}

// ---- reads, shared by MvccStore (ReadView) and ShardMap (MapView) ----------------------------

ReadView open_view(const MvccStore& s, int64_t ts) {
  if (s.watermark() < ts) {
    py::gil_scoped_release release;
    s.await_watermark(ts);
  }
  return s.view_settled(ts);
}

MapView open_view(const ShardMap& m, int64_t ts) {
  if (m.watermark() < ts) {
    py::gil_scoped_release release;
    m.await_watermark(ts);
  }
  return m.view(ts);  // no wait left to do
}

template <typename Store>
py::object get_one(const Store& s, py::handle key, int64_t ts) {
  const std::string_view k = bytes_view(key.ptr(), "key", -1);
  const auto view = open_view(s, ts);
  return py::reinterpret_steal<py::object>(to_bytes_or_none(view.get(k)));
}

template <typename Store>
py::list get_many(const Store& s, py::handle keys, int64_t ts) {
  if (!PyList_Check(keys.ptr()) && !PyTuple_Check(keys.ptr())) {
    throw py::type_error(std::string("keys must be a list of bytes, not ") + Py_TYPE(keys.ptr())->tp_name);
  }
  const size_t n = static_cast<size_t>(Py_SIZE(keys.ptr()));
  const bool release = n >= kReleaseGilKeys;
  py::tuple pinned;
  PyObject* const* items;
  if (release || PyTuple_Check(keys.ptr())) {
    pinned = pinned_sequence(keys, "keys");
    items = &PyTuple_GET_ITEM(pinned.ptr(), 0);
  } else {
    items = PySequence_Fast_ITEMS(keys.ptr());
  }
  std::vector<std::string_view> kv(n);
  for (size_t i = 0; i < n; ++i) kv[i] = bytes_view(items[i], "keys", static_cast<Py_ssize_t>(i));
  std::vector<std::string_view> found(n);
  const auto view = open_view(s, ts);
  if (release) {
    py::gil_scoped_release unlocked;
    view.get_many(kv.data(), n, found.data());
  } else {
    view.get_many(kv.data(), n, found.data());
  }
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(n));
  if (list == nullptr) throw py::error_already_set();
  py::list out = py::reinterpret_steal<py::list>(list);
  for (size_t i = 0; i < n; ++i) PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), to_bytes_or_none(found[i]));
  return out;
}

template <typename Store>
py::tuple scan(const Store& s, py::handle lo_obj, py::handle hi_obj, int64_t ts, int64_t limit,
               bool reverse) {
  const std::string_view lo = bytes_view(lo_obj.ptr(), "lo", -1);
  const std::string_view hi = bytes_view(hi_obj.ptr(), "hi", -1);
  const size_t lim = static_cast<size_t>(check_limit(limit));
  const auto view = open_view(s, ts);
  std::vector<Row> rows;
  rows.reserve(std::min(lim, kReserveRowsMax));
  std::string resume;
  bool more;
  if (lim >= kReleaseGilRows) {
    // lo/hi point into bytes objects the caller's frame holds for the whole call.
    py::gil_scoped_release unlocked;
    more = view.scan(lo, hi, lim, reverse, &rows, &resume);
  } else {
    more = view.scan(lo, hi, lim, reverse, &rows, &resume);
  }
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(rows.size()));
  if (list == nullptr) throw py::error_already_set();
  py::list out = py::reinterpret_steal<py::list>(list);
  for (size_t i = 0; i < rows.size(); ++i) {
    PyObject* k = PyBytes_FromStringAndSize(rows[i].key.data(), static_cast<Py_ssize_t>(rows[i].key.size()));
    PyObject* v = PyBytes_FromStringAndSize(rows[i].value.data(), static_cast<Py_ssize_t>(rows[i].value.size()));
    PyObject* pair = PyTuple_New(2);
    if (k == nullptr || v == nullptr || pair == nullptr) {
      Py_XDECREF(k);
      Py_XDECREF(v);
      Py_XDECREF(pair);
      throw py::error_already_set();
    }
    PyTuple_SET_ITEM(pair, 0, k);
    PyTuple_SET_ITEM(pair, 1, v);
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), pair);
  }
  py::object resume_obj = more ? py::object(py::bytes(resume)) : py::object(py::none());
  return py::make_tuple(out, resume_obj);
}

template <typename Store>
void apply(Store& s, int64_t commit_ts, py::handle writes) {
  const py::tuple pinned = pinned_sequence(writes, "writes");
  const std::vector<WriteView> w = parse_writes(pinned);
  py::gil_scoped_release unlocked;  // `pinned` keeps every key and value alive meanwhile
  s.apply(commit_ts, w.data(), w.size());
}

template <typename Store>
void advance_watermark(Store& s, int64_t ts) {
  py::gil_scoped_release unlocked;
  s.advance_watermark(ts);
}

template <typename Store>
py::dict gc(Store& s, int64_t horizon) {
  GcResult r;
  {
    py::gil_scoped_release unlocked;
    r = s.gc(horizon);
  }
  return gc_dict(r);
}

template <typename Cls>
void bind_common(Cls& cls) {
  using Store = typename Cls::type;
  cls.def("wait_for_watermark",
          [](const Store& s, int64_t ts, int64_t timeout_ns) {
            py::gil_scoped_release unlocked;
            return s.wait_for_watermark(ts, timeout_ns);
          },
          py::arg("ts"), py::arg("timeout_ns"),
          "Waits (GIL released) until the watermark reaches ts; False if timeout_ns passed.");
  cls.def("get", &get_one<Store>, py::arg("key"), py::arg("ts"),
          "The value of key as of ts, or None.")
      .def("get_many", &get_many<Store>, py::arg("keys"), py::arg("ts"),
           "Values of a list of keys as of ts (None where absent), in one call.")
      .def("scan", &scan<Store>, py::arg("lo"), py::arg("hi"), py::arg("ts"), py::arg("limit"),
           py::arg("reverse") = false,
           "Rows of [lo, hi) as of ts (hi=b'' is unbounded), at most limit, as "
           "([(key, value), ...], resume); resume is None when the range is exhausted, else the "
           "lo (forward) or hi (reverse) of the next call.")
      .def("apply", &apply<Store>, py::arg("commit_ts"), py::arg("writes"),
           "Apply one transaction's writes [(key, value | None), ...] at commit_ts "
           "(> watermark).")
      .def("advance_watermark", &advance_watermark<Store>, py::arg("ts"))
      .def_property_readonly("watermark", &Store::watermark)
      .def_property_readonly("horizon", &Store::horizon)
      .def("gc", &gc<Store>, py::arg("horizon"))
      .def("stats", [](const Store& s) { return stats_dict(s.stats()); })
      .def_property("read_wait_timeout_ns", &Store::read_wait_timeout_ns,
                    &Store::set_read_wait_timeout_ns);
}

void bind(py::module_& m) {
  py::object dsql_error = py::module_::import("dsql.errors").attr("DsqlError");
  auto storage_error = py::register_exception<StorageError>(m, "StorageError", dsql_error.ptr());
  storage_error.attr("sqlstate") = "XX000";
  auto timeout = py::register_exception<WatermarkTimeout>(m, "WatermarkTimeout", storage_error.ptr());
  timeout.attr("sqlstate") = "57014";  // query_canceled, as for a statement timeout
  auto too_old = py::register_exception<SnapshotTooOld>(m, "SnapshotTooOld", storage_error.ptr());
  too_old.attr("sqlstate") = "72000";  // snapshot_too_old
  auto corrupt = py::register_exception<CheckpointError>(m, "CheckpointError", storage_error.ptr());
  corrupt.attr("sqlstate") = "XX001";  // data_corrupted

  m.attr("MAX_KEY_BYTES") = kMaxKeyBytes;
  m.attr("MAX_VALUE_BYTES") = kMaxValueBytes;

  py::class_<MvccStore, std::shared_ptr<MvccStore>> store(m, "MvccStore");
  store.def(py::init([](int64_t initial_watermark, int64_t read_wait_timeout_ns) {
              StoreOptions o;
              o.initial_watermark = initial_watermark;
              o.read_wait_timeout_ns = read_wait_timeout_ns;
              return std::make_shared<MvccStore>(o);
            }),
            py::arg("initial_watermark") = 0, py::arg("read_wait_timeout_ns") = 10'000'000'000);
  bind_common(store);
  store
      .def("_capsule", [](MvccStore& s) { return py::capsule(&s, "dsql.storage.MvccStore"); })
      .def("checkpoint",
           [](const MvccStore& s, py::handle path, int64_t ts) {
             const std::string p = fspath(path);
             CheckpointInfo info;
             {
               py::gil_scoped_release unlocked;
               info = s.checkpoint(p, ts);
             }
             return checkpoint_dict(info);
           },
           py::arg("path"), py::arg("ts"))
      .def("load",
           [](MvccStore& s, py::handle path) {
             const std::string p = fspath(path);
             CheckpointInfo info;
             {
               py::gil_scoped_release unlocked;
               info = s.load(p);
             }
             return checkpoint_dict(info);
           },
           py::arg("path"));

  py::class_<ShardMap, std::shared_ptr<ShardMap>> map(m, "ShardMap");
  map.def(py::init([](int64_t initial_watermark, int64_t read_wait_timeout_ns) {
            StoreOptions o;
            o.initial_watermark = initial_watermark;
            o.read_wait_timeout_ns = read_wait_timeout_ns;
            return std::make_shared<ShardMap>(o);
          }),
          py::arg("initial_watermark") = 0, py::arg("read_wait_timeout_ns") = 10'000'000'000);
  bind_common(map);
  map.def("_capsule", [](ShardMap& s) { return py::capsule(&s, "dsql.storage.ShardMap"); })
      .def_property_readonly("shard_count", &ShardMap::shard_count)
      .def("lower_bounds",
           [](const ShardMap& s) {
             py::list out;
             for (const std::string& b : s.lower_bounds()) out.append(py::bytes(b));
             return out;
           })
      .def("route",
           [](const ShardMap& s, py::handle key) {
             return s.route(bytes_view(key.ptr(), "key", -1));
           },
           py::arg("key"))
      .def("split",
           [](ShardMap& s, py::handle key) {
             const std::string k(bytes_view(key.ptr(), "key", -1));
             py::gil_scoped_release unlocked;
             return s.split(k);
           },
           py::arg("at_key"), "Split the shard owning at_key; returns the new shard's index.")
      .def("checkpoint_shard",
           [](const ShardMap& s, size_t i, py::handle path, int64_t ts) {
             const std::string p = fspath(path);
             CheckpointInfo info;
             {
               py::gil_scoped_release unlocked;
               info = s.checkpoint_shard(i, p, ts);
             }
             return checkpoint_dict(info);
           },
           py::arg("index"), py::arg("path"), py::arg("ts"))
      .def("load_shards",
           [](ShardMap& s, py::list shards) {
             std::vector<std::pair<std::string, std::string>> files;
             for (py::handle item : shards) {
               auto pair = item.cast<py::tuple>();
               if (pair.size() != 2) throw py::value_error("load_shards takes (lower, path) pairs");
               files.emplace_back(std::string(bytes_view(pair[0].ptr(), "lower", -1)),
                                  fspath(pair[1]));
             }
             py::gil_scoped_release unlocked;
             s.load_shards(files);
           },
           py::arg("shards"), "Load an empty map's shards from [(lower bound, path)] files.")
      .def("shard_stats", [](const ShardMap& s) {
        py::list out;
        for (const StoreStats& st : s.shard_stats()) out.append(stats_dict(st));
        return out;
      });
}

}  // namespace
}  // namespace dsql::storage

DSQL_REGISTER_BINDINGS(storage, dsql::storage::bind);
