// The pybind11 extension module dsql._core._kernels: one submodule per C++ kernel.
#include <pybind11/pybind11.h>

#include "bindings.h"

namespace dsql::bind {

std::vector<Binder>& binders() {
  static std::vector<Binder> all;
  return all;
}

}  // namespace dsql::bind

PYBIND11_MODULE(_kernels, m) {
  m.doc() = "dsql C++ kernels (clock, storage, adjudicator, journal)";
  // Several binding files may fill one submodule (e.g. storage's codec and store).
  for (const dsql::bind::Binder& b : dsql::bind::binders()) {
    pybind11::module_ sub = pybind11::hasattr(m, b.submodule)
                                ? m.attr(b.submodule).cast<pybind11::module_>()
                                : m.def_submodule(b.submodule);
    b.fn(sub);
  }
}
