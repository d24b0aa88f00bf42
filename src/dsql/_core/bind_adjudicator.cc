// pybind11 bindings for the adjudicator (cpp/adjudicator/): the Adjudicator, the shard map, the
// vote's messages, and compact batch entry points.
//
// Batches cross from Python once: the keys of the whole batch are copied (with the GIL held)
// into one thread-local byte buffer, then the GIL is released while the C++ side decides.
// Results come back compact: an outcome byte per transaction, a list of commit timestamps, and
// details only for the transactions that hit a conflict.
//
// Result tuples (single transaction and structured batch):
//   (outcome, commit_ts, key_index, mine, theirs, pending, other_txn)
// outcome is the Outcome code (0 committed, 1 conflict, 2 too-old, 3 refused, 4 busy,
// 5 expired); key_index/mine/theirs/pending/other_txn describe a conflict (zeros otherwise).
#include <Python.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cassert>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "adjudicator/adjudicator.h"
#include "adjudicator/shard_map.h"
#include "bindings.h"
#include "clock/hybrid_clock.h"

namespace py = pybind11;

namespace dsql::adjudicator {
namespace {

// Batches at least this large give up the GIL while they are decided.
constexpr size_t kReleaseGilTxns = 8;

Kind to_kind(long long k) {
  if (k < 0 || k >= kKindCount) {
    throw py::value_error("kind must be 0 (keyshare), 1 (nonkey) or 2 (full), not " +
                          std::to_string(k));
  }
  return static_cast<Kind>(k);
}

long long as_int(PyObject* o, const char* what) {
  const long long v = PyLong_AsLongLong(o);
  if (v == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::type_error(std::string(what) + " must be an int");
  }
  return v;
}

uint64_t as_txn_id(PyObject* o) {
  const unsigned long long v = PyLong_AsUnsignedLongLong(o);
  if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::type_error("txn_id must be an int in [0, 2^64)");
  }
  return v;
}

// The keys and requests of one call, built under the GIL, read without it.
struct Scratch {
  std::string bytes;
  std::vector<size_t> offsets;
  std::vector<uint32_t> lengths;
  std::vector<Kind> kinds;
  std::vector<KeyWrite> writes;
  std::vector<uint64_t> txn_ids;
  std::vector<int64_t> starts;
  std::vector<uint32_t> counts;
  std::vector<TxnRequest> txns;
  std::vector<TxnResult> results;

  void clear() {
    bytes.clear();
    offsets.clear();
    lengths.clear();
    kinds.clear();
    writes.clear();
    txn_ids.clear();
    starts.clear();
    counts.clear();
    txns.clear();
    results.clear();
  }

  void add_key(PyObject* key, Kind kind) {
    if (!PyBytes_Check(key)) throw py::type_error("keys must be bytes");
    const Py_ssize_t n = PyBytes_GET_SIZE(key);
    offsets.push_back(bytes.size());
    lengths.push_back(static_cast<uint32_t>(n));
    bytes.append(PyBytes_AS_STRING(key), static_cast<size_t>(n));
    kinds.push_back(kind);
  }

  // Points the string_views into bytes once it no longer grows, then builds the requests.
  void finish() {
    writes.resize(offsets.size());
    for (size_t i = 0; i < offsets.size(); ++i) {
      writes[i] = KeyWrite{std::string_view(bytes.data() + offsets[i], lengths[i]), kinds[i]};
    }
    txns.resize(txn_ids.size());
    size_t at = 0;
    for (size_t i = 0; i < txn_ids.size(); ++i) {
      txns[i] = TxnRequest{txn_ids[i], starts[i],
                           std::span<const KeyWrite>(writes.data() + at, counts[i])};
      at += counts[i];
    }
    assert(at == writes.size());
    results.resize(txns.size());
  }
};

thread_local Scratch tls_scratch;

// Reads [(key, kind), ...] into the scratch; returns how many writes.
uint32_t add_writes(Scratch& s, PyObject* seq) {
  PyObject* fast = PySequence_Fast(seq, "writes must be a sequence of (key, kind) pairs");
  if (fast == nullptr) throw py::error_already_set();
  const py::object owner = py::reinterpret_steal<py::object>(fast);
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  PyObject** items = PySequence_Fast_ITEMS(fast);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* pair = items[i];
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      throw py::type_error("each write must be a (key: bytes, kind: int) tuple");
    }
    s.add_key(PyTuple_GET_ITEM(pair, 0), to_kind(as_int(PyTuple_GET_ITEM(pair, 1), "kind")));
  }
  return static_cast<uint32_t>(n);
}

