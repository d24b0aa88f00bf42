// pybind11 bindings for the node's commit kernels (cpp/node/): the Sequencer and the CommitPath,
// in dsql._core._kernels.node. The typed face is src/dsql/node/node.py.
//
// GIL rule: no thread ever blocks on the sequencer's mutex while holding the GIL. Every
// Sequencer method releases the GIL before it locks, and a Python callback (next_lsn,
// promise_through, decide's adjudication) takes the GIL back for its call only. So a thread
// that holds the mutex and waits for the GIL always gets it.
//
// CommitPath.commit / commit_one read their arguments with the GIL held (claim keys are copied
// into a thread-local buffer; a writes list is pinned as a tuple so that its bytes stay alive),
// frame the journal record, then release the GIL for the whole decide-append-apply-advance.
// A commit that the adjudicator does not accept returns the adjudicator's result tuple
// (outcome, commit_ts, key_index, mine, theirs, pending, other_txn), as
// Adjudicator.adjudicate does; a committed one returns its commit ts (an int).
//
// Thread-safety: as the kernels (any thread); Python objects are touched only with the GIL.
// Invariants:
//   1. No string_view handed to the kernels outlives the Python object it points into: the
//      objects are arguments of the running call or held by a pinned tuple the call owns.
//   2. The Python objects captured by callbacks are released only with the GIL held (the
//      Sequencer is destroyed by its Python owner's deallocation).
#include <Python.h>
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adjudicator/adjudicator.h"
#include "adjudicator/shard_map.h"
#include "bindings.h"
#include "journal/journal.h"
#include "node/commit_path.h"
#include "node/sequencer.h"
#include "storage/shard_map.h"

namespace py = pybind11;

namespace dsql::node {
namespace {

using adjudicator::Kind;
using adjudicator::KeyWrite;
using adjudicator::TxnResult;

// A Python callable kept for calls from C++ threads that may not hold the GIL.
std::shared_ptr<py::object> hold(py::object fn) {
  if (!PyCallable_Check(fn.ptr())) throw py::type_error("a callback must be callable");
  return std::shared_ptr<py::object>(new py::object(std::move(fn)), [](py::object* o) {
    py::gil_scoped_acquire gil;  // invariant 2, whichever thread drops the last reference
    delete o;
  });
}

std::shared_ptr<Sequencer> python_sequencer(int64_t watermark, py::object next_lsn,
                                            py::object promise_through) {
  auto nl = hold(std::move(next_lsn));
  auto pt = hold(std::move(promise_through));
  return std::make_shared<Sequencer>(
      watermark,
      [nl]() -> uint64_t {
        py::gil_scoped_acquire gil;
        return (*nl)().cast<uint64_t>();
      },
      [pt](int64_t ts) -> int64_t {
        py::gil_scoped_acquire gil;
        return (*pt)(ts).cast<int64_t>();
      });
}

// The sequencer of a node: next_lsn from the journal, promises from the adjudicator (single or
// sharded), all in C++. The Python objects are kept alive by the binding (keep_alive).
std::shared_ptr<Sequencer> kernel_sequencer(int64_t watermark, py::handle journal_obj,
                                            py::handle adjudicator_obj) {
  auto journal = journal_obj.cast<std::shared_ptr<journal::Journal>>();
  Sequencer::NextLsn next_lsn = [journal]() { return journal->durable_lsn() + 1; };
  Sequencer::PromiseThrough promise;
  if (py::isinstance<adjudicator::Adjudicator>(adjudicator_obj)) {
    auto* adj = adjudicator_obj.cast<adjudicator::Adjudicator*>();
    promise = [adj](int64_t ts) { return adj->promise_through(ts); };
  } else if (py::isinstance<adjudicator::AdjudicatorShardMap>(adjudicator_obj)) {
    auto* adj = adjudicator_obj.cast<adjudicator::AdjudicatorShardMap*>();
    promise = [adj](int64_t ts) { return adj->promise_through(ts); };
  } else {
    throw py::type_error("adjudicator must be an Adjudicator or an AdjudicatorShardMap");
  }
  return std::make_shared<Sequencer>(watermark, std::move(next_lsn), std::move(promise));
}

Kind to_kind(PyObject* o) {
  const long k = PyLong_AsLong(o);
  if (k == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::type_error("a claim's kind must be an int");
  }
  if (k < 0 || k >= adjudicator::kKindCount) {
    throw py::value_error("kind must be 0 (keyshare), 1 (nonkey) or 2 (full), not " +
                          std::to_string(k));
  }
  return static_cast<Kind>(k);
}

std::string_view bytes_view(PyObject* o, const char* what) {
  if (!PyBytes_Check(o)) {
    throw py::type_error(std::string(what) + " must be bytes, not " + Py_TYPE(o)->tp_name);
  }
  return {PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o))};
}

