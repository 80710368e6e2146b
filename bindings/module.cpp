// module.cpp - the mintlane._core extension: exceptions, token codecs, Minter, kernels, server.
#include <pybind11/pybind11.h>

#include "bindings/bulk_bindings.hpp"
#include "bindings/common.hpp"
#if __has_include("bindings/server_bindings.hpp")
#include "bindings/server_bindings.hpp"
#define MINTLANE_BIND_SERVER 1
#endif

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "mintlane engine: Agora AccessToken2 (007) and AccessToken (006) minting, decoding, verification";
  m.attr("__version__") = MINTLANE_VERSION;
  mintlane::py_bindings::register_errors(m);
  mintlane::py_bindings::register_tokens(m);
  mintlane::py_bindings::register_minter(m);
  mintlane::py_bindings::register_bulk(m);
#ifdef MINTLANE_BIND_SERVER
  mintlane::register_server(m);
#endif
}
