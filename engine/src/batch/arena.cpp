// arena.cpp - the batch buffer pool (best fit, bounded).
#include "batch/arena.hpp"

#include <algorithm>

namespace mintlane::batch {

ArenaPool::Buffer ArenaPool::acquire(std::size_t bytes) {
  {
    std::lock_guard lock(mutex_);
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->capacity >= bytes && (best == free_.end() || it->capacity < best->capacity)) best = it;
    if (best != free_.end()) {
      Buffer b = std::move(*best);
      free_.erase(best);
      return b;
    }
  }
  // Round up so that slightly growing batches keep reusing one buffer.
  const std::size_t cap = std::max<std::size_t>(bytes + bytes / 8, 4096);
  return Buffer{std::unique_ptr<char[]>(new char[cap]), cap};
}

void ArenaPool::release(Buffer buffer) noexcept {
  if (!buffer.data) return;
  std::lock_guard lock(mutex_);
  free_.push_back(std::move(buffer));
  // Keep the largest buffers within the limits; drop the rest.
  std::sort(free_.begin(), free_.end(), [](const Buffer& a, const Buffer& b) { return a.capacity > b.capacity; });
  std::size_t total = 0, keep = 0;
  for (; keep < free_.size() && keep < kMaxKept; ++keep) {
    if (total + free_[keep].capacity > kMaxKeptBytes) break;
    total += free_[keep].capacity;
  }
  free_.resize(keep);
}

}  // namespace mintlane::batch