// The claims of one call, copied (a claims list could change while the GIL is released).
struct ClaimScratch {
  std::string bytes;
  std::vector<size_t> offsets;
  std::vector<Kind> kinds;
  std::vector<KeyWrite> claims;

  void parse(py::handle seq) {
    bytes.clear();
    offsets.clear();
    kinds.clear();
    claims.clear();
    py::object fast = py::reinterpret_steal<py::object>(
        PySequence_Fast(seq.ptr(), "claims must be a sequence of (key, kind) pairs"));
    if (!fast) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.ptr());
    PyObject** items = PySequence_Fast_ITEMS(fast.ptr());
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* pair = items[i];
      if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
        throw py::type_error("each claim must be a (key: bytes, kind: int) tuple");
      }
      const std::string_view key = bytes_view(PyTuple_GET_ITEM(pair, 0), "a claim's key");
      kinds.push_back(to_kind(PyTuple_GET_ITEM(pair, 1)));
      offsets.push_back(bytes.size());
      bytes.append(key);
    }
    offsets.push_back(bytes.size());
    // Views only once `bytes` no longer grows.
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
      claims.push_back(KeyWrite{std::string_view(bytes).substr(offsets[i],
                                                               offsets[i + 1] - offsets[i]),
                                kinds[i]});
    }
    assert(claims.size() == static_cast<size_t>(n));
  }
};

thread_local ClaimScratch tls_claims;

py::object outcome(const TxnResult& r) {
  if (r.outcome == adjudicator::Outcome::kCommitted) return py::int_(r.commit_ts);
  return py::make_tuple(static_cast<int>(r.outcome), r.commit_ts, r.key_index,
                        static_cast<int>(r.mine), static_cast<int>(r.theirs), r.pending,
                        r.other_txn);
}

py::object commit_many(CommitPath& path, int64_t start_ts, py::handle writes,
                       py::handle claims) {
  // Invariant 1: the keys and values are viewed in a tuple this call owns.
  py::tuple pinned;
  if (PyTuple_Check(writes.ptr())) {
    pinned = py::reinterpret_borrow<py::tuple>(writes);
  } else if (PyList_Check(writes.ptr())) {
    pinned = py::reinterpret_steal<py::tuple>(PyList_AsTuple(writes.ptr()));
    if (!pinned) throw py::error_already_set();
  } else {
    throw py::type_error("writes must be a list or tuple of (key, value) pairs");
  }
  const Py_ssize_t n = PyTuple_GET_SIZE(pinned.ptr());
  std::vector<journal::WriteView> jw(static_cast<size_t>(n));
  std::vector<storage::WriteView> sw(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* pair = PyTuple_GET_ITEM(pinned.ptr(), i);
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      throw py::type_error("write " + std::to_string(i) +
                           " must be a (key, value) tuple; value None deletes the key");
    }
    const size_t k = static_cast<size_t>(i);
    jw[k].key = sw[k].key = bytes_view(PyTuple_GET_ITEM(pair, 0), "a write's key");
    PyObject* value = PyTuple_GET_ITEM(pair, 1);
    jw[k].tombstone = sw[k].tombstone = value == Py_None;
    if (value != Py_None) jw[k].value = sw[k].value = bytes_view(value, "a write's value");
  }
  journal::EncodedRecord record = path.journal().encode(0, jw.data(), jw.size());
  ClaimScratch& c = tls_claims;
  c.parse(claims);
  TxnResult r;
  {
    py::gil_scoped_release unlocked;
    r = path.commit(start_ts, c.claims, std::move(record), sw.data(), sw.size());
  }
  return outcome(r);
}

