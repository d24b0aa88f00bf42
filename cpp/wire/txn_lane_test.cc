// The transaction lane: LaneTxn against a reference model, and FastConn's lane groups.
// Goal: a lane transaction reads its snapshot merged with its own writes, buffers one value per
// key with the right claim, refuses (changing nothing) whatever the general path must report
// (overflow, NULL, duplicate key, limits), commits through the real CommitPath, and reports a
// write-write conflict with the general path's bytes; FastConn runs a statement with effects
// only as the buffer's one group. Method: a TestNode (real adjudicator, journal, shard map);
// random operation sequences checked against a std::map model of committed rows plus own
// writes; protocol groups framed by hand and the replies parsed back.
#include "wire/txn_lane.h"

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "node/test_support.h"
#include "storage/codec_bytes.h"
#include "testing/unit.h"
#include "wire/point_query.h"
#include "wire/test_support.h"

namespace dsql::wire {
namespace {

using storage::Datum;
using storage::TypeId;
using test::cstr;
using test::frame;
using test::i16;
using test::i32;

constexpr uint32_t kTable = 77;
const std::string kCatalogKey = std::string("\x01") + "catalog";

// A table t (id int4 key; v int4, w int8) with rows id = 1..4, v = w = id * 10.
struct Lane : node::test::TestNode {
  storage::KeyLayout key{kTable, {storage::KeyColumn{TypeId::kInt4}}};
  storage::RowLayout row{{TypeId::kInt4, TypeId::kInt8}};
  std::shared_ptr<TxnKernels> kernels;

