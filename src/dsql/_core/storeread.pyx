# cython: language_level=3, boundscheck=False, wraparound=False
"""The per-call point-read path of the store.

A single get is called once per primary-key lookup, so what matters is the cost of crossing from
Python into C++: this module calls MvccStore / ShardMap directly (reached through the capsules of
the pybind11 objects in dsql._core._kernels.storage), without pybind11's argument and return
conversions. Anything unusual (a read that must wait for the watermark, or one below the GC
horizon) goes to the pybind11 method, which waits with the GIL released and raises the right
exception.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport int64_t
from libcpp.string cimport string
from libcpp.string_view cimport string_view

from store_kernel cimport MvccStore, PointRead, ShardMap


cdef class StoreGetter:
    """get(key, ts) -> bytes | None on one MvccStore; holds the pybind11 store alive."""

    cdef MvccStore* _store
    cdef object _owner
    cdef object _slow_get
    cdef string _buf

    def __cinit__(self, owner):
        self._owner = owner
        self._slow_get = owner.get
        self._store = <MvccStore*>PyCapsule_GetPointer(owner._capsule(), b"dsql.storage.MvccStore")

    def get(self, bytes key not None, int64_t ts):
        cdef PointRead r = self._store.read_into(
            string_view(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key)), ts, &self._buf)
        if r == PointRead.kFound:
            return PyBytes_FromStringAndSize(self._buf.data(), self._buf.size())
        if r == PointRead.kAbsent:
            return None
        return self._slow_get(key, ts)


cdef class MapGetter:
    """get(key, ts) -> bytes | None on one ShardMap; holds the pybind11 map alive."""

    cdef ShardMap* _map
    cdef object _owner
    cdef object _slow_get
    cdef string _buf

    def __cinit__(self, owner):
        self._owner = owner
        self._slow_get = owner.get
        self._map = <ShardMap*>PyCapsule_GetPointer(owner._capsule(), b"dsql.storage.ShardMap")

    def get(self, bytes key not None, int64_t ts):
        cdef PointRead r = self._map.read_into(
            string_view(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key)), ts, &self._buf)
        if r == PointRead.kFound:
            return PyBytes_FromStringAndSize(self._buf.data(), self._buf.size())
        if r == PointRead.kAbsent:
            return None
        return self._slow_get(key, ts)
