// Primary-key point SELECTs answered without the interpreter: the server's hot path.
//
// The SQL layer (Python) plans every statement. When a plan is a primary-key point read whose
// key comes straight from parameters and whose outputs are plain columns of simple types, the
// server describes it as a PointPlan and registers it with the connection's FastConn: under its
// normalized text (simple Query) or under its prepared statement's name (extended protocol).
// From then on FastConn::serve answers the client's messages for it directly: it reads the
// row from storage at the storage watermark (an autocommit read: every acknowledged commit is
// at or below it) and writes the PostgreSQL replies, byte for byte what the general path sends.
//
// Anything serve() does not recognise, it refuses as a whole: it returns false and the caller
// hands the same bytes to the general path, so a refusal is never an error. serve() refuses a
// buffer unless it is made only of complete message groups it answers:
//   Query(registered normalized text)
//   Bind(unnamed portal, registered statement) [Describe(portal "")] Execute("", 0) Sync
// (Flush may appear anywhere in the second form.) It also refuses when a parameter's text is
// not a plain integer of its declared type (the general path then reports 22P02 or 22003),
// when a row was written under another layout version, and when the catalog changed since the
// plan was registered.
//
// Transaction-lane statements (txn_lane.h: BEGIN, COMMIT, point UPDATE, one-row INSERT) are
// registered by name too and answered in the same groups, with NoData for Describe and
// ReadyForQuery 'T' while the connection's lane transaction is open. One of them runs only as
// the buffer's one group (nothing after its Sync), so that a refusal never follows its effects.
// While the lane transaction is open a simple Query, or any group refused, is the general
// path's: the caller takes the transaction over first (handover, see txn_lane.h).
//
// Normalized text: the statement with every integer literal replaced by "$4" (it fits int4) or
// "$8" (int8), everything else verbatim. normalize() refuses statements holding quotes,
// dollar signs, backslashes, comments, non-integer numbers, non-ASCII bytes, a ';' anywhere but
// at the end, or more than kMaxLiterals literals; such statements always take the general path.
// The caller registers a text only after checking that the SQL layer lifted exactly the same
// literals into parameters $1..$n in the same order (so two texts with one normalized form are
// one statement with other literal values).
//
// Catalog changes: FastPath holds an epoch that the server bumps before any DDL commits; a plan
// carries the epoch it was built under and serve() refuses it once the epoch moved. serve()
// reads the watermark before the epoch, and the DDL bumps the epoch before its commit can
// become visible, so a read at a watermark past a DDL commit always sees the new epoch.
//
// Thread-safety: PointPlan is immutable and shared. FastPath's methods may be called from any
// thread. A FastConn belongs to one connection and is used by one thread at a time (the
// caller serialises: the event loop runs serve() only while no worker handles the
// connection).
// Invariants:
//   1. serve() either appends the complete replies for every message in its input and returns
//      true, or leaves *out unchanged and returns false; then the lane transaction is as it was,
//      except that a COMMIT the adjudicator refused is recorded in commit_failure().
//   2. A FastConn holds at most kMaxEntries queries and kMaxEntries statements.
//   3. A PointPlan's key_params index parameters the statement has (< nparams), one per key
//      column, and every output type is one of the types encode_value supports.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adjudicator/messages.h"
#include "storage/key_codec.h"
#include "storage/row_codec.h"
#include "storage/shard_map.h"
#include "wire/txn_lane.h"

namespace dsql::wire {

inline constexpr size_t kMaxLiterals = 64;
inline constexpr size_t kMaxEntries = 256;
inline constexpr size_t kMaxQueryBytes = 4096;

// PostgreSQL type oids the fast path reads and writes.
inline constexpr uint32_t kOidBool = 16;
inline constexpr uint32_t kOidInt8 = 20;
inline constexpr uint32_t kOidInt2 = 21;
inline constexpr uint32_t kOidInt4 = 23;
inline constexpr uint32_t kOidText = 25;
inline constexpr uint32_t kOidVarchar = 1043;

// One RowDescription field.
struct Field {
  std::string name;
  uint32_t table_oid = 0;
  int16_t column_no = 0;
  uint32_t type_oid = 0;
  int16_t type_len = 0;
  int32_t type_mod = -1;
};

// Where an output column comes from: a key column or a column of the row value.
struct Output {
  bool from_key = false;
  uint32_t index = 0;
};

struct PointPlan {
  storage::KeyLayout key;           // the table's key: prefix + key column types (int2/4/8)
  std::vector<uint32_t> key_params; // per key column: the parameter that gives its value
  uint32_t nparams = 0;             // the statement's parameters
  uint8_t row_version = 0;          // the table's current layout version (value byte 0)
  storage::RowLayout row;           // that layout: the non-key columns
  std::vector<Output> outputs;
  std::vector<Field> fields;        // one per output
  uint64_t epoch = 0;               // FastPath epoch the plan was built under

  // Checks invariant 3; throws std::invalid_argument naming what is wrong.
  void validate() const;
};

// Server-wide: the storage the fast path reads and the catalog epoch.
class FastPath {
 public:
  explicit FastPath(std::shared_ptr<const storage::ShardMap> store);
  FastPath(const FastPath&) = delete;
  FastPath& operator=(const FastPath&) = delete;

  uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }
  // Called before a catalog change can commit: every plan built earlier stops being served.
  void bump_epoch() noexcept { epoch_.fetch_add(1, std::memory_order_acq_rel); }
  const storage::ShardMap& store() const noexcept { return *store_; }
  // Message groups answered by every FastConn over this FastPath.
  uint64_t served() const noexcept { return served_.load(std::memory_order_relaxed); }
  void count_served(uint64_t n) noexcept { served_.fetch_add(n, std::memory_order_relaxed); }
  // The transaction lane's kernels (txn_lane.h); without them only point SELECTs are served.
  // REQUIRES: called once, before any FastConn uses this FastPath.
  void attach_txn(std::shared_ptr<TxnKernels> txn) { txn_ = std::move(txn); }
  TxnKernels* txn() const noexcept { return txn_.get(); }

 private:
  std::shared_ptr<TxnKernels> txn_;
  std::shared_ptr<const storage::ShardMap> store_;
  std::atomic<uint64_t> epoch_{1};
  std::atomic<uint64_t> served_{0};
};

// A statement's text with its integer literals lifted (see the file comment).
struct Normalized {
  std::string text;
  std::vector<int64_t> values;
  std::vector<uint32_t> oids;  // kOidInt4 or kOidInt8, per value
};

// False when the statement is not one the fast path lifts (see the file comment).
bool normalize(std::string_view sql, Normalized* out);

// One connection's registrations and its serve().
class FastConn {
 public:
  explicit FastConn(std::shared_ptr<FastPath> fast);
  FastConn(const FastConn&) = delete;
  FastConn& operator=(const FastConn&) = delete;

  // REQUIRES: plan validated, normalized_text is normalize()'s text for a statement whose
  // lifted literals are the plan's parameters in order.
  void add_query(const std::string& normalized_text, std::shared_ptr<const PointPlan> plan);
  // REQUIRES: param_oids.size() == plan->nparams.
  void add_statement(const std::string& name, std::shared_ptr<const PointPlan> plan,
                     std::vector<uint32_t> param_oids);
  // Transaction-lane statements (txn_lane.h); param_oids as for add_statement.
  void add_begin(const std::string& name, const LaneLimits& limits);
  void add_commit(const std::string& name);
  void add_update(const std::string& name, std::shared_ptr<const UpdatePlan> plan,
                  std::vector<uint32_t> param_oids);
  void add_insert(const std::string& name, std::shared_ptr<const InsertPlan> plan,
                  std::vector<uint32_t> param_oids);
  void clear_statements() { statements_.clear(); }
  void clear() {
    statements_.clear();
    queries_.clear();
  }
  size_t query_count() const { return queries_.size(); }
  size_t statement_count() const { return statements_.size(); }

  // See the file comment and invariant 1. `in` holds whole frontend messages (type byte,
  // length, body), as many as the client sent.
  bool serve(std::string_view in, std::string* out);

  struct Stats {
    uint64_t served = 0;   // message groups answered
    uint64_t refused = 0;  // serve() calls that returned false
  };
  const Stats& stats() const { return stats_; }
  // CLOCK_MONOTONIC ns of the last group served (0: none); may be read from any thread.
  int64_t last_served_ns() const noexcept { return last_served_ns_.load(std::memory_order_relaxed); }

  // The lane's open transaction, if any. Whenever serve() refuses while it is open, the caller
  // must take it over (handover) before the general path handles the refused messages.
  const LaneTxn& txn() const noexcept { return txn_; }
  // Why the last COMMIT was refused: the adjudicator's result, or the error the commit path
  // threw (then `commit_error` is non-empty and `commit_error_kind` names its class).
  struct CommitFailure {
    bool failed = false;
    adjudicator::TxnResult result;
    std::string commit_error;
    std::string commit_error_kind;  // "ApplyFailed", "JournalError" or "Error"
  };
  const CommitFailure& commit_failure() const noexcept { return failure_; }
  // Forgets the open transaction and its commit failure (the caller has taken them over).
  void release_txn() noexcept {
    txn_.close();
    failure_ = CommitFailure{};
  }

 private:
  enum class Kind : uint8_t { kSelect, kBegin, kCommit, kUpdate, kInsert };
  struct Statement {
    Kind kind = Kind::kSelect;
    std::shared_ptr<const PointPlan> plan;     // kSelect
    std::shared_ptr<const UpdatePlan> update;  // kUpdate
    std::shared_ptr<const InsertPlan> insert;  // kInsert
    LaneLimits limits;                         // kBegin
    std::vector<uint32_t> param_oids;
  };
  using Param = LaneParam;

  // Registers st under name with its parameter types (throws std::invalid_argument unless
  // there are nparams of them, each int2, int4 or int8).
  void put_statement(const std::string& name, Statement st, uint32_t nparams,
                     std::vector<uint32_t> param_oids);
  bool run(const PointPlan& plan, const std::vector<Param>& params,
           const std::vector<int16_t>& formats, bool describe, std::string* out) const;
  // Executes a transaction-lane statement; false when refused (nothing changed, out as given).
  bool run_lane(const Statement& st, const std::vector<Param>& params, bool describe,
                std::string* out);

  std::shared_ptr<FastPath> fast_;
  std::unordered_map<std::string, std::shared_ptr<const PointPlan>> queries_;
  std::unordered_map<std::string, Statement> statements_;
  Stats stats_;
  LaneTxn txn_;
  CommitFailure failure_;
  std::atomic<int64_t> last_served_ns_{0};
};

// The RowDescription message for plan's fields under result formats (0 text, 1 binary),
// one per field. Exposed for tests.
void append_row_description(const PointPlan& plan, const std::vector<int16_t>& formats,
                            std::string* out);

// Python's repr() of a bytes object, appended: the general path's conflict DETAIL shows keys
// so, and the lane's conflict reply must be the same bytes. Exposed for tests.
void append_bytes_repr(std::string_view b, std::string* out);

}  // namespace dsql::wire