  Lane() {
    kernels = std::make_shared<TxnKernels>(clock, seq, path, storage, kCatalogKey, 1000);
    kernels->set_horizon(INT64_MAX);
    std::vector<std::string> keys, values;
    for (int32_t id = 1; id <= 4; ++id) {
      keys.push_back(key_of(id));
      values.push_back(value_of(id * 10, id * 10));
    }
    std::vector<storage::WriteView> w;
    for (size_t i = 0; i < keys.size(); ++i) w.push_back({keys[i], values[i], false});
    storage->apply(5, w.data(), w.size());
    storage->advance_watermark(5);
    seq->promise(5);
  }
  std::string key_of(int32_t id) const { return key.encode(std::vector<Datum>{id}); }
  std::string value_of(int32_t v, int64_t w) const {
    return std::string(1, '\0') + row.encode(std::vector<Datum>{v, w});
  }
  std::pair<int64_t, int64_t> decode(const std::string& value) const {
    const auto d = row.decode(std::string_view(value).substr(1));
    return {std::get<int32_t>(d[0]), std::get<int64_t>(d[1])};
  }
  UpdatePlan update_plan() const {  // SET v = v + $1, w = w + $2 WHERE id = $3
    UpdatePlan p{key, {2}, 3, 0, row, {{0, 0}, {1, 1}}, 1};
    p.validate();
    return p;
  }
  InsertPlan insert_plan() const {  // INSERT (id, v, w) VALUES ($1, $2, $3)
    InsertPlan p{key, false, {0}, 3, 0, row,
                 {{InsertPlan::Source::kParam, 1}, {InsertPlan::Source::kParam, 2}},
                 {true, false}, 1};
    p.validate();
    return p;
  }
  static LaneLimits limits(uint64_t rows) { return LaneLimits{rows, 1 << 20, INT64_MAX / 2, 1000, 1 << 30, 8}; }
};

std::vector<LaneParam> params(std::initializer_list<int64_t> v) {
  std::vector<LaneParam> out;
  for (const int64_t x : v) out.push_back(LaneParam{false, x});
  return out;
}

DSQL_TEST(TxnLane, RandomOperationsMatchTheModel) {
  std::mt19937_64 rng(20261127);
  for (int round = 0; round < 40; ++round) {
    Lane n;
    // The model: committed rows, and this transaction's view of them.
    std::map<int32_t, std::pair<int64_t, int64_t>> committed;
    for (int32_t id = 1; id <= 4; ++id) committed[id] = {id * 10, id * 10};
    auto mine = committed;
    std::map<int32_t, bool> written;
    const uint64_t max_rows = 1 + rng() % 5;
    LaneTxn t;
    const int64_t start = n.kernels->begin();
    REQUIRE(start > 0);
    t.open_at(start, 1, 0, 1, Lane::limits(max_rows));
    const UpdatePlan up = n.update_plan();
    const InsertPlan ins = n.insert_plan();
    for (int op = 0; op < 30; ++op) {
      const auto id = static_cast<int32_t>(1 + rng() % 7);
      const size_t before = t.order().size();
      const bool fresh = !written.count(id);
      const bool room = !fresh || written.size() < max_rows;
      switch (rng() % 3) {
        case 0: {  // update, sometimes overflowing int4
          const int64_t dv = (rng() % 10 == 0) ? INT32_MAX : static_cast<int64_t>(rng() % 100) - 50;
          const int64_t dw = static_cast<int64_t>(rng() % 100) - 50;
          int updated = -1;
          const LaneStatus s = t.update(*n.storage, up, params({dv, dw, id}), 0, &updated);
          const auto it = mine.find(id);
          if (it == mine.end()) {
            CHECK(s == LaneStatus::kDone);
            CHECK_EQ(updated, 0);
          } else if (it->second.first + dv > INT32_MAX || it->second.first + dv < INT32_MIN ||
                     !room) {
            CHECK(s == LaneStatus::kRefused);
            CHECK_EQ(t.order().size(), before);
          } else {
            CHECK(s == LaneStatus::kDone);
            CHECK_EQ(updated, 1);
            it->second.first += dv;
            it->second.second += dw;
            written[id] = true;
          }
          break;
        }
        case 1: {  // insert with a key from the parameters
          const LaneStatus s = t.insert(*n.kernels, ins, params({id, 1, 2}), 0);
          if (mine.count(id) || !room) {
            CHECK(s == LaneStatus::kRefused);
            CHECK_EQ(t.order().size(), before);
          } else {
            CHECK(s == LaneStatus::kDone);
            mine[id] = {1, 2};
            written[id] = true;
          }
          break;
        }
        default: {  // read
          std::string value;
          bool found = false;
          CHECK(t.read(*n.storage, n.key_of(id), &value, &found) == LaneStatus::kDone);
          CHECK_EQ(found, mine.count(id) == 1);
          if (found) CHECK(n.decode(value) == mine[id]);
        }
      }
      CHECK_EQ(t.order().size(), written.size());
    }
    adjudicator::TxnResult r;
    CHECK(t.commit(*n.kernels, 0, &r) == LaneStatus::kDone);
    CHECK(!t.open());
    const int64_t at = written.empty() ? start : r.commit_ts;
    if (!written.empty()) {
      CHECK(r.commit_ts > start);
      CHECK_EQ(n.kernels->last_commit(), r.commit_ts);
    }
    for (int32_t id = 1; id <= 7; ++id) {
      const std::string got = n.read(n.key_of(id), at);
      if (mine.count(id)) {
        CHECK(n.decode(got) == mine[id]);
      } else {
        CHECK_EQ(got, std::string("<absent>"));
      }
    }
  }
}

DSQL_TEST(TxnLane, NullsAndKeysOutsideTheTypeAreLeftToTheGeneralPath) {
  Lane n;
  LaneTxn t;
  t.open_at(n.kernels->begin(), 1, 0, 1, Lane::limits(10));
  int updated = -1;
  std::vector<LaneParam> p = params({1, 1, 1});
  p[0].null = true;  // v + NULL: the general path computes it (and any NOT NULL error)
  CHECK(t.update(*n.storage, n.update_plan(), p, 0, &updated) == LaneStatus::kRefused);
  // a key outside int4 matches no row, as in PostgreSQL
  CHECK(t.update(*n.storage, n.update_plan(), params({1, 1, int64_t{1} << 40}), 0, &updated) ==
        LaneStatus::kDone);
  CHECK_EQ(updated, 0);
  std::vector<LaneParam> q = params({9, 1, 2});
  q[1].null = true;  // v is NOT NULL in the plan: 23502 from the general path
  CHECK(t.insert(*n.kernels, n.insert_plan(), q, 0) == LaneStatus::kRefused);
  CHECK(t.order().empty());
}

DSQL_TEST(TxnLane, AgeLimitAndStoppedKernelsRefuse) {
  Lane n;
  LaneTxn t;
  LaneLimits lim = Lane::limits(10);
  lim.max_age_ns = 100;
  t.open_at(n.kernels->begin(), 1, 0, 1, lim);
  int updated = 0;
  CHECK(t.update(*n.storage, n.update_plan(), params({1, 1, 1}), 50, &updated) == LaneStatus::kDone);
  CHECK(t.update(*n.storage, n.update_plan(), params({1, 1, 2}), 500, &updated) == LaneStatus::kRefused);
  adjudicator::TxnResult r;
  CHECK(t.commit(*n.kernels, 500, &r) == LaneStatus::kRefused);  // too old: 54000 from Python
  CHECK(t.open());
  n.kernels->stop();
  CHECK_EQ(n.kernels->begin(), int64_t{0});
  CHECK(t.commit(*n.kernels, 50, &r) == LaneStatus::kRefused);
  CHECK(t.open());
}

DSQL_TEST(TxnLane, BeginStaysBelowTheHorizonAndRowIdsAreShared) {
  Lane n;
  TxnKernels k(n.clock, n.seq, n.path, n.storage, kCatalogKey, 1000);
  CHECK_EQ(k.begin(), int64_t{0});  // no horizon published yet
  k.set_horizon(10);                // the clock is past 10 already
  CHECK_EQ(k.begin(), int64_t{0});
  k.set_horizon(5);  // never moves back
  CHECK_EQ(k.horizon(), int64_t{10});
  k.set_horizon(INT64_MAX);
  const int64_t ts = k.begin();
  CHECK(ts > 0);
  CHECK(k.begin() > ts);
  CHECK_EQ(k.next_rowid(), int64_t{1000});
  CHECK_EQ(k.next_rowid(), int64_t{1001});
}

// ---- FastConn: the protocol side ---------------------------------------------------------------

std::string group(const std::string& stmt, const std::vector<std::string>& ps) {
  return test::bind_execute(stmt, ps);
}

// The reply's messages as (type, body).
std::vector<std::pair<char, std::string>> messages(const std::string& out) {
  std::vector<std::pair<char, std::string>> got;
  size_t pos = 0;
  while (pos + 5 <= out.size() && got.size() < 64) {
    const uint32_t len = storage::bytes::load_be32(reinterpret_cast<const uint8_t*>(out.data() + pos + 1));
    got.emplace_back(out[pos], out.substr(pos + 5, len - 4));
    pos += 1 + len;
  }
  return got;
}

struct Conns : Lane {
  std::shared_ptr<FastPath> fast = std::make_shared<FastPath>(storage);
  FastConn a{fast}, b{fast};
  Conns() {
    fast->attach_txn(kernels);
    for (FastConn* c : {&a, &b}) {
      c->add_begin("begin", Lane::limits(100));
      c->add_commit("commit");
      auto up = std::make_shared<UpdatePlan>(update_plan());
      up->epoch = fast->epoch();
      c->add_update("up", up, {kOidInt4, kOidInt8, kOidInt4});
      auto sel = std::make_shared<PointPlan>(PointPlan{key, {0}, 1, 0, row, {}, {}, fast->epoch()});
      sel->outputs = {Output{false, 0}};
      sel->fields = {Field{"v", 0, 0, kOidInt4, 4, -1}};
      sel->validate();
      c->add_statement("sel", sel, {kOidInt4});
    }
  }
  static std::string run(FastConn& c, const std::string& in) {
    std::string out;
    return c.serve(in, &out) ? out : "<refused>";
  }
};

DSQL_TEST(TxnLane, GroupsRunATransactionAndReportItsStatus) {
  Conns n;
  auto got = messages(Conns::run(n.a, group("begin", {})));
  REQUIRE(got.size() == 3);
  CHECK_EQ(got[1].second, cstr("BEGIN"));
  CHECK_EQ(got[2].second, std::string("T"));
  got = messages(Conns::run(n.a, group("up", {"5", "0", "1"})));
  REQUIRE(got.size() == 3);
  CHECK_EQ(got[1].second, cstr("UPDATE 1"));
  got = messages(Conns::run(n.a, group("sel", {"1"})));  // own write
  REQUIRE(got.size() == 4);
  CHECK_EQ(got[1].second, i16(1) + i32(2) + "15");
  got = messages(Conns::run(n.b, group("sel", {"1"})));  // another session: the old value
  REQUIRE(got.size() == 4);
  CHECK_EQ(got[1].second, i16(1) + i32(2) + "10");
  CHECK_EQ(got[3].second, std::string("I"));
  got = messages(Conns::run(n.a, group("commit", {})));
  REQUIRE(got.size() == 3);
  CHECK_EQ(got[1].second, cstr("COMMIT"));
  CHECK_EQ(got[2].second, std::string("I"));
  CHECK(!n.a.txn().open());
  got = messages(Conns::run(n.b, group("sel", {"1"})));
  CHECK_EQ(got[1].second, i16(1) + i32(2) + "15");
}

DSQL_TEST(TxnLane, AConflictIsReportedAsTheGeneralPathReportsIt) {
  Conns n;
  Conns::run(n.a, group("begin", {}));
  Conns::run(n.b, group("begin", {}));
  Conns::run(n.a, group("up", {"1", "0", "2"}));
  Conns::run(n.b, group("up", {"2", "0", "2"}));
  const auto first = messages(Conns::run(n.a, group("commit", {})));  // (CHECK_EQ binds refs)
  REQUIRE(first.size() == 3);
  CHECK_EQ(first[1].second, cstr("COMMIT"));
  const auto got = messages(Conns::run(n.b, group("commit", {})));
  REQUIRE(got.size() == 3);
  CHECK_EQ(got[1].first, 'E');
  std::string repr;
  append_bytes_repr(n.key_of(2), &repr);
  const std::string fields = cstr("SERROR") + cstr("VERROR") + cstr("C40001") +
                             cstr("Mchange conflicts with another transaction (OC000)") +
                             cstr("Dnonkey write on key " + repr +
                                  " conflicts with a committed nonkey write") + std::string(1, '\0');
  CHECK_EQ(got[1].second, fields);
  CHECK_EQ(got[2].second, std::string("I"));
  CHECK(!n.b.txn().open());
  CHECK_EQ(n.decode(n.read(n.key_of(2), n.storage->watermark())).first, int64_t{21});
}

DSQL_TEST(TxnLane, AStatementWithEffectsRunsOnlyAsTheBuffersOneGroup) {
  Conns n;
  CHECK_EQ(Conns::run(n.a, group("begin", {}) + group("sel", {"1"})), std::string("<refused>"));
  CHECK(!n.a.txn().open());
  Conns::run(n.a, group("begin", {}));
  CHECK_EQ(Conns::run(n.a, group("sel", {"1"}) + group("up", {"1", "1", "1"})),
           std::string("<refused>"));
  CHECK(n.a.txn().order().empty());
  // an overflow is refused and the transaction is unchanged; a simple Query too
  CHECK_EQ(Conns::run(n.a, group("up", {"2147483647", "0", "1"})), std::string("<refused>"));
  CHECK_EQ(Conns::run(n.a, frame('Q', cstr("SELECT 1"))), std::string("<refused>"));
  CHECK(n.a.txn().open());
  CHECK(n.a.txn().order().empty());
  n.a.release_txn();
  CHECK(!n.a.txn().open());
}

DSQL_TEST(TxnLane, StalePlansAndASchemaChangeAreLeftToTheGeneralPath) {
  Conns n;
  Conns::run(n.a, group("begin", {}));
  Conns::run(n.a, group("up", {"1", "1", "1"}));
  n.fast->bump_epoch();  // a DDL began
  CHECK_EQ(Conns::run(n.a, group("up", {"1", "1", "1"})), std::string("<refused>"));
  CHECK_EQ(Conns::run(n.a, group("commit", {})), std::string("<refused>"));
  CHECK(n.a.txn().open());
  CHECK_EQ(n.a.txn().order().size(), size_t{1});
  CHECK(!n.a.commit_failure().failed);
}

DSQL_TEST(TxnLane, InsertWithAHiddenRowIdAndTheClock) {
  Lane n;
  storage::KeyLayout hidden{kTable + 1, {storage::KeyColumn{TypeId::kInt8}}};
  storage::RowLayout hrow{{TypeId::kInt4, TypeId::kTimestamp, TypeId::kText}};
  InsertPlan p{hidden, true, {}, 1, 0, hrow,
               {{InsertPlan::Source::kParam, 0}, {InsertPlan::Source::kNow, 0},
                {InsertPlan::Source::kNull, 0}},
               {false, false, false}, 1};
  p.validate();
  LaneTxn t;
  const int64_t wall_ns = 946'684'800'123'456'789;  // 2000-01-01 00:00:00.123456789 UTC
  t.open_at(n.kernels->begin(), wall_ns, 0, 1, Lane::limits(10));
  CHECK(t.insert(*n.kernels, p, params({7}), 0) == LaneStatus::kDone);
  CHECK(t.insert(*n.kernels, p, params({8}), 0) == LaneStatus::kDone);
  REQUIRE(t.order().size() == 2);
  CHECK_EQ(t.order()[0], hidden.encode(std::vector<Datum>{int64_t{1000}}));
  CHECK_EQ(t.order()[1], hidden.encode(std::vector<Datum>{int64_t{1001}}));
  const auto row = hrow.decode(std::string_view(t.value_of(t.order()[0])).substr(1));
  CHECK(row[0] == Datum{int32_t{7}});
  CHECK(row[1] == Datum{storage::Timestamp{123'456}});
  CHECK(storage::is_null(row[2]));
  CHECK(t.claim_of(t.order()[0]) == adjudicator::Kind::kFull);
}

// Mutated lane groups (bytes flipped, inserted, erased, truncated) against a connection in and
// out of a transaction: serve() refuses with nothing written and the transaction unchanged, or
// answers whole with ReadyForQuery telling the transaction's state; its writes stay one per
// key; every row is still there afterwards.
DSQL_TEST(TxnLane, MutatedGroupsAreRefusedOrAnsweredWhole) {
  Conns n;
  const std::vector<std::string> seeds = {group("begin", {}), group("up", {"3", "0", "1"}),
                                          group("sel", {"1"}), group("commit", {}),
                                          group("up", {"-2", "5", "2"})};
  uint64_t state = 0x2545F4914F6CDD1DULL;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  uint64_t accepted = 0, refused_in_txn = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string in = seeds[next() % seeds.size()];
    const int edits = static_cast<int>(next() % 3);  // 0: the seed itself
    for (int e = 0; e < edits && !in.empty(); ++e) {
      const size_t at = next() % in.size();
      switch (next() % 4) {
        case 0: in[at] = static_cast<char>(next()); break;
        case 1: in.resize(at); break;
        case 2: in.insert(at, 1, static_cast<char>(next())); break;
        default: in.erase(at, 1); break;
      }
    }
    const bool open = n.a.txn().open();
    const size_t writes = n.a.txn().order().size();
    const int64_t start = n.a.txn().start_ts();
    std::string out = "x";
    if (n.a.serve(in, &out)) {
      ++accepted;
      REQUIRE(out.size() > 1);
      const auto msgs = messages(out.substr(1));
      CHECK_EQ(msgs.back().first, 'Z');
      CHECK_EQ(msgs.back().second, std::string(n.a.txn().open() ? "T" : "I"));
    } else {
      CHECK_EQ(out, std::string("x"));
      CHECK_EQ(n.a.txn().open(), open);
      CHECK_EQ(n.a.txn().order().size(), writes);
      CHECK_EQ(n.a.txn().start_ts(), start);
      if (open) {
        ++refused_in_txn;
        if (next() % 8 == 0) n.a.release_txn();  // (the general path would take it over)
      }
    }
    CHECK(n.a.txn().order().size() <= 2);  // rows 1 and 2 only
  }
  CHECK(accepted > 1000);
  CHECK(refused_in_txn > 0);
  const int64_t w = n.storage->watermark();
  for (int32_t id = 1; id <= 4; ++id) CHECK(n.read(n.key_of(id), w) != "<absent>");
}

}  // namespace
}  // namespace dsql::wire
