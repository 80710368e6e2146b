// arena.hpp - reusable output buffers for batches. A fresh page costs 13-23 us to touch on these
// VMs (PERF_NOTES), more than minting 40 tokens, so buffers are recycled instead of freed.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace mintlane::batch {

class ArenaPool : public std::enable_shared_from_this<ArenaPool> {
 public:
  struct Buffer {
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;
  };
  // A buffer of at least `bytes` (contents unspecified). The pool lock is taken once per batch.
  Buffer acquire(std::size_t bytes);
  // Returns a buffer for reuse; the pool keeps at most kMaxKept buffers / kMaxKeptBytes bytes.
  void release(Buffer buffer) noexcept;

  static constexpr std::size_t kMaxKept = 4;
  static constexpr std::size_t kMaxKeptBytes = std::size_t{1} << 30;

 private:
  std::mutex mutex_;
  std::vector<Buffer> free_;
};

}  // namespace mintlane::batch
