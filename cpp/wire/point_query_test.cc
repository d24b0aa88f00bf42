// The point-query fast path: literal normalization and serve().
// Goal: serve() answers exactly the groups it supports, with the right bytes, and refuses
// everything else without writing anything. Method: a real ShardMap holding rows of a table
// (id int4 key; v int8, name text, flag bool), plans built by hand, messages framed by hand;
// the replies are parsed back and compared with the stored rows. (The server's tests compare
// the bytes with the general path's for real clients: tests/test_server_fastpath.py.)
#include <cstdint>
#include <string>
#include <vector>

#include "storage/codec_bytes.h"
#include "testing/unit.h"
#include "wire/point_query.h"
#include "wire/test_support.h"

namespace dsql::wire {
namespace {

using storage::Datum;
using storage::TypeId;
using test::bind_execute;
using test::cstr;
using test::frame;
using test::i16;
using test::i32;

struct Fixture {
  std::shared_ptr<storage::ShardMap> store = std::make_shared<storage::ShardMap>();
  std::shared_ptr<FastPath> fast = std::make_shared<FastPath>(store);
  storage::KeyLayout key{42, {storage::KeyColumn{TypeId::kInt4}}};
  storage::RowLayout row{{TypeId::kInt8, TypeId::kText, TypeId::kBool}};

  Fixture() {
    std::vector<std::string> keys, values;
    for (int32_t id = 1; id <= 3; ++id) {
      keys.push_back(key.encode(std::vector<Datum>{id}));
      std::vector<Datum> vals{int64_t{id} * 1000, std::string("n") + std::to_string(id),
                              id % 2 == 1};
      if (id == 3) vals[1] = storage::Null{};
      values.push_back(std::string(1, '\0') + row.encode(vals));
    }
    std::vector<storage::WriteView> writes;
    for (size_t i = 0; i < keys.size(); ++i) writes.push_back({keys[i], values[i], false});
    store->apply(10, writes.data(), writes.size());
    store->advance_watermark(10);
  }

