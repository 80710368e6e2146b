// arena_cache.hpp - see arena_cache.cpp.
#pragma once

namespace mintlane::py_bindings {
// Installs the arena cache once (GIL held). Called before building large lists of str.
void ensure_arena_cache();
}  // namespace mintlane::py_bindings
