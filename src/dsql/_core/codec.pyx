# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: embedsignature=True
"""Key and row codecs for Python values (the fast path behind dsql.storage.codec).

A layout is compiled once: its column types become C ints. encode/decode then run one C loop
over the Python values of a whole batch, converting each value and calling the C++ primitives
of cpp/storage/key_codec.h and row_codec.h directly (no intermediate C++ values, one crossing
per batch). The formats are specified in those headers and in docs/encodings.md.

Column positions in error messages count from 0.
"""
import datetime as _dt
import decimal as _decimal
import uuid as _uuid

from dsql.storage.interval import Interval as _Interval
from dsql.storage.values import INFINITY as _INF
from dsql.storage.values import NEG_INFINITY as _NINF

from cpython.bool cimport PyBool_Check
from cpython.bytearray cimport PyByteArray_Check
from cpython.bytes cimport (
    PyBytes_AS_STRING,
    PyBytes_Check,
    PyBytes_CheckExact,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from cpython.datetime cimport (
    PyDate_Check,
    PyDateTime_Check,
    PyDateTime_DATE_GET_HOUR,
    PyDateTime_DATE_GET_MICROSECOND,
    PyDateTime_DATE_GET_MINUTE,
    PyDateTime_DATE_GET_SECOND,
    PyDateTime_DELTA_GET_DAYS,
    PyDateTime_DELTA_GET_MICROSECONDS,
    PyDateTime_DELTA_GET_SECONDS,
    PyDateTime_GET_DAY,
    PyDateTime_GET_MONTH,
    PyDateTime_GET_YEAR,
    PyDateTime_TIME_GET_HOUR,
    PyDateTime_TIME_GET_MICROSECOND,
    PyDateTime_TIME_GET_MINUTE,
    PyDateTime_TIME_GET_SECOND,
    PyDelta_Check,
    PyTime_Check,
    date_new,
    datetime_new,
    datetime_tzinfo,
    import_datetime,
    time_new,
    time_tzinfo,
)
from cpython.exc cimport PyErr_Clear
from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_Check, PyFloat_FromDouble
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.long cimport (
    PyLong_AsLongLongAndOverflow,
    PyLong_Check,
    PyLong_FromLongLong,
    PyLong_FromUnsignedLongLong,
)
from cpython.object cimport PyObject_GenericSetAttr
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.unicode cimport PyUnicode_Check, PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from libc.math cimport isinf
from libc.stdint cimport (
    INT16_MAX,
    INT16_MIN,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    int16_t,
    int32_t,
    int64_t,
    uint8_t,
    uint32_t,
    uint64_t,
)
from libcpp cimport bool as cbool
from libcpp.optional cimport optional
from libcpp.string cimport string
from libcpp.string_view cimport string_view
from libcpp.vector cimport vector

from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid
from store_kernel cimport BorrowedBatch, scan_batch
from store_kernel cimport MvccStore as _CMvccStore
from store_kernel cimport ShardMap as _CShardMap

from codec_kernel cimport (
    T_BOOL,
    T_BPCHAR,
    T_BYTEA,
    T_DATE,
    T_FLOAT4,
    T_FLOAT8,
    T_INT2,
    T_INT4,
    T_INT8,
    T_INTERVAL,
    T_NUMERIC,
    T_TEXT,
    T_TIME,
    T_TIMESTAMP,
    T_TIMESTAMPTZ,
    T_UUID,
    T_VARCHAR,
    Civil,
    KeyReader,
    KeyWriter,
    Numeric,
    RowReader,
    RowWriter,
    TypeId,
    civil_from_days,
    days_from_civil,
    floor_div,
    kMaxKeyPrefix,
    kMaxRowColumns,
    kTypeIdMax,
    kTypeIdMin,
    key_successor,
    type_name,
)

cdef extern from "Python.h":
    # PyUnicode_AsUTF8AndSize without Cython's error check: NULL is handled here.
    const char* _utf8_and_size "PyUnicode_AsUTF8AndSize" (object s, Py_ssize_t* size)
    int PyObject_GC_IsTracked(object o)
    void PyObject_GC_UnTrack(void* o)

import_datetime()

cdef int64_t USECS_PER_DAY = 86_400_000_000
cdef int64_t USECS_PER_SEC = 1_000_000
cdef object _UTC = _dt.timezone.utc
cdef object _Decimal = _decimal.Decimal
cdef object _UUID = _uuid.UUID
cdef object _UUID_SAFE_UNKNOWN = _uuid.SafeUUID.unknown
cdef object _object_new = object.__new__

# PostgreSQL type name -> code, and code -> name.
TYPE_NAMES = tuple(type_name(<TypeId>i).decode() for i in range(kTypeIdMin, kTypeIdMax + 1))
cdef dict _CODE_OF = {name: kTypeIdMin + i for i, name in enumerate(TYPE_NAMES)}
cdef tuple _NAME_OF = ("",) + TYPE_NAMES

MAX_KEY_PREFIX = kMaxKeyPrefix
MAX_ROW_COLUMNS = kMaxRowColumns


class DecodeError(ValueError):
    """A byte string is not a valid key or row of this layout (corrupt, truncated, or written
    by another layout)."""


# ---- errors ------------------------------------------------------------------------------------

cdef str _where(bint key, Py_ssize_t pos, int t):
    return f"{'key' if key else 'row'} column {pos} ({_NAME_OF[t]})"


cdef int _type_error(bint key, Py_ssize_t pos, int t, object v, str expected) except -1:
    raise TypeError(f"{_where(key, pos, t)}: expected {expected}, got {type(v).__name__}")


cdef str _short_repr(object v):
    cdef str r
    try:
        r = repr(v)
    except ValueError:  # an int too long for int -> str
        return f"an int of {v.bit_length()} bits"
    return r if len(r) <= 80 else r[:60] + f"...({len(r)} characters)"


cdef int _range_error(bint key, Py_ssize_t pos, int t, object v, str why) except -1:
    raise ValueError(f"{_where(key, pos, t)}: {_short_repr(v)} {why}")


cdef int _corrupt(bint key, Py_ssize_t pos, int t) except -1:
    raise DecodeError(f"{_where(key, pos, t)}: truncated or invalid bytes")


# ---- Python value -> C value ---------------------------------------------------------------------

cdef inline int64_t _to_int(object v, bint key, Py_ssize_t pos, int t,
                            int64_t lo, int64_t hi) except? -1:
    cdef int overflow = 0
    cdef long long x
    if not PyLong_Check(v) or PyBool_Check(v):
        _type_error(key, pos, t, v, "int")
    x = PyLong_AsLongLongAndOverflow(v, &overflow)
    if overflow != 0 or x < lo or x > hi:
        _range_error(key, pos, t, v, f"is out of range for {_NAME_OF[t]}")
    return x


cdef inline bint _to_bool(object v, bint key, Py_ssize_t pos, int t) except -1:
    if v is True:
        return 1
    if v is False:
        return 0
    _type_error(key, pos, t, v, "bool")


cdef double _int_to_double(object v, bint key, Py_ssize_t pos, int t) except? -1.0:
    try:
        return float(v)
    except OverflowError:
        _range_error(key, pos, t, v, "is too large for a float")


cdef inline double _to_double(object v, bint key, Py_ssize_t pos, int t) except? -1.0:
    if PyFloat_Check(v):
        return PyFloat_AS_DOUBLE(v)
    if PyLong_Check(v) and not PyBool_Check(v):
        return _int_to_double(v, key, pos, t)
    _type_error(key, pos, t, v, "float")


cdef inline float _to_float4(object v, bint key, Py_ssize_t pos, int t) except? -1.0:
    # As PostgreSQL's float8 -> float4: overflow and underflow are errors, not inf and 0.
    cdef double d = _to_double(v, key, pos, t)
    cdef float f = <float>d
    if isinf(f) and not isinf(d):
        _range_error(key, pos, t, v, "overflows float4")
    if f == 0 and d != 0:
        _range_error(key, pos, t, v, "underflows float4")
    return f


cdef inline const char* _to_utf8(object v, bint key, Py_ssize_t pos, int t,
                                 Py_ssize_t* n) except NULL:
    cdef const char* p
    if not PyUnicode_Check(v):
        _type_error(key, pos, t, v, "str")
    p = _utf8_and_size(v, n)
    if p == NULL:
        PyErr_Clear()
        _range_error(key, pos, t, v, "is not encodable as UTF-8 (a lone surrogate?)")
    return p


cdef inline bytes _to_bytes(object v, bint key, Py_ssize_t pos, int t):
    if PyBytes_CheckExact(v):
        return <bytes>v
    if PyBytes_Check(v) or PyByteArray_Check(v) or isinstance(v, memoryview):
        return bytes(v)
    _type_error(key, pos, t, v, "bytes, bytearray or memoryview")


cdef int _to_numeric(object v, bint key, Py_ssize_t pos, int t, Numeric* out) except -1:
    cdef optional[Numeric] parsed
    cdef bytes text
    if isinstance(v, _Decimal):
        text = str(v).encode("ascii")
    elif PyLong_Check(v) and not PyBool_Check(v):
        text = str(_Decimal(v)).encode("ascii")  # int -> str has a digit limit; Decimal not
    else:
        _type_error(key, pos, t, v, "decimal.Decimal or int")
    parsed = Numeric.parse(string_view(PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text)))
    if not parsed.has_value():
        _range_error(key, pos, t, v, "is not a PostgreSQL numeric (sNaN?)")
    out[0] = parsed.value()
    if not out.fits_pg():
        _range_error(key, pos, t, v,
                     "is out of PostgreSQL's numeric range (131072 digits before the point, "
                     "16383 after)")
    return 0


