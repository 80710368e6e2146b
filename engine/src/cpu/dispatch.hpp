// dispatch.hpp - the one implementation of "kernel table, chosen once, forceable by name" that
// every CPU-dispatched kernel family uses (STYLE.md §4; simdutf, libdeflate).
// A table lists kernels best first; each has `const char* name` and `std::uint32_t required`
// (cpu::Feature bits); the last one requires nothing.
#pragma once
#include <atomic>
#include <span>
#include <string_view>

#include "cpu/cpu.hpp"

namespace mintlane::cpu {

// The first kernel whose features cpu::detect() reports.
template <class K>
const K& best_supported(std::span<const K> table) noexcept {
  const std::uint32_t have = detect();
  for (const K& k : table)
    if ((have & k.required) == k.required) return k;
  return table.back();  // the portable kernel requires nothing
}

// The kernel in use. Racing first callers compute the same answer; compare-exchange rather
// than a plain store so that a force() landing in between is not overwritten. The pointers
// target constant tables, so acquire/release on the pointer is all the ordering needed.
template <class K>
const K& active_kernel(std::span<const K> table, std::atomic<const K*>& slot) noexcept {
  const K* k = slot.load(std::memory_order_acquire);
  if (k != nullptr) return *k;
  const K* best = &best_supported(table);
  if (slot.compare_exchange_strong(k, best, std::memory_order_acq_rel, std::memory_order_acquire)) return *best;
  return *k;  // another thread published first; `k` holds its choice
}

// Selects a kernel by name for tests, benchmarks and bug reports; false (and no change) when the
// name is unknown or the CPU lacks its features.
template <class K>
bool force_kernel(std::span<const K> table, std::atomic<const K*>& slot, std::string_view name) noexcept {
  for (const K& k : table) {
    if (name != k.name) continue;
    if (!supports(k.required)) return false;
    slot.store(&k, std::memory_order_release);
    return true;
  }
  return false;
}

}  // namespace mintlane::cpu
