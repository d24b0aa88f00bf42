"""Bindings to the C++ kernels in cpp/: thin wrappers only, no logic.

- ``_kernels``: the pybind11 module, one submodule per kernel (``_kernels.clock``, ...).
- ``clockread``: the Cython read path of the clock.
- ``codec``: the Cython key and row codecs over cpp/storage/ (public face: dsql.storage.codec).
"""
