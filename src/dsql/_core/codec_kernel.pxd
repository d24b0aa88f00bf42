# Declarations of the C++ key and row codecs (cpp/storage/) that dsql._core.codec calls.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t
from libcpp cimport bool as cbool
from libcpp.optional cimport optional
from libcpp.string cimport string
from libcpp.string_view cimport string_view

cdef extern from "storage/datum.h" namespace "dsql::storage":
    # TypeId is an enum class of uint8_t; the binding holds it as an int.
    ctypedef uint8_t TypeId "dsql::storage::TypeId"
    cdef enum:
        T_BOOL "static_cast<int>(dsql::storage::TypeId::kBool)"
        T_INT2 "static_cast<int>(dsql::storage::TypeId::kInt2)"
        T_INT4 "static_cast<int>(dsql::storage::TypeId::kInt4)"
        T_INT8 "static_cast<int>(dsql::storage::TypeId::kInt8)"
        T_FLOAT4 "static_cast<int>(dsql::storage::TypeId::kFloat4)"
        T_FLOAT8 "static_cast<int>(dsql::storage::TypeId::kFloat8)"
        T_NUMERIC "static_cast<int>(dsql::storage::TypeId::kNumeric)"
        T_TEXT "static_cast<int>(dsql::storage::TypeId::kText)"
        T_VARCHAR "static_cast<int>(dsql::storage::TypeId::kVarchar)"
        T_BPCHAR "static_cast<int>(dsql::storage::TypeId::kBpchar)"
        T_BYTEA "static_cast<int>(dsql::storage::TypeId::kBytea)"
        T_DATE "static_cast<int>(dsql::storage::TypeId::kDate)"
        T_TIME "static_cast<int>(dsql::storage::TypeId::kTime)"
        T_TIMESTAMP "static_cast<int>(dsql::storage::TypeId::kTimestamp)"
        T_TIMESTAMPTZ "static_cast<int>(dsql::storage::TypeId::kTimestampTz)"
        T_INTERVAL "static_cast<int>(dsql::storage::TypeId::kInterval)"
        T_UUID "static_cast<int>(dsql::storage::TypeId::kUuid)"
    const int kTypeIdMin
    const int kTypeIdMax
    const char* type_name(TypeId type)

    cdef cppclass Numeric:
        Numeric()
        cbool negative
        string digits
        int32_t exponent
        string to_string() except +
        cbool well_formed()
        cbool fits_pg()
        @staticmethod
        optional[Numeric] parse(string_view text) except +

cdef extern from "storage/pg_calendar.h" namespace "dsql::storage::pg":
    cdef struct Civil:
        int64_t year
        int month
        int day
    int64_t days_from_civil(int64_t y, int m, int d)
    Civil civil_from_days(int64_t days)
    int64_t floor_div(int64_t a, int64_t b)

cdef extern from "storage/key_codec.h" namespace "dsql::storage":
    const uint32_t kMaxKeyPrefix

    cdef cppclass KeyWriter:
        KeyWriter()
        void reset(string* out)
        void prefix(uint32_t id) except +
        void null(cbool nulls_first) except +
        void value() except +
        void boolean(cbool v, cbool desc) except +
        void int16(int16_t v, cbool desc) except +
        void int32(int32_t v, cbool desc) except +
        void int64(int64_t v, cbool desc) except +
        void float4(float v, cbool desc) except +
        void float8(double v, cbool desc) except +
        void text(const char* data, size_t size, cbool desc) except +
        void bpchar(const char* data, size_t size, cbool desc) except +
        void uuid(const uint8_t* data16, cbool desc) except +
        void interval(int32_t months, int32_t days, int64_t microseconds, cbool desc) except +
        void numeric(const Numeric& n, cbool desc) except +

    cdef cppclass KeyReader:
        KeyReader()
        void reset(const char* data, size_t size)
        cbool at_end()
        size_t remaining()
        cbool prefix(uint32_t* id)
        cbool marker(cbool nulls_first, cbool* is_null)
        cbool boolean(cbool desc, cbool* v)
        cbool int16(cbool desc, int16_t* v)
        cbool int32(cbool desc, int32_t* v)
        cbool int64(cbool desc, int64_t* v)
        cbool float4(cbool desc, float* v)
        cbool float8(cbool desc, double* v)
        cbool text(cbool desc, string* scratch, const char** data, size_t* size) except +
        cbool uuid(cbool desc, uint8_t* out16)
        cbool interval(cbool desc, int32_t* months, int32_t* days, int64_t* microseconds)
        cbool numeric(cbool desc, Numeric* out) except +

    string key_successor(string_view lo) except +

cdef extern from "storage/row_codec.h" namespace "dsql::storage":
    const uint32_t kMaxRowColumns

    cdef cppclass RowWriter:
        RowWriter()
        void begin(string* out, uint32_t ncols) except +
        void null()
        void boolean(cbool v) except +
        void integer(int64_t v) except +
        void fixed64(int64_t v) except +
        void float4(float v) except +
        void float8(double v) except +
        void text(const char* data, size_t size) except +
        void uuid(const uint8_t* data16) except +
        void interval(int32_t months, int32_t days, int64_t microseconds) except +
        void numeric(const Numeric& n) except +
        void finish()

    cdef cppclass RowReader:
        RowReader()
        void reset(const char* data, size_t size)
        cbool header(uint32_t max_columns)
        uint32_t columns()
        cbool is_null(uint32_t col)
        cbool at_end()
        size_t remaining()
        cbool boolean(cbool* v)
        cbool integer(int64_t* v)
        cbool fixed64(int64_t* v)
        cbool float4(float* v)
        cbool float8(double* v)
        cbool text(const char** data, size_t* size)
        cbool uuid(uint8_t* out16)
        cbool interval(int32_t* months, int32_t* days, int64_t* microseconds)
        cbool numeric(Numeric* out) except +
