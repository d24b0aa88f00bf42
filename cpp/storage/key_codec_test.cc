// The order-preserving key codec.
// Goal: bytewise order of encoded keys is PostgreSQL's order for every column type, direction
// and NULL placement, alone and in composite keys; decode gives back equal values; every
// encoding is self-delimiting; corrupt keys are rejected, never misread.
// Method: seeded random values weighted to edge cases (testutil::ValueGen), sorted by the
// reference comparator KeyLayout::compare (PostgreSQL's per-type order, datum.cc) and compared
// with memcmp order of the encodings over all pairs; hand-picked edge cases beside them.
#include "storage/key_codec.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "storage/codec_test_util.h"
#include "storage/pg_calendar.h"
#include "testing/unit.h"

namespace dsql::storage {
namespace {

using testutil::ValueGen;

int sign(int v) { return (v > 0) - (v < 0); }

int bytes_cmp(const std::string& a, const std::string& b) {
  return sign(std::string_view(a).compare(std::string_view(b)));
}

// The order the key encoding promises: PostgreSQL's, refined for intervals of equal span by
// (months, days) in the column's direction.
int key_order(const KeyLayout& layout, const std::vector<Datum>& a, const std::vector<Datum>& b) {
  const int c = layout.compare(a, b);
  if (c != 0) return sign(c);
  for (size_t i = 0; i < a.size(); ++i) {
    const auto* ia = std::get_if<Interval>(&a[i]);
    const auto* ib = std::get_if<Interval>(&b[i]);
    if (ia == nullptr || ib == nullptr) continue;
    int t = ia->months != ib->months ? (ia->months < ib->months ? -1 : 1)
                                     : (ia->days != ib->days ? (ia->days < ib->days ? -1 : 1) : 0);
    if (layout.columns()[i].descending) t = -t;
    if (t != 0) return t;
  }
  return 0;
}

// Checks order and round trip of `rows` under `layout`; returns the number of failures.
int check_rows(const KeyLayout& layout, const std::vector<std::vector<Datum>>& rows) {
  std::vector<std::string> keys;
  keys.reserve(rows.size());
  for (const auto& row : rows) keys.push_back(layout.encode(row));
  int failures = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::vector<Datum> back = layout.decode(keys[i]);
    if (layout.compare(back, rows[i]) != 0 || layout.encode(back) != keys[i]) {
      if (failures++ < 5) {
        dsql::testing::report_failure(__FILE__, __LINE__,
                                      "round trip of " + debug_string(rows[i][0]));
      }
    }
    for (size_t j = i + 1; j < rows.size(); ++j) {
      const int want = key_order(layout, rows[i], rows[j]);
      const int got = bytes_cmp(keys[i], keys[j]);
      if (want != got && failures++ < 5) {
        dsql::testing::report_failure(
            __FILE__, __LINE__,
            "order of " + debug_string(rows[i][0]) + " vs " + debug_string(rows[j][0]) +
                ": want " + std::to_string(want) + " got " + std::to_string(got));
      }
    }
  }
  return failures;
}

DSQL_TEST(KeyCodec, EveryTypeEveryDirectionOrdersLikePostgres) {
  ValueGen gen(42);
  for (const TypeId type : testutil::all_types()) {
    for (int mode = 0; mode < 4; ++mode) {
      const bool desc = mode & 1;
      const bool nulls_first = mode & 2;
      const KeyLayout layout(7, {KeyColumn{type, desc, nulls_first}});
      std::vector<std::vector<Datum>> rows;
      for (int i = 0; i < 160; ++i) rows.push_back({gen.maybe_null(type, 16)});
      rows.push_back({Null{}});
      CHECK_EQ(check_rows(layout, rows), 0);
    }
  }
}

DSQL_TEST(KeyCodec, CompositeKeysOrderColumnByColumn) {
  ValueGen gen(7);
  const std::vector<std::vector<KeyColumn>> shapes = {
      {{TypeId::kText, false, false}, {TypeId::kInt8, true, true}},
      {{TypeId::kNumeric, false, true}, {TypeId::kFloat8, true, false}, {TypeId::kBytea}},
      {{TypeId::kBpchar, true, false}, {TypeId::kInterval}, {TypeId::kUuid, true, true}},
      {{TypeId::kBool}, {TypeId::kDate, true, true}, {TypeId::kText, true, true}, {TypeId::kInt2}},
  };
  for (const auto& shape : shapes) {
    const KeyLayout layout(123456, shape);
    std::vector<std::vector<Datum>> rows;
    for (int i = 0; i < 300; ++i) {
      std::vector<Datum> row;
      for (const KeyColumn& c : shape) {
        // Few distinct leading values, so later columns decide often.
        row.push_back(gen.one_in(3) ? Datum{Null{}} : gen.value(c.type));
      }
      rows.push_back(std::move(row));
    }
    CHECK_EQ(check_rows(layout, rows), 0);
  }
}

DSQL_TEST(KeyCodec, PrefixOrdersTablesApart) {
  const KeyLayout a(1, {{TypeId::kText}});
  const KeyLayout b(2, {{TypeId::kText}});
  const std::string ka = a.encode(std::vector<Datum>{std::string("\xff\xff\xff")});
  const std::string kb = b.encode(std::vector<Datum>{std::string("")});
  CHECK(ka < kb);
  CHECK_EQ(ka.substr(0, 4), std::string("\0\0\0\x01", 4));
  CHECK_THROW_CODEC(b.decode(ka));
}

DSQL_TEST(KeyCodec, IntegerLimits) {
  const KeyLayout layout(0, {{TypeId::kInt8}});
  const int64_t vals[] = {std::numeric_limits<int64_t>::min(), -1, 0, 1,
                          std::numeric_limits<int64_t>::max()};
  std::string prev;
  for (const int64_t v : vals) {
    const std::string k = layout.encode(std::vector<Datum>{v});
    CHECK_EQ(k.size(), size_t{4 + 1 + 8});
    CHECK(prev < k);
    CHECK(std::get<int64_t>(layout.decode(k)[0]) == v);
    prev = k;
  }
  const KeyLayout small(0, {{TypeId::kInt2, true, false}});
  const std::string lo = small.encode(std::vector<Datum>{int16_t{-32768}});
  const std::string hi = small.encode(std::vector<Datum>{int16_t{32767}});
  CHECK(hi < lo);  // DESC
}

DSQL_TEST(KeyCodec, FloatsNaNNegativeZeroInfinities) {
  const KeyLayout layout(0, {{TypeId::kFloat8}});
  auto key = [&](double v) { return layout.encode(std::vector<Datum>{v}); };
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(key(-inf) < key(-1e308));
  CHECK(key(-1e-308) < key(0.0));
  CHECK_EQ(key(-0.0), key(0.0));
  CHECK(key(0.0) < key(std::numeric_limits<double>::denorm_min()));
  CHECK(key(1e308) < key(inf));
  CHECK(key(inf) < key(nan));
  CHECK_EQ(key(nan), key(-nan));
  uint64_t payload_bits = 0x7FF0'0000'0000'1234ull;
  double payload;
  std::memcpy(&payload, &payload_bits, 8);
  CHECK_EQ(key(payload), key(nan));
  CHECK(std::isnan(std::get<double>(layout.decode(key(payload))[0])));
  CHECK(!std::signbit(std::get<double>(layout.decode(key(-0.0))[0])));
}

DSQL_TEST(KeyCodec, TextEscapesNulAndStaysSelfDelimiting) {
  const KeyLayout layout(0, {{TypeId::kText}, {TypeId::kInt4}});
  auto key = [&](std::string s, int32_t n) {
    return layout.encode(std::vector<Datum>{std::move(s), n});
  };
  // "" < "\0" < "\0\0" < "\0\x01" < "\x01" < "a" < "a\0" < "ab"; the int column never interferes.
  const std::vector<std::string> sorted = {std::string(), std::string(1, '\0'),
                                           std::string(2, '\0'), std::string("\0\x01", 2),
                                           "\x01", "a", std::string("a\0", 2), "ab"};
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    CHECK(key(sorted[i], INT32_MAX) < key(sorted[i + 1], INT32_MIN));
    const auto back = layout.decode(key(sorted[i], 5));
    CHECK(std::get<std::string>(back[0]) == sorted[i]);
    CHECK(std::get<int32_t>(back[1]) == 5);
  }
  const KeyLayout desc(0, {{TypeId::kText, true, false}, {TypeId::kInt4}});
  const std::string k = desc.encode(std::vector<Datum>{std::string("a\0b", 3), int32_t{9}});
  CHECK(std::get<std::string>(desc.decode(k)[0]) == std::string("a\0b", 3));
}