cdef inline int32_t _to_date(object v, bint key, Py_ssize_t pos, int t) except? -1:
    if v is _INF:
        return INT32_MAX
    if v is _NINF:
        return INT32_MIN
    if not PyDate_Check(v) or PyDateTime_Check(v):
        _type_error(key, pos, t, v, "datetime.date (not datetime), INFINITY or NEG_INFINITY")
    return <int32_t>days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v),
                                    PyDateTime_GET_DAY(v))


cdef inline int64_t _to_time(object v, bint key, Py_ssize_t pos, int t) except? -1:
    if not PyTime_Check(v):
        _type_error(key, pos, t, v, "datetime.time")
    if time_tzinfo(v) is not None:
        _range_error(key, pos, t, v, "has a time zone; time columns take naive times")
    return ((PyDateTime_TIME_GET_HOUR(v) * 60 + PyDateTime_TIME_GET_MINUTE(v)) * 60
            + PyDateTime_TIME_GET_SECOND(v)) * USECS_PER_SEC + PyDateTime_TIME_GET_MICROSECOND(v)


cdef int64_t _utc_offset_us(object v, bint key, Py_ssize_t pos, int t) except? -1:
    off = v.utcoffset()
    if off is None:
        _range_error(key, pos, t, v, "is naive; timestamptz columns take aware datetimes")
    if not PyDelta_Check(off):
        _type_error(key, pos, t, off, "utcoffset() to return a timedelta")
    return ((<int64_t>PyDateTime_DELTA_GET_DAYS(off) * 86400 + PyDateTime_DELTA_GET_SECONDS(off))
            * USECS_PER_SEC + PyDateTime_DELTA_GET_MICROSECONDS(off))


