// Registration of pybind11 bindings into the single extension module dsql._core._kernels.
//
// Each kernel's binding file (src/dsql/_core/bind_<kernel>.cc) registers a function that fills
// its own submodule, so adding a kernel never edits module.cc:
//
//   static void bind(pybind11::module_& m) { ... }
//   DSQL_REGISTER_BINDINGS(storage, bind);   // -> dsql._core._kernels.storage
//
// Thread-safety: registration happens during static initialisation of the extension module,
// before PyInit runs; the list is read once, by PyInit, under the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include <vector>

namespace dsql::bind {

using BindFn = void (*)(pybind11::module_&);

struct Binder {
  const char* submodule;
  BindFn fn;
};

std::vector<Binder>& binders();

struct Register {
  Register(const char* submodule, BindFn fn) { binders().push_back(Binder{submodule, fn}); }
};

}  // namespace dsql::bind

// Several files may register into one submodule; each registration gets its own static.
#define DSQL_REGISTER_BINDINGS(submodule, fn) \
  static ::dsql::bind::Register DSQL_BIND_CONCAT(dsql_register_##submodule##_, __LINE__)(#submodule, fn)
#define DSQL_BIND_CONCAT_INNER(a, b) a##b
#define DSQL_BIND_CONCAT(a, b) DSQL_BIND_CONCAT_INNER(a, b)