DSQL_TEST(KeyCodec, BpcharIgnoresTrailingSpaces) {
  const KeyLayout layout(0, {{TypeId::kBpchar}});
  const std::string a = layout.encode(std::vector<Datum>{std::string("ab")});
  const std::string b = layout.encode(std::vector<Datum>{std::string("ab   ")});
  CHECK_EQ(a, b);
  CHECK(std::get<std::string>(layout.decode(b)[0]) == "ab");
  CHECK(layout.encode(std::vector<Datum>{std::string(" ")}) ==
        layout.encode(std::vector<Datum>{std::string()}));
}

Numeric num(const char* s) {
  auto n = Numeric::parse(s);
  REQUIRE(n.has_value());
  return *n;
}

DSQL_TEST(KeyCodec, NumericNormalisesTrailingZerosAndOrders) {
  const KeyLayout layout(0, {{TypeId::kNumeric}});
  auto key = [&](const char* s) { return layout.encode(std::vector<Datum>{num(s)}); };
  CHECK_EQ(key("1.0"), key("1.00"));
  CHECK_EQ(key("1"), key("1.000"));
  CHECK_EQ(key("100"), key("1E+2"));
  CHECK_EQ(key("0"), key("-0.000"));
  const char* sorted[] = {"-Infinity", "-1E+1000", "-100", "-99.99", "-1", "-0.5", "-0.05",
                          "-1E-16383", "0", "1E-16383", "0.05", "0.5", "0.50001", "1",
                          "1.000000001", "9.9", "10", "99", "100", "1E+1000", "Infinity", "NaN"};
  for (size_t i = 0; i + 1 < std::size(sorted); ++i) {
    CHECK(key(sorted[i]) < key(sorted[i + 1]));
  }
  CHECK_EQ(key("NaN"), key("-NaN"));
  // Decode: equal value, smallest scale >= 0.
  CHECK_EQ(std::get<Numeric>(layout.decode(key("1.500"))[0]).to_string(), std::string("15E-1"));
  CHECK_EQ(std::get<Numeric>(layout.decode(key("1E+3"))[0]).to_string(), std::string("1000"));
  CHECK_EQ(std::get<Numeric>(layout.decode(key("-0.0"))[0]).to_string(), std::string("0"));
}

