// Transactions of registered statements run without the interpreter: the transaction lane.
//
// The fast lane (point_query.h) answers autocommit point SELECTs. This file adds what a short
// read-write transaction of prepared statements needs, so that a client running pgbench's
// TPC-B shape never enters Python once its statements are registered:
//
//   BEGIN                          a snapshot: a fresh hybrid-clock timestamp, promised (and made
//                                  readable) through the node's sequencer, as Node.begin()
//   UPDATE t SET c = c + $p, ...   one row by its whole primary key; int2/int4/int8 columns
//     WHERE pk = $k ...
//   INSERT INTO t (...) VALUES     one row: integer parameters, the transaction's clock, NULLs
//     ($1, ..., CURRENT_TIMESTAMP)
//   SELECT (a PointPlan)           read at the snapshot, merged with the transaction's writes
//   COMMIT                         the node's CommitPath: decide, journal, apply, in one call
//
// The writes are buffered in a LaneTxn exactly as dsql.txn.Transaction buffers them (one entry
// per key, the strongest claim per key, rows and bytes counted against the session's limits).
// The lane reports one error itself: a write-write conflict at COMMIT when no DDL began or
// ended since BEGIN, with the general path's bytes (FastConn). Whatever else would fail (an
// overflow, a NULL, a duplicate key, a limit, a stale plan) is refused before anything
// changes, and the caller hands the transaction to the general path (FastConn handover: Python
// continues the same transaction, runs the statement and reports the error). A COMMIT the
// adjudicator refuses otherwise is handed over with its result, and Python reports it as it
// reports its own commits.
//
// Python decides which statements qualify (src/dsql/sql/fastplan.py) and encodes nothing the
// kernel could get wrong: plans carry the table's key layout, the row layout and version, and
// for each column where its value comes from.
//
// Thread-safety: TxnKernels is shared by every connection (its methods may be called from any
// thread without the GIL; they take the sequencer's and the store's own locks). LaneTxn,
// UpdatePlan and InsertPlan follow FastConn: plans are immutable and shared, a LaneTxn belongs to
// one connection and is used by one thread at a time.
// Invariants:
//   1. A LaneTxn is open iff start_ts > 0. Its writes hold one entry per key (insertion order
//      kept in `order`), every written key has a claim, rows == writes.size(), and rows and
//      bytes never exceed the limits it was opened with.
//   2. An operation that returns kRefused has changed neither the transaction nor the output.
//   3. TxnKernels::begin() hands out a snapshot only below the durable promise horizon the
//      node last published (set_horizon), and none once stopped; otherwise it returns 0 and
//      Python begins instead.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adjudicator/messages.h"
#include "clock/hybrid_clock.h"
#include "node/commit_path.h"
#include "storage/key_codec.h"
#include "storage/row_codec.h"
#include "storage/shard_map.h"

namespace dsql::wire {

// The session's transaction limits (dsql.txn.limits.Limits) and the node's capacity
// (Limits.check_commit), as the lane must respect them.
struct LaneLimits {
  uint64_t max_rows = 0;
  uint64_t max_bytes = 0;
  int64_t max_age_ns = 0;
  uint64_t txn_keys_max = 0;      // claims + 1 (the catalog key) at most
  uint64_t record_bytes_max = 0;  // the journal record estimate at most (see commit())
  uint64_t write_overhead_bytes = 0;
};

// The node's pieces a lane transaction uses. Python builds it once per database.
class TxnKernels {
 public:
  // REQUIRES: every pointer is set; share_key is the catalog key (claimed KEYSHARE at commit).
  TxnKernels(std::shared_ptr<clock::HybridClock> clock, std::shared_ptr<node::Sequencer> sequencer,
             std::shared_ptr<node::CommitPath> path, std::shared_ptr<storage::ShardMap> store,
             std::string share_key, int64_t first_rowid);
  TxnKernels(const TxnKernels&) = delete;
  TxnKernels& operator=(const TxnKernels&) = delete;

  // A snapshot timestamp as Node.begin() gives, or 0 when it would pass the horizon.
  int64_t begin();
  // The node moved its durable promise horizon (Node._extend_horizon). Monotonic.
  void set_horizon(int64_t horizon_ns) noexcept;
  int64_t horizon() const noexcept { return horizon_.load(std::memory_order_acquire); }
  // Hidden row ids, shared with Python's Database.next_rowid (unique in the process).
  int64_t next_rowid() noexcept { return rowids_.fetch_add(1, std::memory_order_relaxed); }
  // The node failed or closed: no BEGIN or COMMIT in the lane from now on (Python reports).
  void stop() noexcept { stopped_.store(true, std::memory_order_release); }
  bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }
  // The newest commit this lane acknowledged (Database.last_commit_ts takes the max with it).
  int64_t last_commit() const noexcept { return last_commit_.load(std::memory_order_acquire); }
  void note_commit(int64_t ts) noexcept;

  storage::ShardMap& store() noexcept { return *store_; }
  node::CommitPath& path() noexcept { return *path_; }
  const std::string& share_key() const noexcept { return share_key_; }

