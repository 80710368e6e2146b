// server_bindings.hpp - registers mintlane._core.Server and mintlane._core.RequestHandler.
#pragma once
#include <pybind11/pybind11.h>

namespace mintlane {
// Adds Server (the native HTTP token server) and RequestHandler (the same routes in process, for
// the ASGI front) to `m`.
void register_server(pybind11::module_& m);
}  // namespace mintlane
