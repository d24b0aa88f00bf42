// The row codec.
// Goal: every row of every column type comes back bit-exact (NaN payloads, -0.0, numeric
// scale, trailing spaces); batches equal single calls; rows written before a column was added
// decode with NULLs; corrupt or foreign bytes are rejected, never misread.
// Method: seeded random rows over all types with NULLs (testutil::ValueGen), compared with
// testutil::identical; every truncation of valid rows; hand-made invalid bytes.
#include "storage/row_codec.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "storage/codec_test_util.h"
#include "testing/unit.h"

namespace dsql::storage {
namespace {

using testutil::identical;
using testutil::ValueGen;

std::vector<Datum> random_row(ValueGen& gen, const std::vector<TypeId>& types) {
  std::vector<Datum> row;
  for (const TypeId t : types) row.push_back(gen.maybe_null(t, 5));
  return row;
}

DSQL_TEST(RowCodec, EveryTypeRoundTripsExactly) {
  ValueGen gen(1);
  const std::vector<TypeId>& types = testutil::all_types();
  const RowLayout layout(types);
  for (int i = 0; i < 500; ++i) {
    const std::vector<Datum> row = random_row(gen, types);
    const std::vector<Datum> back = layout.decode(layout.encode(row));
    REQUIRE(back.size() == row.size());
    for (size_t c = 0; c < row.size(); ++c) {
      if (!identical(back[c], row[c])) {
        dsql::testing::report_failure(
            __FILE__, __LINE__, debug_string(row[c]) + " came back as " + debug_string(back[c]));
      }
    }
  }
}

DSQL_TEST(RowCodec, SpecialValuesAreKeptBitExact) {
  const RowLayout layout({TypeId::kFloat8, TypeId::kFloat4, TypeId::kNumeric, TypeId::kBpchar});
  uint64_t nan_bits = 0xFFF0'0000'0000'BEEFull;
  double nan_payload;
  std::memcpy(&nan_payload, &nan_bits, 8);
  const std::vector<Datum> row = {nan_payload, -0.0f, *Numeric::parse("1.500"),
                                  std::string("ab  ")};
  const std::vector<Datum> back = layout.decode(layout.encode(row));
  for (size_t c = 0; c < row.size(); ++c) CHECK(identical(back[c], row[c]));
  CHECK_EQ(std::get<Numeric>(back[2]).to_string(), std::string("1500E-3"));
}

DSQL_TEST(RowCodec, CompactForSmallValues) {
  const RowLayout layout({TypeId::kInt4, TypeId::kText, TypeId::kInt8, TypeId::kBool});
  // 1 (ncols) + 1 (bitmap) + 1 (int 5) + 1+2 ("hi") + 0 (NULL) + 1 (bool)
  const std::string r =
      layout.encode(std::vector<Datum>{int32_t{5}, std::string("hi"), Null{}, true});
  CHECK_EQ(r.size(), size_t{7});
  const std::string empty = RowLayout({}).encode(std::vector<Datum>{});
  CHECK_EQ(empty, std::string(1, '\0'));
}

DSQL_TEST(RowCodec, LimitsOfEveryIntegerType) {
  const RowLayout layout({TypeId::kInt2, TypeId::kInt4, TypeId::kInt8, TypeId::kDate,
                          TypeId::kTimestamp, TypeId::kTime, TypeId::kInterval});
  for (int hi = 0; hi < 2; ++hi) {
    const std::vector<Datum> row = {
        static_cast<int16_t>(hi ? INT16_MAX : INT16_MIN),
        static_cast<int32_t>(hi ? INT32_MAX : INT32_MIN),
        static_cast<int64_t>(hi ? INT64_MAX : INT64_MIN),
        Date{hi ? INT32_MAX : INT32_MIN}, Timestamp{hi ? INT64_MAX : INT64_MIN},
        Time{hi ? 86'400'000'000 : 0},
        Interval{hi ? INT32_MAX : INT32_MIN, hi ? INT32_MAX : INT32_MIN,
                 hi ? INT64_MAX : INT64_MIN}};
    const std::vector<Datum> back = layout.decode(layout.encode(row));
    for (size_t c = 0; c < row.size(); ++c) CHECK(identical(back[c], row[c]));
  }
}

DSQL_TEST(RowCodec, BatchesMatchSingleCalls) {
  ValueGen gen(2);
  const std::vector<TypeId> types = {TypeId::kInt4, TypeId::kText, TypeId::kFloat8,
                                     TypeId::kTimestampTz};
  const RowLayout layout(types);
  std::vector<std::vector<Datum>> rows;
  for (int i = 0; i < 200; ++i) rows.push_back(random_row(gen, types));
  const std::vector<std::string> encoded = layout.encode_batch(rows);
  const auto back = layout.decode_batch(encoded);
  REQUIRE(back.size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK_EQ(encoded[i], layout.encode(rows[i]));
    for (size_t c = 0; c < types.size(); ++c) CHECK(identical(back[i][c], rows[i][c]));
  }
}

DSQL_TEST(RowCodec, OlderRowsDecodeWithNullsInAddedColumns) {
  const RowLayout before({TypeId::kInt4, TypeId::kText});
  const RowLayout after({TypeId::kInt4, TypeId::kText, TypeId::kBool, TypeId::kNumeric});
  const std::string r = before.encode(std::vector<Datum>{int32_t{1}, std::string("x")});
  const std::vector<Datum> back = after.decode(r);
  REQUIRE(back.size() == 4);
  CHECK(std::get<int32_t>(back[0]) == 1);
  CHECK(is_null(back[2]) && is_null(back[3]));
  // The reverse (a row wider than its layout) is not a row of that layout.
  const std::vector<Datum> wide = {int32_t{1}, Null{}, true, Null{}};
  CHECK_THROW_CODEC(before.decode(after.encode(wide)));
}

DSQL_TEST(RowCodec, EveryTruncationIsRejected) {
  ValueGen gen(3);
  for (const TypeId t : testutil::all_types()) {
    const RowLayout layout({t, TypeId::kInt2});
    for (int i = 0; i < 20; ++i) {
      const std::string r = layout.encode(std::vector<Datum>{gen.value(t), int16_t{7}});
      for (size_t n = 0; n < r.size(); ++n) CHECK_THROW_CODEC(layout.decode(r.substr(0, n)));
      CHECK_THROW_CODEC(layout.decode(r + "x"));
    }
  }
}

DSQL_TEST(RowCodec, InvalidBytesAreRejected) {
  const RowLayout ints({TypeId::kInt2});
  CHECK_THROW_CODEC(ints.decode(std::string("\x01\x00\x80\x80\x04", 5)));  // 32768 > int2
  CHECK_THROW_CODEC(ints.decode(std::string("\x01\x02", 2)));               // bitmap bit >= ncols
  const RowLayout bools({TypeId::kBool});
  CHECK_THROW_CODEC(bools.decode(std::string("\x01\x00\x02", 3)));
  const RowLayout nums({TypeId::kNumeric});
  CHECK_THROW_CODEC(nums.decode(std::string("\x01\x00\x07", 3)));           // unknown tag
  CHECK_THROW_CODEC(nums.decode(std::string("\x01\x00\x00\x00\x01\xA0", 6)));  // nibble 10
  CHECK_THROW_CODEC(nums.decode(std::string("\x01\x00\x00\x00\x02\x01", 6)));  // leading 0
  CHECK_THROW_CODEC(nums.decode(std::string("\x01\x00\x01\x00\x01\x00", 6)));  // -0
  CHECK_THROW_CODEC(nums.decode(std::string("\x01\x00\x00\x00\x01\x15", 6)));  // pad not 0
  const RowLayout times({TypeId::kTime});
  CHECK_THROW_CODEC(times.decode(std::string("\x01\x00\x01", 3)));          // -1 µs
  const RowLayout texts({TypeId::kText});
  CHECK_THROW_CODEC(texts.decode(std::string("\x01\x00\x05""ab", 5)));      // length past end
  CHECK_THROW_CODEC(texts.decode(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11)));
}

DSQL_TEST(RowCodec, WrongTypesThrowAndLeaveOutputUntouched) {
  const RowLayout layout({TypeId::kInt4, TypeId::kNumeric});
  std::string out = "keep";
  bool threw = false;
  try {
    layout.encode(std::vector<Datum>{int32_t{1}, std::string("1")}, &out);
  } catch (const CodecError& e) {
    threw = std::string(e.what()).find("column 1 (numeric)") != std::string::npos;
  }
  CHECK(threw);
  CHECK_EQ(out, std::string("keep"));
  CHECK_THROW_CODEC(layout.encode(std::vector<Datum>{int32_t{1}, *Numeric::parse("1E-20000")}));
  CHECK_THROW_CODEC(layout.encode(std::vector<Datum>{int32_t{1}}));
}

}  // namespace
}  // namespace dsql::storage