cdef inline int64_t _to_timestamp(object v, bint key, Py_ssize_t pos, int t,
                                  bint aware) except? -1:
    cdef int64_t us
    cdef object tz
    if v is _INF:
        return INT64_MAX
    if v is _NINF:
        return INT64_MIN
    if not PyDateTime_Check(v):
        _type_error(key, pos, t, v, "datetime.datetime, INFINITY or NEG_INFINITY")
    tz = datetime_tzinfo(v)
    if not aware and tz is not None:
        _range_error(key, pos, t, v, "has a time zone; timestamp columns take naive datetimes")
    if aware and tz is None:
        _range_error(key, pos, t, v, "is naive; timestamptz columns take aware datetimes")
    us = (days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v),
                          PyDateTime_GET_DAY(v)) * USECS_PER_DAY
          + ((PyDateTime_DATE_GET_HOUR(v) * 60 + PyDateTime_DATE_GET_MINUTE(v)) * 60
             + PyDateTime_DATE_GET_SECOND(v)) * USECS_PER_SEC
          + PyDateTime_DATE_GET_MICROSECOND(v))
    if aware and tz is not _UTC:
        us -= _utc_offset_us(v, key, pos, t)
    return us


cdef int _to_interval(object v, bint key, Py_ssize_t pos, int t,
                      int32_t* months, int32_t* days, int64_t* us) except -1:
    if not isinstance(v, _Interval):
        _type_error(key, pos, t, v, "dsql.storage.interval.Interval")
    months[0] = <int32_t>_to_int(v.months, key, pos, t, INT32_MIN, INT32_MAX)
    days[0] = <int32_t>_to_int(v.days, key, pos, t, INT32_MIN, INT32_MAX)
    us[0] = _to_int(v.microseconds, key, pos, t, INT64_MIN, INT64_MAX)
    return 0


cdef int _to_uuid(object v, bint key, Py_ssize_t pos, int t, uint8_t* out16) except -1:
    # From UUID.int (a slot) rather than the .bytes property, which costs a Python call.
    cdef uint64_t hi, lo
    cdef int k
    if not isinstance(v, _UUID):
        _type_error(key, pos, t, v, "uuid.UUID")
    value = v.int
    if not PyLong_Check(value) or not 0 <= value < (1 << 128):
        _range_error(key, pos, t, v, "has an int outside [0, 2**128)")
    hi = value >> 64
    lo = value & 0xFFFF_FFFF_FFFF_FFFF
    for k in range(8):
        out16[k] = <uint8_t>(hi >> (56 - 8 * k))
        out16[8 + k] = <uint8_t>(lo >> (56 - 8 * k))
    return 0


# ---- C value -> Python value ---------------------------------------------------------------------

cdef object _date_from_days(int32_t days, bint key, Py_ssize_t pos, int t):
    cdef Civil c
    if days == INT32_MAX:
        return _INF
    if days == INT32_MIN:
        return _NINF
    c = civil_from_days(days)
    if c.year < 1 or c.year > 9999:
        raise ValueError(f"{_where(key, pos, t)}: day {days} after 2000-01-01 is outside "
                         "Python's date range")
    return date_new(<int>c.year, c.month, c.day)