  std::shared_ptr<PointPlan> plan(uint32_t nparams = 1) const {
    auto p = std::make_shared<PointPlan>(PointPlan{key, {0}, nparams, 0, row, {}, {},
                                                   fast->epoch()});
    p->outputs = {Output{false, 0}, Output{false, 1}, Output{true, 0}, Output{false, 2}};
    p->fields = {Field{"v", 16384, 2, kOidInt8, 8, -1}, Field{"name", 16384, 3, kOidText, -1, -1},
                 Field{"id", 16384, 1, kOidInt4, 4, -1}, Field{"flag", 16384, 4, kOidBool, 1, -1}};
    p->validate();
    return p;
  }
};

// Splits backend messages into (type, body).
std::vector<std::pair<char, std::string>> messages(const std::string& out) {
  std::vector<std::pair<char, std::string>> msgs;
  size_t pos = 0;
  while (pos + 5 <= out.size()) {
    const uint32_t len = storage::bytes::load_be32(reinterpret_cast<const uint8_t*>(out.data() + pos + 1));
    msgs.emplace_back(out[pos], out.substr(pos + 5, len - 4));
    pos += 1 + len;
  }
  REQUIRE(pos == out.size());
  return msgs;
}

// The column values of a DataRow body ("<null>" for NULL).
std::vector<std::string> columns(const std::string& body) {
  std::vector<std::string> cols;
  const auto* p = reinterpret_cast<const uint8_t*>(body.data());
  const uint16_t n = storage::bytes::load_be16(p);
  size_t pos = 2;
  for (uint16_t i = 0; i < n; ++i) {
    const auto len = static_cast<int32_t>(storage::bytes::load_be32(p + pos));
    pos += 4;
    if (len < 0) {
      cols.push_back("<null>");
    } else {
      cols.push_back(body.substr(pos, static_cast<size_t>(len)));
      pos += static_cast<size_t>(len);
    }
  }
  return cols;
}

DSQL_TEST(PointQuery, NormalizeLiftsIntegerLiterals) {
  Normalized n;
  REQUIRE(normalize("SELECT v FROM t WHERE id = 12 AND k=3000000000;", &n));
  CHECK_EQ(n.text, std::string("SELECT v FROM t WHERE id = $4 AND k=$8;"));
  CHECK_EQ(n.values.size(), size_t{2});
  CHECK_EQ(n.values[0], int64_t{12});
  CHECK_EQ(n.oids[1], kOidInt8);
  REQUIRE(normalize("select c2 from t2 where id=7", &n));  // digits inside identifiers stay
  CHECK_EQ(n.text, std::string("select c2 from t2 where id=$4"));
  for (const char* bad : {"SELECT 'x'", "SELECT 1.5", "SELECT 1e5", "SELECT $1", "SELECT 1; SELECT 2",
                          "SELECT 1 -- c", "SELECT /* c */ 1", "SELECT \"q\"", "SELECT 99999999999999999999",
                          "SELECT 12abc", ""}) {
    CHECK(!normalize(bad, &n));
  }
}

DSQL_TEST(PointQuery, SimpleQueryAnswersRegisteredText) {
  Fixture f;
  FastConn conn(f.fast);
  Normalized n;
  REQUIRE(normalize("SELECT v, name, id, flag FROM t WHERE id = 1", &n));
  conn.add_query(n.text, f.plan());
  std::string out;
  REQUIRE(conn.serve(frame('Q', cstr("SELECT v, name, id, flag FROM t WHERE id = 2")), &out));
  auto msgs = messages(out);
  REQUIRE(msgs.size() == size_t{4});
  CHECK_EQ(msgs[0].first, 'T');
  CHECK_EQ(msgs[1].first, 'D');
  CHECK(columns(msgs[1].second) == (std::vector<std::string>{"2000", "n2", "2", "f"}));
  CHECK_EQ(msgs[2].second, cstr("SELECT 1"));
  CHECK_EQ(msgs[3].first, 'Z');
  CHECK_EQ(msgs[3].second, std::string("I"));
  out.clear();  // a missing row: no DataRow, SELECT 0; a NULL column
  REQUIRE(conn.serve(frame('Q', cstr("SELECT v, name, id, flag FROM t WHERE id = 9")) +
                         frame('Q', cstr("SELECT v, name, id, flag FROM t WHERE id = 3")), &out));
  msgs = messages(out);
  REQUIRE(msgs.size() == size_t{7});
  CHECK_EQ(msgs[1].second, cstr("SELECT 0"));
  CHECK(columns(msgs[4].second) == (std::vector<std::string>{"3000", "<null>", "3", "t"}));
  CHECK_EQ(f.fast->served(), uint64_t{3});
}

DSQL_TEST(PointQuery, ExtendedGroupTextAndBinary) {
  Fixture f;
  FastConn conn(f.fast);
  conn.add_statement("s1", f.plan(), {kOidInt4});
  std::string out;
  REQUIRE(conn.serve(bind_execute("s1", {" 1 "}, /*describe=*/true), &out));
  auto msgs = messages(out);
  REQUIRE(msgs.size() == size_t{5});
  CHECK_EQ(msgs[0].first, '2');
  CHECK_EQ(msgs[1].first, 'T');
  CHECK(columns(msgs[2].second) == (std::vector<std::string>{"1000", "n1", "1", "t"}));
  out.clear();
  REQUIRE(conn.serve(bind_execute("s1", {"2"}, false, 1), &out));
  msgs = messages(out);
  REQUIRE(msgs.size() == size_t{4});
  const auto cols = columns(msgs[1].second);
  CHECK_EQ(cols[0], std::string("\0\0\0\0\0\0\x07\xd0", 8));
  CHECK_EQ(cols[2], std::string("\0\0\0\x02", 4));
  CHECK_EQ(cols[3], std::string("\0", 1));
}

DSQL_TEST(PointQuery, RefusesWithoutWritingAnything) {
  Fixture f;
  FastConn conn(f.fast);
  conn.add_statement("s1", f.plan(), {kOidInt4});
  std::string out = "kept";
  const std::string ok = bind_execute("s1", {"1"});
  CHECK(!conn.serve(bind_execute("nope", {"1"}), &out));            // unknown statement
  CHECK(!conn.serve(bind_execute("s1", {"abc"}), &out));            // 22P02 on the general path
  CHECK(!conn.serve(bind_execute("s1", {"3000000000"}), &out));     // 22003 for int4
  CHECK(!conn.serve(ok.substr(0, ok.size() - 5), &out));            // no Sync yet
  CHECK(!conn.serve(ok.substr(0, ok.size() - 2), &out));            // a torn message
  CHECK(!conn.serve(ok + frame('P', cstr("") + cstr("SELECT 1") + i16(0)), &out));  // + Parse
  CHECK(!conn.serve(frame('Q', cstr("SELECT v FROM t WHERE id = 1")), &out));      // unregistered
  CHECK_EQ(out, std::string("kept"));
  f.fast->bump_epoch();  // a DDL: the plan is stale
  CHECK(!conn.serve(ok, &out));
  CHECK_EQ(out, std::string("kept"));
  CHECK_EQ(conn.stats().refused, uint64_t{8});
  CHECK_EQ(conn.stats().served, uint64_t{0});
}

DSQL_TEST(PointQuery, OutOfRangeAndNullKeysMatchNothing) {
  Fixture f;
  FastConn conn(f.fast);
  conn.add_statement("s8", f.plan(), {kOidInt8});  // an int8 parameter for the int4 key
  std::string b = cstr("") + cstr("s8") + i16(0) + i16(1) + i32(-1) + i16(0);
  for (const std::string& in : {bind_execute("s8", {"3000000000"}),
                                frame('B', b) + frame('E', cstr("") + i32(0)) + frame('S', "")}) {
    std::string out;
    REQUIRE(conn.serve(in, &out));
    const auto msgs = messages(out);
    REQUIRE(msgs.size() == size_t{3});
    CHECK_EQ(msgs[1].second, cstr("SELECT 0"));
  }
}

DSQL_TEST(PointQuery, ValidateRejectsBadPlans) {
  Fixture f;
  auto p = f.plan();
  p->key_params = {1};  // only one parameter
  bool threw = false;
  try {
    p->validate();
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  FastConn conn(f.fast);
  threw = false;
  try {
    conn.add_statement("s", f.plan(), {kOidText});
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

// Mutated and truncated message groups (a seeded random walk): serve() never reads out of
// bounds (the sanitizer-free check is that nothing crashes and every accepted buffer yields
// well-formed replies that end in ReadyForQuery), and refusals leave the output unchanged.
DSQL_TEST(PointQuery, MutatedInputIsRefusedOrAnsweredWhole) {
  Fixture f;
  FastConn conn(f.fast);
  conn.add_statement("s1", f.plan(), {kOidInt4});
  Normalized n;
  REQUIRE(normalize("SELECT v, name, id, flag FROM t WHERE id = 1", &n));
  conn.add_query(n.text, f.plan());
  const std::vector<std::string> seeds = {
      bind_execute("s1", {"1"}, true), bind_execute("s1", {"2"}, false, 1),
      frame('Q', cstr("SELECT v, name, id, flag FROM t WHERE id = 3"))};
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  uint64_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string in = seeds[next() % seeds.size()];
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits && !in.empty(); ++e) {
      const size_t at = next() % in.size();
      switch (next() % 4) {
        case 0: in[at] = static_cast<char>(next()); break;       // flip a byte
        case 1: in.resize(at); break;                            // truncate
        case 2: in.insert(at, 1, static_cast<char>(next())); break;
        default: in.erase(at, 1); break;
      }
    }
    std::string out = "x";
    if (conn.serve(in, &out)) {
      ++accepted;
      REQUIRE(out.size() > 1);
      const auto msgs = messages(out.substr(1));
      CHECK_EQ(msgs.back().first, 'Z');
    } else {
      CHECK_EQ(out, std::string("x"));
    }
  }
  CHECK(accepted > 0);  // some edits (a digit of the key) still make valid requests
}

}  // namespace
}  // namespace dsql::wire