py::tuple result_tuple(const TxnResult& r) {
  return py::make_tuple(static_cast<int>(r.outcome), r.commit_ts, r.key_index,
                        static_cast<int>(r.mine), static_cast<int>(r.theirs), r.pending,
                        r.other_txn);
}

void run_batch(Adjudicator& adj, Scratch& s) {
  s.finish();
  if (s.txns.size() >= kReleaseGilTxns) {
    py::gil_scoped_release release;
    adj.adjudicate_batch(s.txns, s.results);
  } else {
    adj.adjudicate_batch(s.txns, s.results);
  }
}

py::tuple conflict_tuple(const Conflict& c) {
  return py::make_tuple(py::bytes(c.key), static_cast<int>(c.mine), static_cast<int>(c.theirs),
                        c.pending, c.other_txn);
}

std::vector<OwnedWrite> owned_writes(const std::vector<std::pair<py::bytes, int>>& writes) {
  std::vector<OwnedWrite> out;
  out.reserve(writes.size());
  for (const auto& [key, kind] : writes) out.push_back(OwnedWrite{std::string(key), to_kind(kind)});
  return out;
}

AdjudicatorConfig make_config(int64_t window_ns, uint32_t max_keys, bool single_authority,
                              int64_t hold_ns, uint32_t max_pending_txns, uint32_t max_txn_keys,
                              uint32_t shard, uint64_t hash_seed) {
  AdjudicatorConfig c;
  c.window_ns = window_ns;
  c.max_keys = max_keys;
  c.single_timestamp_authority = single_authority;
  c.hold_ns = hold_ns;
  c.max_pending_txns = max_pending_txns;
  c.max_txn_keys = max_txn_keys;
  c.shard = shard;
  c.hash_seed = hash_seed;
  return c;
}

py::dict stats_dict(const AdjudicatorStats& s) {
  py::dict d;
  d["keys"] = s.keys;
  d["window_floor_ts"] = s.window_floor_ts;
  d["promised_ts"] = s.promised_ts;
  d["pending_txns"] = s.pending_txns;
  d["held_keys"] = s.held_keys;
  d["committed"] = s.committed;
  d["conflicts"] = s.conflicts;
  d["too_old"] = s.too_old;
  d["refused"] = s.refused;
  d["busy"] = s.busy;
  d["expired"] = s.expired;
  d["evicted_by_time"] = s.evicted_by_time;
  d["evicted_by_memory"] = s.evicted_by_memory;
  d["memory_bytes"] = s.memory_bytes;
  return d;
}

#define DSQL_CONFIG_ARGS                                                                      \
  py::arg("window_ns") = AdjudicatorConfig{}.window_ns,                                       \
  py::arg("max_keys") = AdjudicatorConfig{}.max_keys,                                         \
  py::arg("single_timestamp_authority") = true, py::arg("hold_ns") = AdjudicatorConfig{}.hold_ns, \
  py::arg("max_pending_txns") = AdjudicatorConfig{}.max_pending_txns,                         \
  py::arg("max_txn_keys") = AdjudicatorConfig{}.max_txn_keys, py::arg("shard") = 0,           \
  py::arg("hash_seed") = 0