 private:
  const std::shared_ptr<clock::HybridClock> clock_;
  const std::shared_ptr<node::Sequencer> sequencer_;
  const std::shared_ptr<node::CommitPath> path_;
  const std::shared_ptr<storage::ShardMap> store_;
  const std::string share_key_;
  std::atomic<int64_t> horizon_{0};
  std::atomic<int64_t> rowids_;
  std::atomic<int64_t> last_commit_{0};
  std::atomic<bool> stopped_{false};
};

// UPDATE t SET c = c + $p [, ...] WHERE <every key column> = $k.
struct UpdatePlan {
  struct Add {
    uint32_t column = 0;  // index into the row layout (non-key columns)
    uint32_t param = 0;
  };
  storage::KeyLayout key;            // int2/int4/int8 ascending key columns
  std::vector<uint32_t> key_params;  // per key column
  uint32_t nparams = 0;
  uint8_t row_version = 0;
  storage::RowLayout row;
  std::vector<Add> adds;             // each column an int2/int4/int8 one, at most once
  uint64_t epoch = 0;
  void validate() const;             // throws std::invalid_argument
};

// INSERT INTO t (...) VALUES (...): one row.
struct InsertPlan {
  enum class Source : uint8_t { kNull, kParam, kNow };
  struct Value {
    Source source = Source::kNull;
    uint32_t param = 0;  // kParam
  };
  storage::KeyLayout key;            // hidden row id: one int8 column
  bool hidden_rowid = false;
  std::vector<uint32_t> key_params;  // per key column, unless hidden_rowid
  uint32_t nparams = 0;
  uint8_t row_version = 0;
  storage::RowLayout row;
  std::vector<Value> values;         // per row-layout column
  std::vector<bool> not_null;        // per row-layout column
  uint64_t epoch = 0;
  void validate() const;
};

// One integer parameter of a bound statement (NULL or a value of its declared type).
struct LaneParam {
  bool null = false;
  int64_t value = 0;
};

enum class LaneStatus { kDone, kRefused };

// The transaction a connection runs in the lane.
class LaneTxn {
 public:
  LaneTxn() = default;
  LaneTxn(const LaneTxn&) = delete;
  LaneTxn& operator=(const LaneTxn&) = delete;

  // May be read from any thread (the server's timers); everything else: the owner's thread.
  bool open() const noexcept { return start_ts_.load(std::memory_order_relaxed) > 0; }
  // REQUIRES: !open(), start_ts > 0.
  void open_at(int64_t start_ts, int64_t wall_ns, int64_t mono_ns, uint64_t epoch,
               const LaneLimits& limits);
  void close() noexcept;

  // The row at `key` as this transaction sees it: false when absent. kRefused when storage
  // cannot serve the snapshot (the general path then waits or reports).
  LaneStatus read(const storage::ShardMap& store, std::string_view key, std::string* value,
                  bool* found) const;
  // *updated is 0 or 1. REQUIRES: open(), params.size() == plan.nparams.
  LaneStatus update(const storage::ShardMap& store, const UpdatePlan& plan,
                    const std::vector<LaneParam>& params, int64_t now_mono_ns, int* updated);
  LaneStatus insert(TxnKernels& k, const InsertPlan& plan, const std::vector<LaneParam>& params,
                    int64_t now_mono_ns);
  // Commits (REQUIRES: open()). kDone: committed (or nothing to commit) and closed; kRefused
  // with *result set: the adjudicator said no, the transaction stays open for handover.
  // Throws what CommitPath::commit throws (the transaction stays open).
  LaneStatus commit(TxnKernels& k, int64_t now_mono_ns, adjudicator::TxnResult* result);

  int64_t start_ts() const noexcept { return start_ts_.load(std::memory_order_relaxed); }
  int64_t wall_ns() const noexcept { return wall_ns_; }
  int64_t mono_ns() const noexcept { return mono_ns_; }
  uint64_t epoch() const noexcept { return epoch_; }
  // The buffered writes in order, and the claims (kind per key, in the writes' order).
  const std::vector<std::string>& order() const noexcept { return order_; }
  const std::string& value_of(const std::string& key) const { return writes_.at(key); }
  adjudicator::Kind claim_of(const std::string& key) const { return claims_.at(key); }

 private:
  bool too_old(int64_t now_mono_ns) const noexcept;
  // Buffers a row write; kRefused (nothing changed) beyond the limits.
  LaneStatus put(std::string key, std::string value, adjudicator::Kind kind);

  std::atomic<int64_t> start_ts_{0};
  int64_t wall_ns_ = 0;
  int64_t mono_ns_ = 0;
  uint64_t epoch_ = 0;
  LaneLimits limits_;
  std::unordered_map<std::string, std::string> writes_;
  std::unordered_map<std::string, adjudicator::Kind> claims_;
  std::vector<std::string> order_;
  uint64_t bytes_ = 0;
};

}  // namespace dsql::wire