py::object commit_one(CommitPath& path, int64_t start_ts, py::handle key_obj,
                      py::handle value_obj, int kind, py::handle share_key_obj) {
  // Invariant 1: key, value and share_key are arguments of this call.
  const std::string_view key = bytes_view(key_obj.ptr(), "key");
  const std::string_view value = bytes_view(value_obj.ptr(), "value");
  const std::string_view share_key = bytes_view(share_key_obj.ptr(), "share_key");
  if (kind < 0 || kind >= adjudicator::kKindCount) {
    throw py::value_error("kind must be 0 (keyshare), 1 (nonkey) or 2 (full), not " +
                          std::to_string(kind));
  }
  const Kind k = static_cast<Kind>(kind);
  const KeyWrite claims[2] = {KeyWrite{key, k}, KeyWrite{share_key, Kind::kKeyShare}};
  const journal::WriteView jw{key, value, false};
  const storage::WriteView sw{key, value, false};
  journal::EncodedRecord record = path.journal().encode(0, &jw, 1);
  TxnResult r;
  {
    py::gil_scoped_release unlocked;
    r = path.commit(start_ts, claims, std::move(record), &sw, 1);
  }
  return outcome(r);
}

// ---- commit_one without pybind11's dispatcher --------------------------------------------------
// The autocommit single-row UPDATE calls commit_one once per statement; a METH_FASTCALL builtin
// bound to the CommitPath (through a capsule that shares its ownership) skips the generic
// dispatcher's argument vectors and overload loop. Errors map as pybind11 maps them.

constexpr const char* kPathCapsule = "dsql.node.CommitPath";
PyObject* g_apply_failed = nullptr;  // the registered ApplyFailed type (a module attribute)

// The Python error for the exception being handled; returns nullptr (the error indicator).
PyObject* set_python_error() {
  try {
    throw;
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const ApplyFailed& e) {
    PyErr_SetString(g_apply_failed, e.what());
  } catch (const journal::JournalError& e) {
    const char* name =
        dynamic_cast<const journal::JournalCorruption*>(&e) ? "JournalCorruption" : "JournalError";
    py::object type = py::module_::import("dsql._core._kernels").attr("journal").attr(name);
    PyErr_SetString(type.ptr(), e.what());
  } catch (const std::invalid_argument& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  assert(PyErr_Occurred());
  return nullptr;
}

PyObject* fast_commit_one(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  auto* path = static_cast<std::shared_ptr<CommitPath>*>(PyCapsule_GetPointer(self, kPathCapsule));
  if (path == nullptr) return nullptr;
  if (nargs != 5) {
    PyErr_SetString(PyExc_TypeError,
                    "commit_one() takes (start_ts, key, value, kind, share_key)");
    return nullptr;
  }
  const long long start_ts = PyLong_AsLongLong(args[0]);
  if (start_ts == -1 && PyErr_Occurred()) return nullptr;
  const long kind = PyLong_AsLong(args[3]);
  if (kind == -1 && PyErr_Occurred()) return nullptr;
  if (kind < 0 || kind >= adjudicator::kKindCount) {
    PyErr_Format(PyExc_ValueError, "kind must be 0 (keyshare), 1 (nonkey) or 2 (full), not %ld",
                 kind);
    return nullptr;
  }
  try {
    return commit_one(**path, start_ts, args[1], args[2], static_cast<int>(kind), args[4])
        .release()
        .ptr();
  } catch (...) {
    return set_python_error();
  }
}

PyMethodDef g_fast_commit_one_def = {
    "commit_one", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast_commit_one)),
    METH_FASTCALL, "CommitPath.commit_one(start_ts, key, value, kind, share_key), bound."};

