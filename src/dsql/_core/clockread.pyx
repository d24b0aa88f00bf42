# cython: language_level=3, boundscheck=False, wraparound=False
"""The per-call clock read path.

A clock read is called once per transaction start and once per commit, so what matters is the
cost of crossing from Python into C++: this module calls the C++ Source and HybridClock objects
directly (reached through the capsules of the pybind11 objects in dsql._core._kernels.clock),
without pybind11's argument and return conversions.
"""
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport int64_t

from clock_kernel cimport HybridClock, Reading as CReading, Source

_STATUS_NAMES = ("unknown", "synchronized", "free-running")


cdef class Reading:
    """One clock reading: true time lies in [earliest, latest] (ns since the Unix epoch)."""

    cdef readonly int64_t earliest
    cdef readonly int64_t latest
    cdef readonly str status
    cdef readonly str source

    @property
    def bound(self) -> int:
        """Half the width of the interval, in ns."""
        return (self.latest - self.earliest) // 2

    @property
    def estimate(self) -> int:
        """The source's best value for the time, in ns (the midpoint)."""
        return self.earliest + (self.latest - self.earliest) // 2

    def __repr__(self) -> str:
        return (f"Reading(earliest={self.earliest}, latest={self.latest}, "
                f"status={self.status!r}, source={self.source!r})")


cdef class SourceReader:
    """Reads one clock source; holds the pybind11 source object so it stays alive."""

    cdef Source* _src
    cdef object _owner
    cdef str _name

    def __cinit__(self, owner):
        self._owner = owner
        self._src = <Source*>PyCapsule_GetPointer(owner._capsule(), b"dsql.clock.Source")
        self._name = owner.name

    def now(self) -> Reading:
        cdef CReading r
        with nogil:
            r = self._src.now()
        cdef Reading out = Reading.__new__(Reading)
        out.earliest = r.earliest_ns
        out.latest = r.latest_ns
        out.status = _STATUS_NAMES[<int>r.status]
        out.source = self._name
        return out

    def now_ns(self) -> int:
        """The estimate alone, in ns: the cheapest read."""
        return self._src.now().estimate_ns()


cdef class TimestampIssuer:
    """Hands out hybrid-logical timestamps from one HybridClock."""

    cdef HybridClock* _hlc
    cdef object _owner

    def __cinit__(self, owner):
        self._owner = owner
        self._hlc = <HybridClock*>PyCapsule_GetPointer(owner._capsule(), b"dsql.clock.HybridClock")

    def next(self) -> int:
        return self._hlc.next()

    def next_above(self, int64_t floor_ns) -> int:
        return self._hlc.next_above(floor_ns)
