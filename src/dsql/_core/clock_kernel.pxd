# Declarations of the C++ clock kernel (cpp/clock/) that the Cython read path calls.
from libc.stdint cimport int64_t, uint8_t

cdef extern from "clock/source.h" namespace "dsql::clock":
    # Status is an enum class of uint8_t; reads need only its value, taken with <int>.
    ctypedef uint8_t Status "dsql::clock::Status"

    cdef cppclass Reading:
        int64_t earliest_ns
        int64_t latest_ns
        Status status
        int64_t estimate_ns() noexcept
        int64_t bound_ns() noexcept

    cdef cppclass Source:
        Reading now() noexcept nogil

cdef extern from "clock/hybrid_clock.h" namespace "dsql::clock":
    cdef cppclass HybridClock:
        int64_t next() noexcept nogil
        int64_t next_above(int64_t floor_ns) noexcept nogil