cdef inline object _datetime_from_us(int64_t us, object tz, bint key, Py_ssize_t pos, int t):
    cdef int64_t days, tod, secs
    cdef Civil c
    if us == INT64_MAX:
        return _INF
    if us == INT64_MIN:
        return _NINF
    days = floor_div(us, USECS_PER_DAY)
    tod = us - days * USECS_PER_DAY
    c = civil_from_days(days)
    if c.year < 1 or c.year > 9999:
        raise ValueError(f"{_where(key, pos, t)}: {us} µs after 2000-01-01 is outside "
                         "Python's datetime range")
    secs = tod // USECS_PER_SEC
    return datetime_new(<int>c.year, c.month, c.day, <int>(secs // 3600), <int>((secs // 60) % 60),
                        <int>(secs % 60), <int>(tod % USECS_PER_SEC), tz)


cdef object _time_from_us(int64_t us, bint key, Py_ssize_t pos, int t):
    cdef int64_t secs
    if us == USECS_PER_DAY:
        raise ValueError(f"{_where(key, pos, t)}: 24:00:00 has no Python datetime.time")
    secs = us // USECS_PER_SEC
    return time_new(<int>(secs // 3600), <int>((secs // 60) % 60), <int>(secs % 60),
                    <int>(us % USECS_PER_SEC), None)


cdef object _decimal_from(Numeric* n):
    cdef string s = n.to_string()
    return _Decimal(PyUnicode_DecodeASCII(s.data(), <Py_ssize_t>s.size(), NULL))


cdef object _uuid_from(const uint8_t* u):
    # As UUID(bytes=...) does, without its Python-level __init__ (five times the cost).
    cdef uint64_t hi = 0
    cdef uint64_t lo = 0
    cdef int k
    for k in range(8):
        hi = (hi << 8) | u[k]
        lo = (lo << 8) | u[8 + k]
    value = (PyLong_FromUnsignedLongLong(hi) << 64) | PyLong_FromUnsignedLongLong(lo)
    out = _object_new(_UUID)
    PyObject_GenericSetAttr(out, "int", value)
    PyObject_GenericSetAttr(out, "is_safe", _UUID_SAFE_UNKNOWN)
    return out


cdef inline object _text_from(const char* p, size_t n):
    return PyUnicode_DecodeUTF8(p, <Py_ssize_t>n, NULL)


# ---- one key column ------------------------------------------------------------------------------

cdef int _key_put(KeyWriter* w, object v, Py_ssize_t pos, int t, cbool desc,
                  Numeric* num) except -1:
    cdef uint8_t u[16]
    cdef Py_ssize_t n = 0
    cdef const char* p
    cdef bytes b
    cdef int32_t months, days
    cdef int64_t us
    if t == T_INT8:
        w.int64(_to_int(v, True, pos, t, INT64_MIN, INT64_MAX), desc)
    elif t == T_INT4:
        w.int32(<int32_t>_to_int(v, True, pos, t, INT32_MIN, INT32_MAX), desc)
    elif t == T_INT2:
        w.int16(<int16_t>_to_int(v, True, pos, t, INT16_MIN, INT16_MAX), desc)
    elif t == T_TEXT or t == T_VARCHAR:
        p = _to_utf8(v, True, pos, t, &n)
        w.text(p, <size_t>n, desc)
    elif t == T_BPCHAR:
        p = _to_utf8(v, True, pos, t, &n)
        w.bpchar(p, <size_t>n, desc)
    elif t == T_BOOL:
        w.boolean(_to_bool(v, True, pos, t), desc)
    elif t == T_FLOAT8:
        w.float8(_to_double(v, True, pos, t), desc)
    elif t == T_FLOAT4:
        w.float4(_to_float4(v, True, pos, t), desc)
    elif t == T_NUMERIC:
        _to_numeric(v, True, pos, t, num)
        w.numeric(num[0], desc)
    elif t == T_BYTEA:
        b = _to_bytes(v, True, pos, t)
        w.text(PyBytes_AS_STRING(b), <size_t>PyBytes_GET_SIZE(b), desc)
    elif t == T_DATE:
        w.int32(_to_date(v, True, pos, t), desc)
    elif t == T_TIME:
        w.int64(_to_time(v, True, pos, t), desc)
    elif t == T_TIMESTAMP:
        w.int64(_to_timestamp(v, True, pos, t, False), desc)
    elif t == T_TIMESTAMPTZ:
        w.int64(_to_timestamp(v, True, pos, t, True), desc)
    elif t == T_INTERVAL:
        _to_interval(v, True, pos, t, &months, &days, &us)
        w.interval(months, days, us, desc)
    elif t == T_UUID:
        _to_uuid(v, True, pos, t, u)
        w.uuid(u, desc)
    else:
        raise AssertionError(f"unknown type code {t}")
    return 0


cdef object _key_get(KeyReader* r, Py_ssize_t pos, int t, cbool desc, string* scratch,
                     Numeric* num):
    cdef cbool b = False
    cdef int16_t i16 = 0
    cdef int32_t i32 = 0
    cdef int32_t days = 0
    cdef int64_t i64 = 0
    cdef float f4 = 0
    cdef double f8 = 0
    cdef const char* p = NULL
    cdef size_t n = 0
    cdef uint8_t u[16]
    if t == T_INT8:
        if r.int64(desc, &i64):
            return PyLong_FromLongLong(i64)
    elif t == T_INT4:
        if r.int32(desc, &i32):
            return PyLong_FromLongLong(i32)
    elif t == T_INT2:
        if r.int16(desc, &i16):
            return PyLong_FromLongLong(i16)
    elif t == T_TEXT or t == T_VARCHAR or t == T_BPCHAR:
        if r.text(desc, scratch, &p, &n):
            return _text_from(p, n)
    elif t == T_BOOL:
        if r.boolean(desc, &b):
            return True if b else False
    elif t == T_FLOAT8:
        if r.float8(desc, &f8):
            return PyFloat_FromDouble(f8)
    elif t == T_FLOAT4:
        if r.float4(desc, &f4):
            return PyFloat_FromDouble(f4)
    elif t == T_NUMERIC:
        if r.numeric(desc, num):
            return _decimal_from(num)
    elif t == T_BYTEA:
        if r.text(desc, scratch, &p, &n):
            return PyBytes_FromStringAndSize(<char*>p, <Py_ssize_t>n)
    elif t == T_DATE:
        if r.int32(desc, &i32):
            return _date_from_days(i32, True, pos, t)
    elif t == T_TIME:
        if r.int64(desc, &i64) and 0 <= i64 <= USECS_PER_DAY:
            return _time_from_us(i64, True, pos, t)
    elif t == T_TIMESTAMP:
        if r.int64(desc, &i64):
            return _datetime_from_us(i64, None, True, pos, t)
    elif t == T_TIMESTAMPTZ:
        if r.int64(desc, &i64):
            return _datetime_from_us(i64, _UTC, True, pos, t)
    elif t == T_INTERVAL:
        if r.interval(desc, &i32, &days, &i64):
            return _Interval(i32, days, i64)
    elif t == T_UUID:
        if r.uuid(desc, u):
            return _uuid_from(u)
    _corrupt(True, pos, t)


# ---- one row column ------------------------------------------------------------------------------

cdef int _row_put(RowWriter* w, object v, Py_ssize_t pos, int t, Numeric* num) except -1:
    cdef uint8_t u[16]
    cdef Py_ssize_t n = 0
    cdef const char* p
    cdef bytes b
    cdef int32_t months, days
    cdef int64_t us
    if t == T_INT8:
        w.integer(_to_int(v, False, pos, t, INT64_MIN, INT64_MAX))
    elif t == T_INT4:
        w.integer(_to_int(v, False, pos, t, INT32_MIN, INT32_MAX))
    elif t == T_INT2:
        w.integer(_to_int(v, False, pos, t, INT16_MIN, INT16_MAX))
    elif t == T_TEXT or t == T_VARCHAR or t == T_BPCHAR:
        p = _to_utf8(v, False, pos, t, &n)
        w.text(p, <size_t>n)
    elif t == T_FLOAT8:
        w.float8(_to_double(v, False, pos, t))
    elif t == T_TIMESTAMPTZ:
        w.fixed64(_to_timestamp(v, False, pos, t, True))
    elif t == T_TIMESTAMP:
        w.fixed64(_to_timestamp(v, False, pos, t, False))
    elif t == T_BOOL:
        w.boolean(_to_bool(v, False, pos, t))
    elif t == T_FLOAT4:
        w.float4(_to_float4(v, False, pos, t))
    elif t == T_NUMERIC:
        _to_numeric(v, False, pos, t, num)
        w.numeric(num[0])
    elif t == T_BYTEA:
        b = _to_bytes(v, False, pos, t)
        w.text(PyBytes_AS_STRING(b), <size_t>PyBytes_GET_SIZE(b))
    elif t == T_DATE:
        w.integer(_to_date(v, False, pos, t))
    elif t == T_TIME:
        w.integer(_to_time(v, False, pos, t))
    elif t == T_INTERVAL:
        _to_interval(v, False, pos, t, &months, &days, &us)
        w.interval(months, days, us)
    elif t == T_UUID:
        _to_uuid(v, False, pos, t, u)
        w.uuid(u)
    else:
        raise AssertionError(f"unknown type code {t}")
    return 0


cdef inline object _row_get(RowReader* r, Py_ssize_t pos, int t, Numeric* num):
    cdef cbool b = False
    cdef int32_t months = 0
    cdef int32_t days = 0
    cdef int64_t i64 = 0
    cdef float f4 = 0
    cdef double f8 = 0
    cdef const char* p = NULL
    cdef size_t n = 0
    cdef uint8_t u[16]
    if t == T_INT8:
        if r.integer(&i64):
            return PyLong_FromLongLong(i64)
    elif t == T_INT4:
        if r.integer(&i64) and INT32_MIN <= i64 <= INT32_MAX:
            return PyLong_FromLongLong(i64)
    elif t == T_INT2:
        if r.integer(&i64) and INT16_MIN <= i64 <= INT16_MAX:
            return PyLong_FromLongLong(i64)
    elif t == T_TEXT or t == T_VARCHAR or t == T_BPCHAR:
        if r.text(&p, &n):
            return _text_from(p, n)
    elif t == T_FLOAT8:
        if r.float8(&f8):
            return PyFloat_FromDouble(f8)
    elif t == T_TIMESTAMPTZ:
        if r.fixed64(&i64):
            return _datetime_from_us(i64, _UTC, False, pos, t)
    elif t == T_TIMESTAMP:
        if r.fixed64(&i64):
            return _datetime_from_us(i64, None, False, pos, t)
    elif t == T_BOOL:
        if r.boolean(&b):
            return True if b else False
    elif t == T_FLOAT4:
        if r.float4(&f4):
            return PyFloat_FromDouble(f4)
    elif t == T_NUMERIC:
        if r.numeric(num):
            return _decimal_from(num)
    elif t == T_BYTEA:
        if r.text(&p, &n):
            return PyBytes_FromStringAndSize(<char*>p, <Py_ssize_t>n)
    elif t == T_DATE:
        if r.integer(&i64) and INT32_MIN <= i64 <= INT32_MAX:
            return _date_from_days(<int32_t>i64, False, pos, t)
    elif t == T_TIME:
        if r.integer(&i64) and 0 <= i64 <= USECS_PER_DAY:
            return _time_from_us(i64, False, pos, t)
    elif t == T_INTERVAL:
        if r.interval(&months, &days, &i64):
            return _Interval(months, days, i64)
    elif t == T_UUID:
        if r.uuid(u):
            return _uuid_from(u)
    _corrupt(False, pos, t)


# ---- shared helpers ------------------------------------------------------------------------------

cdef inline tuple _as_values(object values):
    if type(values) is tuple:
        return <tuple>values
    if isinstance(values, (tuple, list)):
        return tuple(values)
    raise TypeError(f"values must be a tuple or list, not {type(values).__name__}")


cdef inline list _as_list(object items, str what):
    if type(items) is list:
        return <list>items
    if isinstance(items, (str, bytes)):
        raise TypeError(f"{what} must be a list, not {type(items).__name__}")
    return list(items)


cdef inline bytes _as_encoded(object b):
    if PyBytes_CheckExact(b):
        return <bytes>b
    if PyBytes_Check(b) or PyByteArray_Check(b) or isinstance(b, memoryview):
        return bytes(b)
    raise TypeError(f"expected bytes to decode, got {type(b).__name__}")


cdef int _type_code(object name) except -1:
    code = _CODE_OF.get(name) if isinstance(name, str) else None
    if code is None:
        raise ValueError(f"unknown column type {name!r}; expected one of {', '.join(TYPE_NAMES)}")
    return code


# Types whose decoded values may be objects the cycle collector tracks: Interval and UUID
# instances, and the INFINITY / NEG_INFINITY constants of the date and timestamp types.
assert kTypeIdMax < 32
cdef cbool _MAY_BE_TRACKED[32]
for _code in range(32):
    _MAY_BE_TRACKED[_code] = _code in (T_INTERVAL, T_UUID, T_DATE, T_TIMESTAMP, T_TIMESTAMPTZ)


cdef inline void _untrack(object t) noexcept:
    # A tuple of objects the cycle collector does not track (ints, floats, str, bytes, Decimal,
    # datetimes, None) can never be part of a cycle. CPython untracks such tuples itself, but
    # only when a collection first visits them; doing it at birth keeps a large decoded batch
    # out of the collector's generations, which otherwise costs a third of the decode time.
    PyObject_GC_UnTrack(<void*>t)


cdef inline bytes _buf_bytes(string* buf):
    return PyBytes_FromStringAndSize(<char*>buf.data(), <Py_ssize_t>buf.size())


# ---- layouts -------------------------------------------------------------------------------------

cdef class KeyLayout:
    """The keys of one table or index: a uint32 prefix, then typed key columns.

    ``KeyLayout(prefix, [(type_name, descending, nulls_first), ...])``. Encoded keys compare
    bytewise in PostgreSQL's order of the values (with each column's direction and NULL
    placement), so a store ordered by bytes serves ORDER BY and range scans directly.

    Immutable once built; every call keeps its scratch state on its own stack, so one layout
    may be shared by threads (and re-entered from a tzinfo.utcoffset() it calls).
    """

    cdef uint32_t _prefix
    cdef Py_ssize_t _n
    cdef vector[int] _types
    cdef vector[cbool] _desc
    cdef vector[cbool] _nulls_first
    cdef readonly tuple columns

    def __init__(self, prefix, columns):
        if self.columns is not None:
            raise TypeError("a KeyLayout is immutable")
        if type(prefix) is bool or not isinstance(prefix, int):
            raise TypeError(f"prefix must be an int, not {type(prefix).__name__}")
        if not 0 <= prefix <= kMaxKeyPrefix:
            raise ValueError(f"prefix must be in [0, {kMaxKeyPrefix}], not {prefix}")
        cols = []
        for i, col in enumerate(_as_list(columns, "columns")):
            if not isinstance(col, tuple) or len(col) != 3:
                raise TypeError(f"key column {i} must be a tuple (type_name, descending, "
                                f"nulls_first), not {col!r}")
            name, desc, nulls_first = col
            if type(desc) is not bool or type(nulls_first) is not bool:
                raise TypeError(f"key column {i}: descending and nulls_first must be bools")
            cols.append((name, desc, nulls_first))
        for name, desc, nulls_first in cols:
            self._types.push_back(_type_code(name))
            self._desc.push_back(desc)
            self._nulls_first.push_back(nulls_first)
        self._prefix = prefix
        self._n = len(cols)
        self.columns = tuple(cols)

    @property
    def prefix(self):
        """The table or index id every key of this layout starts with."""
        return self._prefix

    def __repr__(self):
        return f"KeyLayout({self._prefix}, {list(self.columns)!r})"

    cdef int _put(self, object values, bint exact, string* buf, Numeric* num) except -1:
        # Replaces *buf with the prefix and the encoded values.
        cdef tuple vals = _as_values(values)
        cdef Py_ssize_t n = len(vals)
        cdef Py_ssize_t i
        cdef object v
        cdef KeyWriter w
        if (exact and n != self._n) or n > self._n:
            raise ValueError(f"a key of this layout has {self._n} columns, got {n} values")
        buf.clear()
        w.reset(buf)
        w.prefix(self._prefix)
        for i in range(n):
            v = vals[i]
            if v is None:
                w.null(self._nulls_first[i])
            else:
                w.value()
                _key_put(&w, v, i, self._types[i], self._desc[i], num)
        return 0

    cdef tuple _get(self, bytes key, string* scratch, Numeric* num):
        cdef KeyReader r
        cdef uint32_t prefix = 0
        cdef cbool is_null = False
        cdef bint untrack = True
        cdef Py_ssize_t i
        cdef object v
        cdef int t
        r.reset(PyBytes_AS_STRING(key), <size_t>PyBytes_GET_SIZE(key))
        if not r.prefix(&prefix):
            raise DecodeError("key: truncated or invalid prefix")
        if prefix != self._prefix:
            raise DecodeError(f"key: prefix {prefix} is not this layout's {self._prefix}")
        out = PyTuple_New(self._n)
        for i in range(self._n):
            t = self._types[i]
            if not r.marker(self._nulls_first[i], &is_null):
                raise DecodeError(f"{_where(True, i, t)}: invalid NULL marker")
            if is_null:
                v = None
            else:
                v = _key_get(&r, i, t, self._desc[i], scratch, num)
                if untrack and _MAY_BE_TRACKED[t] and PyObject_GC_IsTracked(v):
                    untrack = False
            Py_INCREF(v)
            PyTuple_SET_ITEM(out, i, v)
        if not r.at_end():
            raise DecodeError(f"key: {r.remaining()} bytes left over after the last column")
        if untrack:
            _untrack(out)
        return out

    def encode(self, values) -> bytes:
        """The key of one row of key-column values (a tuple, one value per column)."""
        cdef string buf
        cdef Numeric num
        self._put(values, True, &buf, &num)
        return _buf_bytes(&buf)

    def encode_many(self, rows) -> list:
        """``[encode(r) for r in rows]``, in one C loop."""
        cdef list items = _as_list(rows, "rows")
        cdef Py_ssize_t i, n = len(items)
        cdef object k
        cdef string buf
        cdef Numeric num
        out = PyList_New(n)
        for i in range(n):
            self._put(items[i], True, &buf, &num)
            k = _buf_bytes(&buf)
            Py_INCREF(k)
            PyList_SET_ITEM(out, i, k)
        return out

    def decode(self, key) -> tuple:
        """The values of a key of this layout; DecodeError if it is not one."""
        cdef string scratch
        cdef Numeric num
        try:
            return self._get(_as_encoded(key), &scratch, &num)
        except UnicodeDecodeError as e:
            raise DecodeError(f"key: a text column is not valid UTF-8: {e}") from None

    def decode_many(self, keys) -> list:
        """``[decode(k) for k in keys]``, in one C loop."""
        cdef list items = _as_list(keys, "keys")
        cdef Py_ssize_t i, n = len(items)
        cdef object row
        cdef string scratch
        cdef Numeric num
        out = PyList_New(n)
        try:
            for i in range(n):
                row = self._get(_as_encoded(items[i]), &scratch, &num)
                Py_INCREF(row)
                PyList_SET_ITEM(out, i, row)
        except UnicodeDecodeError as e:
            raise DecodeError(f"key: a text column is not valid UTF-8: {e}") from None
        return out

    def prefix_bounds(self, values_prefix=()) -> tuple:
        """``(lo, hi)``: every key whose leading columns equal ``values_prefix`` lies in
        ``lo <= key < hi``, and no other key of any layout does. ``()`` bounds the whole
        table or index."""
        cdef string buf
        cdef string hi
        cdef Numeric num
        self._put(values_prefix, False, &buf, &num)
        hi = key_successor(string_view(buf.data(), buf.size()))
        return _buf_bytes(&buf), _buf_bytes(&hi)


cdef class RowLayout:
    """The values of a table's non-key columns, as a compact binary tuple.

    ``RowLayout([type_name, ...])``. Decoding gives back exactly what was encoded (numeric
    scale, -0.0, bpchar's trailing spaces). A row written before columns were added at the end
    decodes with None in them.

    Immutable once built; every call keeps its scratch state on its own stack, so one layout
    may be shared by threads.
    """

    cdef Py_ssize_t _n
    cdef vector[int] _types
    cdef readonly tuple types

    def __init__(self, types):
        if self.types is not None:
            raise TypeError("a RowLayout is immutable")
        names = tuple(_as_list(types, "types"))
        if len(names) > kMaxRowColumns:
            raise ValueError(f"a row has at most {kMaxRowColumns} columns, not {len(names)}")
        for name in names:
            self._types.push_back(_type_code(name))
        self._n = len(names)
        self.types = names

    def __repr__(self):
        return f"RowLayout({list(self.types)!r})"

    cdef int _put(self, object values, string* buf, Numeric* num) except -1:
        # Replaces *buf with the encoded row.
        cdef tuple vals = _as_values(values)
        cdef Py_ssize_t i
        cdef object v
        cdef RowWriter w
        if len(vals) != self._n:
            raise ValueError(f"a row of this layout has {self._n} columns, got {len(vals)} values")
        buf.clear()
        w.begin(buf, <uint32_t>self._n)
        for i in range(self._n):
            v = vals[i]
            if v is None:
                w.null()
            else:
                _row_put(&w, v, i, self._types[i], num)
        w.finish()
        return 0

    cdef tuple _get(self, bytes row, Numeric* num):
        return self._get_at(PyBytes_AS_STRING(row), <size_t>PyBytes_GET_SIZE(row), num)

    cdef tuple _get_at(self, const char* data, size_t size, Numeric* num):
        cdef RowReader r
        cdef bint untrack = True
        cdef Py_ssize_t i
        cdef object v
        cdef int t
        r.reset(data, size)
        if not r.header(<uint32_t>self._n):
            raise DecodeError("row: invalid header (column count or NULL bitmap)")
        out = PyTuple_New(self._n)
        for i in range(self._n):
            if r.is_null(<uint32_t>i):
                v = None
            else:
                t = self._types[i]
                v = _row_get(&r, i, t, num)
                if untrack and _MAY_BE_TRACKED[t] and PyObject_GC_IsTracked(v):
                    untrack = False
            Py_INCREF(v)
            PyTuple_SET_ITEM(out, i, v)
        if not r.at_end():
            raise DecodeError(f"row: {r.remaining()} bytes left over after the last column")
        if untrack:
            _untrack(out)
        return out

    def encode(self, values) -> bytes:
        """The row of one tuple of values, one per column."""
        cdef string buf
        cdef Numeric num
        self._put(values, &buf, &num)
        return _buf_bytes(&buf)

    def encode_many(self, rows) -> list:
        """``[encode(r) for r in rows]``, in one C loop."""
        cdef list items = _as_list(rows, "rows")
        cdef Py_ssize_t i, n = len(items)
        cdef object b
        cdef string buf
        cdef Numeric num
        out = PyList_New(n)
        for i in range(n):
            self._put(items[i], &buf, &num)
            b = _buf_bytes(&buf)
            Py_INCREF(b)
            PyList_SET_ITEM(out, i, b)
        return out

    def decode(self, row) -> tuple:
        """The values of a row of this layout; DecodeError if it is not one."""
        cdef Numeric num
        try:
            return self._get(_as_encoded(row), &num)
        except UnicodeDecodeError as e:
            raise DecodeError(f"row: a text column is not valid UTF-8: {e}") from None

    def decode_many(self, rows) -> list:
        """``[decode(r) for r in rows]``, in one C loop."""
        cdef list items = _as_list(rows, "rows")
        cdef Py_ssize_t i, n = len(items)
        cdef object t
        cdef Numeric num
        out = PyList_New(n)
        try:
            for i in range(n):
                t = self._get(_as_encoded(items[i]), &num)
                Py_INCREF(t)
                PyList_SET_ITEM(out, i, t)
        except UnicodeDecodeError as e:
            raise DecodeError(f"row: a text column is not valid UTF-8: {e}") from None
        return out

    def scan_decoded(self, store, lo, hi, int64_t ts, Py_ssize_t limit, bint reverse=False,
                     bint with_keys=False):
        """One batch of a table scan, decoded in place: the rows of ``store`` (an MvccStore or
        ShardMap) with lo <= key < hi at ts, at most ``limit``, values decoded with this
        layout straight from the store's memory (no intermediate bytes objects).

        Returns ``(rows, keys, resume)``: the decoded value tuples; the raw keys (bytes) when
        ``with_keys``, else None; and where the next batch starts (pass it as ``lo``, or as
        ``hi`` when reverse), None when the range is exhausted. A ts that is not readable at
        once goes through the store's own scan, which waits for the watermark or raises.
        """
        cdef bytes lo_b = _as_encoded(lo)
        cdef bytes hi_b = _as_encoded(hi)
        cdef BorrowedBatch batch
        cdef _CMvccStore* one = NULL
        cdef _CShardMap* many = NULL
        cdef string_view lo_v = string_view(PyBytes_AS_STRING(lo_b), <size_t>PyBytes_GET_SIZE(lo_b))
        cdef string_view hi_v = string_view(PyBytes_AS_STRING(hi_b), <size_t>PyBytes_GET_SIZE(hi_b))
        cdef Py_ssize_t i, n
        cdef Numeric num
        cdef object t, k
        if limit <= 0:
            raise ValueError("limit must be > 0")
        impl = getattr(store, "_impl", store)
        cap = impl._capsule()
        # The capsule's name says which store it is (a ShardMap or one MvccStore).
        if PyCapsule_IsValid(cap, b"dsql.storage.ShardMap"):
            many = <_CShardMap*>PyCapsule_GetPointer(cap, b"dsql.storage.ShardMap")
        else:
            one = <_CMvccStore*>PyCapsule_GetPointer(cap, b"dsql.storage.MvccStore")
        for attempt in range(2):
            with nogil:
                if many != NULL:
                    scan_batch(many[0], lo_v, hi_v, ts, <size_t>limit, reverse, &batch)
                else:
                    scan_batch(one[0], lo_v, hi_v, ts, <size_t>limit, reverse, &batch)
            if batch.status == 0:
                break
            impl.scan(lo_b, hi_b, ts, 1, reverse)  # waits for the watermark, or raises
        else:
            raise RuntimeError("scan_decoded: the store stayed unreadable at this timestamp")
        n = <Py_ssize_t>batch.rows.size()
        rows = PyList_New(n)
        keys = PyList_New(n) if with_keys else None
        try:
            for i in range(n):
                t = self._get_at(batch.rows[i].value.data(), batch.rows[i].value.size(), &num)
                Py_INCREF(t)
                PyList_SET_ITEM(rows, i, t)
                if with_keys:
                    k = PyBytes_FromStringAndSize(batch.rows[i].key.data(),
                                                  <Py_ssize_t>batch.rows[i].key.size())
                    Py_INCREF(k)
                    PyList_SET_ITEM(keys, i, k)
        except UnicodeDecodeError as e:
            raise DecodeError(f"row: a text column is not valid UTF-8: {e}") from None
        resume = _buf_bytes(&batch.resume) if batch.more else None
        return rows, keys, resume


def successor(lo: bytes) -> bytes:
    """The exclusive upper bound of the keys that start with ``lo``."""
    cdef bytes b = _as_encoded(lo)
    cdef string hi
    if b.strip(b"\xff") == b"":
        raise ValueError("a key range needs a byte below 0xFF in its lower bound")
    hi = key_successor(string_view(PyBytes_AS_STRING(b), <size_t>PyBytes_GET_SIZE(b)))
    return _buf_bytes(&hi)
