# Declarations of the C++ store (cpp/storage/) that the Cython point-read path calls.
from libc.stdint cimport int64_t
from libcpp.string cimport string
from libcpp.string_view cimport string_view
from libcpp.vector cimport vector

cdef extern from "storage/mvcc_store.h" namespace "dsql::storage":
    cdef enum class PointRead(int):
        kAbsent
        kFound
        kNotReadable

    cdef cppclass MvccStore:
        int64_t watermark() noexcept
        PointRead read_into(string_view key, int64_t ts, string* out) noexcept

cdef extern from "storage/shard_map.h" namespace "dsql::storage":
    cdef cppclass ShardMap:
        int64_t watermark() noexcept
        PointRead read_into(string_view key, int64_t ts, string* out) noexcept

cdef extern from "storage/scan_batch.h" namespace "dsql::storage":
    cdef cppclass Row:
        string_view key
        string_view value

    cdef cppclass BorrowedBatch:
        int status
        vector[Row] rows
        bint more
        string resume

    void scan_batch(const MvccStore& store, string_view lo, string_view hi, int64_t ts,
                    size_t limit, bint reverse, BorrowedBatch* out) except + nogil
    void scan_batch(const ShardMap& store, string_view lo, string_view hi, int64_t ts,
                    size_t limit, bint reverse, BorrowedBatch* out) except + nogil