void bind(py::module_& m) {
  m.doc() = "The adjudicator kernel: commit decisions, the bounded window, the shard vote.";
  m.attr("KEYSHARE") = static_cast<int>(Kind::kKeyShare);
  m.attr("NONKEY") = static_cast<int>(Kind::kNonKey);
  m.attr("FULL") = static_cast<int>(Kind::kFull);
  m.attr("MAX_KEY_BYTES") = KeyTable<int>::kMaxKeyBytes;
  m.attr("MAX_START_TS") = kMaxStartTs;

  py::class_<Conflict>(m, "Conflict")
      .def_property_readonly("key", [](const Conflict& c) { return py::bytes(c.key); })
      .def_property_readonly("mine", [](const Conflict& c) { return static_cast<int>(c.mine); })
      .def_property_readonly("theirs",
                             [](const Conflict& c) { return static_cast<int>(c.theirs); })
      .def_readonly("pending", &Conflict::pending)
      .def_readonly("other_txn", &Conflict::other_txn);

  py::class_<PrepareRequest>(m, "PrepareRequest")
      .def(py::init([](uint64_t txn_id, int64_t start_ts, uint32_t shard,
                       const std::vector<std::pair<py::bytes, int>>& writes) {
             PrepareRequest r;
             r.txn_id = txn_id;
             r.start_ts = start_ts;
             r.shard = shard;
             r.writes = owned_writes(writes);
             return r;
           }),
           py::arg("txn_id"), py::arg("start_ts"), py::arg("shard"), py::arg("writes"))
      .def_readonly("txn_id", &PrepareRequest::txn_id)
      .def_readonly("start_ts", &PrepareRequest::start_ts)
      .def_readonly("shard", &PrepareRequest::shard)
      .def_property_readonly("writes", [](const PrepareRequest& r) {
        py::list out;
        for (const OwnedWrite& w : r.writes) {
          out.append(py::make_tuple(py::bytes(w.key), static_cast<int>(w.kind)));
        }
        return out;
      });

  py::class_<Vote>(m, "Vote")
      .def_readonly("txn_id", &Vote::txn_id)
      .def_readonly("shard", &Vote::shard)
      .def_readonly("yes", &Vote::yes)
      .def_property_readonly("reason", [](const Vote& v) { return static_cast<int>(v.reason); })
      .def_readonly("proposed_ts", &Vote::proposed_ts)
      .def_readonly("hold_until_ns", &Vote::hold_until_ns)
      .def_property_readonly("conflict", [](const Vote& v) -> py::object {
        if (v.yes || v.reason != Outcome::kConflict) return py::none();
        return py::cast(v.conflict);
      });

  py::class_<Decision>(m, "Decision")
      .def(py::init([](uint64_t txn_id, bool commit, int64_t commit_ts) {
             return Decision{txn_id, commit, commit_ts};
           }),
           py::arg("txn_id"), py::arg("commit"), py::arg("commit_ts") = 0)
      .def_readonly("txn_id", &Decision::txn_id)
      .def_readonly("commit", &Decision::commit)
      .def_readonly("commit_ts", &Decision::commit_ts);

  py::class_<Ack>(m, "Ack")
      .def_readonly("txn_id", &Ack::txn_id)
      .def_readonly("shard", &Ack::shard)
      .def_readonly("ok", &Ack::ok)
      .def_readonly("error", &Ack::error);

  m.def(
      "decide_votes",
      [](uint64_t txn_id, const std::vector<Vote>& votes, int64_t now_latest_ns) {
        if (votes.empty()) throw py::value_error("decide_votes needs at least one vote");
        for (const Vote& v : votes) {
          if (v.txn_id != txn_id) throw py::value_error("a vote is for another transaction");
        }
        return decide_votes(txn_id, votes, now_latest_ns);
      },
      py::arg("txn_id"), py::arg("votes"), py::arg("now_latest_ns"),
      "The coordinator's rule: commit at the highest proposal if every vote is yes and every "
      "hold is certainly still in force (now_latest_ns < hold_until_ns), else abort.");

  py::class_<Adjudicator>(m, "Adjudicator")
      .def(py::init([](std::shared_ptr<clock::HybridClock> clock, int64_t window_ns,
                       uint32_t max_keys, bool single, int64_t hold_ns, uint32_t max_pending,
                       uint32_t max_txn_keys, uint32_t shard, uint64_t seed) {
             if (!clock) throw py::value_error("the adjudicator needs a HybridClock");
             return std::make_unique<Adjudicator>(
                 std::move(clock), make_config(window_ns, max_keys, single, hold_ns,
                                               max_pending, max_txn_keys, shard, seed));
           }),
           py::arg("clock"), DSQL_CONFIG_ARGS)
      .def(
          "adjudicate",
          [](Adjudicator& adj, int64_t start_ts, py::handle writes, uint64_t txn_id) {
            Scratch& s = tls_scratch;
            s.clear();
            s.txn_ids.push_back(txn_id);
            s.starts.push_back(start_ts);
            s.counts.push_back(add_writes(s, writes.ptr()));
            s.finish();
            return result_tuple(adj.adjudicate(s.txns[0]));
          },
          py::arg("start_ts"), py::arg("writes"), py::arg("txn_id") = 0,
          "Decides one transaction; writes is [(key: bytes, kind: int), ...]. Returns the "
          "result tuple (module docs).")
      .def(
          "adjudicate_batch",
          [](Adjudicator& adj, py::handle txns) {
            Scratch& s = tls_scratch;
            s.clear();
            PyObject* fast = PySequence_Fast(txns.ptr(), "txns must be a sequence");
            if (fast == nullptr) throw py::error_already_set();
            const py::object owner = py::reinterpret_steal<py::object>(fast);
            const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
            for (Py_ssize_t i = 0; i < n; ++i) {
              PyObject* t = PySequence_Fast_GET_ITEM(fast, i);
              if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3) {
                throw py::type_error("each transaction must be (txn_id, start_ts, writes)");
              }
              s.txn_ids.push_back(as_txn_id(PyTuple_GET_ITEM(t, 0)));
              s.starts.push_back(as_int(PyTuple_GET_ITEM(t, 1), "start_ts"));
              s.counts.push_back(add_writes(s, PyTuple_GET_ITEM(t, 2)));
            }
            run_batch(adj, s);
            py::list out(s.results.size());
            for (size_t i = 0; i < s.results.size(); ++i) out[i] = result_tuple(s.results[i]);
            return out;
          },
          py::arg("txns"),
          "Decides [(txn_id, start_ts, [(key, kind), ...]), ...] in order; a list of result "
          "tuples.")
      .def(
          "adjudicate_flat",
          [](Adjudicator& adj, py::handle txn_ids, py::handle start_ts, py::handle key_counts,
             py::handle keys, py::bytes kinds) {
            Scratch& s = tls_scratch;
            s.clear();
            PyObject* f_ids = PySequence_Fast(txn_ids.ptr(), "txn_ids must be a sequence");
            if (f_ids == nullptr) throw py::error_already_set();
            const py::object o1 = py::reinterpret_steal<py::object>(f_ids);
            PyObject* f_st = PySequence_Fast(start_ts.ptr(), "start_ts must be a sequence");
            if (f_st == nullptr) throw py::error_already_set();
            const py::object o2 = py::reinterpret_steal<py::object>(f_st);
            PyObject* f_cn = PySequence_Fast(key_counts.ptr(), "key_counts must be a sequence");
            if (f_cn == nullptr) throw py::error_already_set();
            const py::object o3 = py::reinterpret_steal<py::object>(f_cn);
            PyObject* f_keys = PySequence_Fast(keys.ptr(), "keys must be a sequence of bytes");
            if (f_keys == nullptr) throw py::error_already_set();
            const py::object o4 = py::reinterpret_steal<py::object>(f_keys);
            const Py_ssize_t n = PySequence_Fast_GET_SIZE(f_ids);
            const Py_ssize_t nkeys = PySequence_Fast_GET_SIZE(f_keys);
            const std::string_view kind_bytes = kinds;
            if (PySequence_Fast_GET_SIZE(f_st) != n || PySequence_Fast_GET_SIZE(f_cn) != n) {
              throw py::value_error("txn_ids, start_ts and key_counts must have equal lengths");
            }
            if (static_cast<Py_ssize_t>(kind_bytes.size()) != nkeys) {
              throw py::value_error("kinds must hold one byte per key");
            }
            Py_ssize_t at = 0;
            for (Py_ssize_t i = 0; i < n; ++i) {
              s.txn_ids.push_back(as_txn_id(PySequence_Fast_GET_ITEM(f_ids, i)));
              s.starts.push_back(as_int(PySequence_Fast_GET_ITEM(f_st, i), "start_ts"));
              const long long c = as_int(PySequence_Fast_GET_ITEM(f_cn, i), "key count");
              if (c < 0 || c > nkeys - at) {
                throw py::value_error("key_counts do not add up to the number of keys");
              }
              s.counts.push_back(static_cast<uint32_t>(c));
              at += c;
            }
            if (at != nkeys) throw py::value_error("key_counts do not add up to the number of keys");
            PyObject** items = PySequence_Fast_ITEMS(f_keys);
            for (Py_ssize_t k = 0; k < nkeys; ++k) {
              s.add_key(items[k], to_kind(static_cast<unsigned char>(kind_bytes[k])));
            }
            run_batch(adj, s);
            std::string codes(s.results.size(), '\0');
            py::list ts(s.results.size());
            py::list conflicts;
            for (size_t i = 0; i < s.results.size(); ++i) {
              const TxnResult& r = s.results[i];
              codes[i] = static_cast<char>(r.outcome);
              ts[i] = py::int_(r.commit_ts);
              if (r.outcome == Outcome::kConflict) {
                conflicts.append(py::make_tuple(i, r.key_index, static_cast<int>(r.mine),
                                                static_cast<int>(r.theirs), r.pending,
                                                r.other_txn));
              }
            }
            return py::make_tuple(py::bytes(codes), ts, conflicts);
          },
          py::arg("txn_ids"), py::arg("start_ts"), py::arg("key_counts"), py::arg("keys"),
          py::arg("kinds"),
          "Decides a batch given as flat columns: per transaction its id, start and number of "
          "keys; all keys (bytes) in one list and their kinds as one byte each. Returns "
          "(outcome codes: bytes, commit_ts: list[int], conflicts: list of (txn index, "
          "key_index, mine, theirs, pending, other_txn)).")
      .def(
          "prepare",
          [](Adjudicator& adj, const PrepareRequest& r) {
            py::gil_scoped_release release;
            return adj.prepare(r);
          },
          py::arg("request"))
      .def(
          "decide",
          [](Adjudicator& adj, const Decision& d) {
            py::gil_scoped_release release;
            return adj.decide(d);
          },
          py::arg("decision"))
      .def("expire_pending", &Adjudicator::expire_pending)
      .def("heartbeat", &Adjudicator::heartbeat,
           "Promises nothing commits here at or below the returned ts.")
      .def("promise_through", &Adjudicator::promise_through, py::arg("ts"))
      .def("stats", [](const Adjudicator& adj) { return stats_dict(adj.stats()); })
      .def_property_readonly("clock_unsynchronized_seen",
                             &Adjudicator::clock_unsynchronized_seen)
      .def_property_readonly("clock", [](const Adjudicator& adj) { return adj.clock(); })
      .def_property_readonly("window_ns", [](const Adjudicator& a) { return a.config().window_ns; })
      .def_property_readonly("max_keys", [](const Adjudicator& a) { return a.config().max_keys; })
      .def_property_readonly("single_timestamp_authority", [](const Adjudicator& a) {
        return a.config().single_timestamp_authority;
      })
      .def_property_readonly("shard", [](const Adjudicator& a) { return a.config().shard; })
      .def("check_invariants", &Adjudicator::check_invariants);

  m.def(
      "_time_kernel_batches",
      [](Adjudicator& adj, const py::bytes& key_bytes, uint32_t key_len, uint32_t batch_txns,
         uint32_t txn_keys, int64_t start_lag_ns) {
        // For bench/adjudicator.py: the kernel alone, without the Python crossing. Cuts
        // key_bytes into keys of key_len, groups them txn_keys per transaction and batch_txns
        // transactions per batch; each batch starts start_lag_ns before the newest timestamp.
        const std::string_view all = key_bytes;
        if (key_len == 0 || batch_txns == 0 || txn_keys == 0 || start_lag_ns < 0) {
          throw py::value_error("key_len, batch_txns and txn_keys must be > 0, lag >= 0");
        }
        const size_t keys = all.size() / key_len;
        const size_t per_batch = static_cast<size_t>(batch_txns) * txn_keys;
        const size_t batches = keys / per_batch;
        std::vector<KeyWrite> writes(batches * per_batch);
        for (size_t i = 0; i < writes.size(); ++i) {
          writes[i] = KeyWrite{all.substr(i * key_len, key_len),
                               i % 8 == 7 ? Kind::kKeyShare : Kind::kFull};
        }
        std::vector<TxnRequest> txns(batch_txns);
        std::vector<TxnResult> results(batch_txns);
        uint64_t committed = 0;
        int64_t ns = 0;
        {
          py::gil_scoped_release release;
          const auto t0 = std::chrono::steady_clock::now();
          for (size_t b = 0; b < batches; ++b) {
            int64_t newest = adj.clock()->last();
            if (newest == INT64_MIN) newest = adj.clock()->next();  // a fresh clock
            const int64_t start = std::max<int64_t>(0, newest - start_lag_ns);
            for (uint32_t t = 0; t < batch_txns; ++t) {
              const size_t first = b * per_batch + static_cast<size_t>(t) * txn_keys;
              txns[t] = TxnRequest{b * batch_txns + t, start,
                                   std::span<const KeyWrite>(writes.data() + first, txn_keys)};
            }
            adj.adjudicate_batch(txns, results);
            for (const TxnResult& r : results) committed += r.outcome == Outcome::kCommitted;
          }
          ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count();
        }
        return py::make_tuple(ns, batches * batch_txns, committed);
      },
      py::arg("adjudicator"), py::arg("key_bytes"), py::arg("key_len"), py::arg("batch_txns"),
      py::arg("txn_keys"), py::arg("start_lag_ns") = 0,
      "Benchmark helper: (elapsed ns, transactions, committed) for batches built in C++.");

  py::class_<AdjudicatorShardMap>(m, "AdjudicatorShardMap")
      .def(py::init([](std::shared_ptr<clock::HybridClock> clock,
                       const std::vector<py::bytes>& splits, int64_t window_ns,
                       uint32_t max_keys, bool single, int64_t hold_ns, uint32_t max_pending,
                       uint32_t max_txn_keys, uint32_t shard, uint64_t seed) {
             if (!clock) throw py::value_error("the shard map needs a HybridClock");
             std::vector<std::string> s(splits.begin(), splits.end());
             return std::make_unique<AdjudicatorShardMap>(
                 std::move(clock),
                 make_config(window_ns, max_keys, single, hold_ns, max_pending, max_txn_keys,
                             shard, seed),
                 std::move(s));
           }),
           py::arg("clock"), py::arg("splits"), DSQL_CONFIG_ARGS)
      .def_property_readonly("shard_count", &AdjudicatorShardMap::shard_count)
      .def("shard_of",
           [](const AdjudicatorShardMap& m, const py::bytes& key) {
             return m.shard_of(std::string_view(key));
           },
           py::arg("key"))
      .def("shard", &AdjudicatorShardMap::shard, py::arg("index"),
           py::return_value_policy::reference_internal)
      .def(
          "split",
          [](const AdjudicatorShardMap& m, uint64_t txn_id, int64_t start_ts,
             py::handle writes) {
            Scratch& s = tls_scratch;
            s.clear();
            s.txn_ids.push_back(txn_id);
            s.starts.push_back(start_ts);
            s.counts.push_back(add_writes(s, writes.ptr()));
            s.finish();
            return m.split(s.txns[0]);
          },
          py::arg("txn_id"), py::arg("start_ts"), py::arg("writes"))
      .def(
          "commit",
          [](AdjudicatorShardMap& m, int64_t start_ts, py::handle writes, uint64_t txn_id) {
            Scratch& s = tls_scratch;
            s.clear();
            s.txn_ids.push_back(txn_id);
            s.starts.push_back(start_ts);
            s.counts.push_back(add_writes(s, writes.ptr()));
            s.finish();
            CommitResult r;
            {
              py::gil_scoped_release release;
              r = m.commit(s.txns[0]);
            }
            py::object conflict = r.outcome == Outcome::kConflict
                                      ? py::object(conflict_tuple(r.conflict))
                                      : py::object(py::none());
            return py::make_tuple(static_cast<int>(r.outcome), r.commit_ts, conflict, r.shards,
                                  r.error);
          },
          py::arg("start_ts"), py::arg("writes"), py::arg("txn_id") = 0,
          "Decides one transaction across the shards: (outcome, commit_ts, conflict or None, "
          "shards touched, error); conflict is (key, mine, theirs, pending, other_txn).")
      .def_property_readonly("clock_unsynchronized_seen",
                             [](AdjudicatorShardMap& m) {
                               for (uint32_t i = 0; i < m.shard_count(); ++i) {
                                 if (m.shard(i).clock_unsynchronized_seen()) return true;
                               }
                               return false;
                             })
      .def("heartbeat", &AdjudicatorShardMap::heartbeat)
      .def("promise_through", &AdjudicatorShardMap::promise_through, py::arg("ts"));
}

#undef DSQL_CONFIG_ARGS

}  // namespace
}  // namespace dsql::adjudicator

DSQL_REGISTER_BINDINGS(adjudicator, dsql::adjudicator::bind);