DSQL_TEST(KeyCodec, HugeNumerics) {
  const KeyLayout layout(0, {{TypeId::kNumeric, true, false}});
  std::string big = "9" + std::string(131'071, '8') + "." + std::string(16'382, '7') + "1";
  const Numeric a = num(big.c_str());
  CHECK(a.fits_pg());
  big[0] = '8';
  const Numeric b = num(big.c_str());
  const std::string ka = layout.encode(std::vector<Datum>{a});
  const std::string kb = layout.encode(std::vector<Datum>{b});
  CHECK(ka < kb);  // DESC
  CHECK(compare_numeric(std::get<Numeric>(layout.decode(ka)[0]), a) == 0);
  CHECK(std::get<Numeric>(layout.decode(ka)[0]) == a);
  CHECK(!num("1E+131072").fits_pg());
  CHECK(num("1E+131071").fits_pg());
  CHECK(!num("1E-16384").fits_pg());
  CHECK_THROW_CODEC(layout.encode(std::vector<Datum>{num("1E-16384")}));
}

DSQL_TEST(KeyCodec, IntervalsOfEqualSpanAreAdjacentDistinctKeys) {
  const KeyLayout layout(0, {{TypeId::kInterval}});
  auto key = [&](int32_t m, int32_t d, int64_t us) {
    return layout.encode(std::vector<Datum>{Interval{m, d, us}});
  };
  const std::string month = key(1, 0, 0);
  const std::string days30 = key(0, 30, 0);
  CHECK(month != days30);
  CHECK(days30 < month);  // same span: months break the tie
  CHECK(key(0, 29, 86'400'000'000 - 1) < days30);
  CHECK(month < key(0, 30, 1));
  CHECK(key(0, 31, 0) > month);
  const Interval max{INT32_MAX, INT32_MAX, INT64_MAX};
  const Interval min{INT32_MIN, INT32_MIN, INT64_MIN};
  CHECK(std::get<Interval>(layout.decode(layout.encode(std::vector<Datum>{max}))[0]) == max);
  CHECK(std::get<Interval>(layout.decode(layout.encode(std::vector<Datum>{min}))[0]) == min);
}

DSQL_TEST(KeyCodec, NullPlacement) {
  for (int mode = 0; mode < 4; ++mode) {
    const bool desc = mode & 1;
    const bool nulls_first = mode & 2;
    const KeyLayout layout(0, {{TypeId::kInt4, desc, nulls_first}});
    const std::string null_key = layout.encode(std::vector<Datum>{Null{}});
    for (const int32_t v : {INT32_MIN, 0, INT32_MAX}) {
      const std::string k = layout.encode(std::vector<Datum>{v});
      CHECK_EQ(null_key < k, nulls_first);
    }
    CHECK(is_null(layout.decode(null_key)[0]));
  }
}

DSQL_TEST(KeyCodec, PrefixBoundsCoverExactlyTheKeysWithThoseLeadingValues) {
  ValueGen gen(99);
  const KeyLayout layout(5, {{TypeId::kText}, {TypeId::kInt8, true, false}, {TypeId::kBool}});
  const KeyLayout other(6, {{TypeId::kText}});
  for (int round = 0; round < 50; ++round) {
    const std::vector<Datum> leading = {gen.maybe_null(TypeId::kText, 4),
                                        gen.maybe_null(TypeId::kInt8, 4)};
    for (size_t n = 0; n <= leading.size(); ++n) {
      const auto [lo, hi] = layout.prefix_bounds(std::span(leading).first(n));
      CHECK(lo < hi);
      for (int i = 0; i < 40; ++i) {
        std::vector<Datum> row = {gen.maybe_null(TypeId::kText, 4),
                                  gen.maybe_null(TypeId::kInt8, 4),
                                  gen.maybe_null(TypeId::kBool, 4)};
        if (gen.one_in(2)) std::copy_n(leading.begin(), n, row.begin());
        bool matches = true;
        for (size_t c = 0; c < n; ++c) {
          const bool both_null = is_null(row[c]) && is_null(leading[c]);
          const bool one_null = is_null(row[c]) != is_null(leading[c]);
          if (one_null ||
              (!both_null && pg_compare(layout.columns()[c].type, row[c], leading[c]) != 0)) {
            matches = false;
          }
        }
        const std::string k = layout.encode(row);
        CHECK_EQ(lo <= k && k < hi, matches);
      }
    }
  }
  const auto [lo, hi] = layout.prefix_bounds({});
  CHECK(other.encode(std::vector<Datum>{std::string()}) >= hi);
  CHECK_EQ(key_successor(std::string("a\xff\xff", 3)), std::string("b"));
}

DSQL_TEST(KeyCodec, EveryTruncationOrExtensionIsRejected) {
  ValueGen gen(3);
  for (const TypeId type : testutil::all_types()) {
    const KeyLayout layout(77, {{type, gen.one_in(2), gen.one_in(2)}, {TypeId::kInt2}});
    for (int i = 0; i < 20; ++i) {
      const std::string k =
          layout.encode(std::vector<Datum>{gen.maybe_null(type), gen.maybe_null(TypeId::kInt2)});
      for (size_t n = 0; n < k.size(); ++n) CHECK_THROW_CODEC(layout.decode(k.substr(0, n)));
      CHECK_THROW_CODEC(layout.decode(k + "x"));
    }
  }
}

DSQL_TEST(KeyCodec, InvalidBytesAreRejected) {
  const KeyLayout nums(0, {{TypeId::kNumeric}});
  const std::string head("\0\0\0\0\x01", 5);
  CHECK(nums.decode(head + std::string("\x04\x80\0\0\x01\x14", 6)).size() == 1);  // 1
  CHECK_THROW_CODEC(nums.decode(head + "\x07"));                         // unknown class
  CHECK_THROW_CODEC(nums.decode(head + std::string("\x04\x80\0\0\x01\xff", 6)));  // digit > 199
  CHECK_THROW_CODEC(nums.decode(head + std::string("\x04\x80\0\0\x01\x15\0", 7)));  // "100"
  const KeyLayout ints(0, {{TypeId::kInt4, false, false}});
  CHECK_THROW_CODEC(ints.decode(std::string("\0\0\0\0\x00", 5)));       // NULLS FIRST marker
  const KeyLayout bools(0, {{TypeId::kBool}});
  CHECK_THROW_CODEC(bools.decode(head + "\x02"));
  const KeyLayout texts(0, {{TypeId::kText}});
  CHECK_THROW_CODEC(texts.decode(head + std::string("a\0\x02", 3)));  // bad escape
  CHECK_THROW_CODEC(KeyLayout(0, {}).decode(std::string("\xff\xff\xff\xff", 4)));  // reserved
}

DSQL_TEST(KeyCodec, WrongTypesAndOutOfDomainValuesThrow) {
  const KeyLayout layout(0, {{TypeId::kInt4}, {TypeId::kTime}});
  CHECK_THROW_CODEC(layout.encode(std::vector<Datum>{int64_t{1}, Time{0}}));
  CHECK_THROW_CODEC(layout.encode(std::vector<Datum>{int32_t{1}, Time{-1}}));
  CHECK_THROW_CODEC(layout.encode(std::vector<Datum>{int32_t{1}}));
  std::string out = "keep";
  try {
    layout.encode(std::vector<Datum>{int32_t{1}, Time{86'400'000'001}}, &out);
  } catch (const CodecError&) {
  }
  CHECK_EQ(out, std::string("keep"));
}

DSQL_TEST(KeyCodec, BatchesMatchSingleCalls) {
  ValueGen gen(11);
  const KeyLayout layout(9, {{TypeId::kText}, {TypeId::kInt8}});
  std::vector<std::vector<Datum>> rows;
  for (int i = 0; i < 100; ++i) {
    rows.push_back({gen.maybe_null(TypeId::kText), gen.maybe_null(TypeId::kInt8)});
  }
  const std::vector<std::string> keys = layout.encode_batch(rows);
  REQUIRE(keys.size() == rows.size());
  const auto back = layout.decode_batch(keys);
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK_EQ(keys[i], layout.encode(rows[i]));
    CHECK(layout.compare(back[i], rows[i]) == 0);
  }
}

// ---- values and calendar ----------------------------------------------------------------------

DSQL_TEST(Numeric, ParseAndPrint) {
  CHECK_EQ(num("1.50").to_string(), std::string("150E-2"));
  CHECK_EQ(num("-0.00").to_string(), std::string("0E-2"));
  CHECK_EQ(num("0012").to_string(), std::string("12"));
  CHECK_EQ(num("1e5").to_string(), std::string("1E5"));
  CHECK_EQ(num("-2.5E-3").to_string(), std::string("-25E-4"));
  CHECK_EQ(num(".5").to_string(), std::string("5E-1"));
  CHECK_EQ(num("5.").to_string(), std::string("5"));
  CHECK(num("-NaN").kind == Numeric::Kind::kNaN);
  CHECK(num("-Infinity").kind == Numeric::Kind::kNegInf);
  CHECK(num("inf").kind == Numeric::Kind::kPosInf);
  for (const char* bad : {"", "-", ".", "1e", "1e+", "abc", "1.2.3", "sNaN", " 1", "1 ",
                          "1e99999999999", "1E3000000000"}) {
    CHECK(!Numeric::parse(bad).has_value());
  }
  CHECK(compare_numeric(num("1.0"), num("1.00")) == 0);
  CHECK(compare_numeric(num("-Infinity"), num("-1E+131071")) < 0);
  CHECK(compare_numeric(num("NaN"), num("Infinity")) > 0);
}

DSQL_TEST(Calendar, CivilRoundTrip) {
  for (int64_t d = -800'000; d <= 3'000'000; d += 37) {
    const pg::Civil c = pg::civil_from_days(d);
    CHECK_EQ(pg::days_from_civil(c.year, c.month, c.day), d);
  }
  CHECK_EQ(pg::days_from_civil(1, 1, 1), int64_t{-730'119});
  CHECK_EQ(pg::days_from_civil(9999, 12, 31), int64_t{2'921'939});
  CHECK_EQ(pg::days_from_civil(2024, 2, 29), int64_t{8'825});
  CHECK_EQ(pg::floor_div(-1, 86'400), int64_t{-1});
  CHECK_EQ(pg::floor_mod(-1, 86'400), int64_t{86'399});
}

}  // namespace
}  // namespace dsql::storage