py::object bound_commit_one(const std::shared_ptr<CommitPath>& path) {
  auto* held = new std::shared_ptr<CommitPath>(path);
  PyObject* capsule = PyCapsule_New(held, kPathCapsule, [](PyObject* c) {
    delete static_cast<std::shared_ptr<CommitPath>*>(PyCapsule_GetPointer(c, kPathCapsule));
  });
  if (capsule == nullptr) {
    delete held;
    throw py::error_already_set();
  }
  const py::object owner = py::reinterpret_steal<py::object>(capsule);
  PyObject* fn = PyCFunction_NewEx(&g_fast_commit_one_def, capsule, nullptr);
  if (fn == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(fn);
}

void bind(py::module_& m) {
  m.doc() = "The node's commit kernels: the sequencer and the one-call commit path.";
  g_apply_failed = py::register_exception<ApplyFailed>(m, "ApplyFailed", PyExc_RuntimeError).ptr();
  Py_INCREF(g_apply_failed);  // held for the life of the process, as the module holds it
  m.attr("NO_COMMIT") = Sequencer::kNoCommit;

  py::class_<Sequencer, std::shared_ptr<Sequencer>>(m, "Sequencer", py::dynamic_attr())
      .def(py::init(&python_sequencer), py::arg("watermark"), py::arg("next_lsn"),
           py::arg("promise_through"),
           "A sequencer over Python callbacks next_lsn() -> int and promise_through(ts) -> int.")
      .def_static("for_kernels", &kernel_sequencer, py::arg("watermark"), py::arg("journal"),
                  py::arg("adjudicator"), py::keep_alive<0, 2>(), py::keep_alive<0, 3>(),
                  "The sequencer of a node: next_lsn from the kernel Journal, promises from the "
                  "kernel Adjudicator or AdjudicatorShardMap, without Python callbacks.")
      .def_property_readonly("watermark", &Sequencer::watermark)
      .def(
          "decide",
          [](Sequencer& s, py::object adjudicate) {
            py::object result;
            {
              py::gil_scoped_release unlocked;
              s.decide([&]() -> int64_t {
                py::gil_scoped_acquire gil;
                py::object out = adjudicate();
                if (!PyTuple_Check(out.ptr()) || PyTuple_GET_SIZE(out.ptr()) != 2) {
                  throw py::type_error("adjudicate() must return (result, commit_ts or None)");
                }
                result = py::reinterpret_borrow<py::object>(PyTuple_GET_ITEM(out.ptr(), 0));
                PyObject* ts = PyTuple_GET_ITEM(out.ptr(), 1);
                return ts == Py_None ? Sequencer::kNoCommit : py::cast<int64_t>(ts);
              });
            }
            return result;
          },
          py::arg("adjudicate"),
          "Runs adjudicate() -> (result, commit_ts or None) under the lock; a commit ts is "
          "registered as in flight before the lock is released. Returns result.")
      .def("journaled", &Sequencer::journaled, py::arg("commit_ts"), py::arg("lsn"),
           py::call_guard<py::gil_scoped_release>())
      .def("finish", &Sequencer::finish, py::arg("commit_ts"),
           py::call_guard<py::gil_scoped_release>(),
           "The commit is applied (or given up); returns the watermark it allows.")
      .def("promise", &Sequencer::promise, py::arg("ts"),
           py::call_guard<py::gil_scoped_release>(),
           "Makes ts readable now if nothing at or below it is in flight; whether it did.")
      .def("replay_point", &Sequencer::replay_point, py::call_guard<py::gil_scoped_release>(),
           "(watermark, the lowest lsn a replay must start from).")
      .def("in_flight", &Sequencer::in_flight, py::call_guard<py::gil_scoped_release>());

  py::class_<CommitPath, std::shared_ptr<CommitPath>>(m, "CommitPath")
      .def(py::init([](py::handle adj, std::shared_ptr<Sequencer> seq,
                       std::shared_ptr<journal::Journal> journal,
                       std::shared_ptr<storage::ShardMap> storage) {
             return std::make_shared<CommitPath>(adj.cast<adjudicator::Adjudicator*>(),
                                                 std::move(seq), std::move(journal),
                                                 std::move(storage));
           }),
           py::arg("adjudicator"), py::arg("sequencer"), py::arg("journal"),
           py::arg("storage"), py::keep_alive<1, 2>())
      .def("commit", &commit_many, py::arg("start_ts"), py::arg("writes"), py::arg("claims"),
           "Decides, journals and applies one transaction: writes [(key, value | None)], "
           "claims [(key, kind)]. Returns the commit ts, or the adjudicator's result tuple when "
           "it does not commit. Raises JournalError (not durable) or ApplyFailed (durable, not "
           "applied: stop the node).")
      .def("commit_one", &commit_one, py::arg("start_ts"), py::arg("key"), py::arg("value"),
           py::arg("kind"), py::arg("share_key"),
           "commit() of the single write (key, value) with claims [(key, kind), (share_key, "
           "KEYSHARE)], without building lists.")
      .def("bound_commit_one", &bound_commit_one,
           "commit_one as a builtin bound to this path, called without pybind11's dispatcher "
           "(the autocommit UPDATE's per-statement call).");
}

}  // namespace
}  // namespace dsql::node

DSQL_REGISTER_BINDINGS(node, dsql::node::bind);
