// arena_cache.cpp - keeps freed pymalloc arenas for reuse instead of unmapping them.
// PERF_NOTES ("Python boundary"): past ~4,000 str objects per call pymalloc maps fresh 1 MiB
// arenas, and every first-touched page costs 13-23 us on these VMs, about 1 us per token, three
// times the cost of minting it. tolist() makes N str objects at once, so when a big list is
// freed and the next one built, CPython would unmap and re-map (and re-fault) the same memory.
// This wrapper around the interpreter's arena allocator (PyObject_SetArenaAllocator) keeps up to
// MINTLANE_ARENA_CACHE_MB (default 64) MiB of freed arenas and hands them out again, pages warm.
// Set MINTLANE_ARENA_CACHE_MB=0 to leave CPython's allocator untouched.
#include <Python.h>

#include <cstdlib>
#include <vector>

#include "bindings/arena_cache.hpp"

namespace mintlane::py_bindings {
namespace {

PyObjectArenaAllocator g_base{};  // the allocator we wrap (CPython's mmap/munmap one)
std::vector<std::pair<void*, std::size_t>>* g_cache = nullptr;  // freed arenas (GIL-protected)
std::size_t g_cached_bytes = 0, g_limit = 0;
bool g_installed = false;

// pymalloc calls these with the GIL held, so the cache needs no lock of its own.
void* cached_alloc(void* ctx, std::size_t size) {
  for (std::size_t i = g_cache->size(); i-- > 0;) {
    if ((*g_cache)[i].second == size) {
      void* p = (*g_cache)[i].first;
      g_cached_bytes -= size;
      (*g_cache)[i] = g_cache->back();
      g_cache->pop_back();
      return p;
    }
  }
  return g_base.alloc(ctx, size);
}

void cached_free(void* ctx, void* ptr, std::size_t size) {
  if (ptr != nullptr && g_cached_bytes + size <= g_limit) {
    g_cache->emplace_back(ptr, size);
    g_cached_bytes += size;
    return;
  }
  g_base.free(ctx, ptr, size);
}

}  // namespace

void ensure_arena_cache() {
  if (g_installed) return;
  g_installed = true;
  long mb = 64;
  if (const char* env = std::getenv("MINTLANE_ARENA_CACHE_MB")) mb = std::strtol(env, nullptr, 10);
  if (mb <= 0) return;
  g_limit = static_cast<std::size_t>(mb) << 20;
  g_cache = new std::vector<std::pair<void*, std::size_t>>();  // lives as long as the process
  g_cache->reserve(static_cast<std::size_t>(mb) + 1);
  PyObject_GetArenaAllocator(&g_base);
  PyObjectArenaAllocator wrapped{g_base.ctx, cached_alloc, cached_free};
  PyObject_SetArenaAllocator(&wrapped);
}

}  // namespace mintlane::py_bindings
