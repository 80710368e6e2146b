// bulk_bindings.hpp - registers mintlane._core's pool classes (the engine side of mintlane.bulk,
// mintlane.distributed and mintlane.verify_pool).
#pragma once
#include <pybind11/pybind11.h>

namespace mintlane::py_bindings {
// Adds _BulkGenerator, _BulkRequests, _PoolChunk, _PoolWriter, _FileSink, _PoolVerifier and
// _partition_range to `m`.
void register_bulk(pybind11::module_& m);
}  // namespace mintlane::py_bindings
