// byte_buffer.hpp - a growable byte buffer that never zero-fills (std::vector<char>::resize would
// touch every new byte) and keeps its capacity, so reused buffers keep their warm pages.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>

namespace mintlane::bulk {

class ByteBuffer {
 public:
  char* data() noexcept { return data_.get(); }
  const char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  void clear() noexcept { size_ = 0; }
  // Makes room for `extra` more bytes after size() (contents kept) and returns where they go.
  char* reserve_more(std::size_t extra) {
    if (capacity_ - size_ < extra) grow(size_ + extra);
    return data_.get() + size_;
  }
  void commit(std::size_t n) noexcept { size_ += n; }  // after writing n bytes at reserve_more()
  void append(const char* p, std::size_t n) {
    std::memcpy(reserve_more(n), p, n);
    size_ += n;
  }

 private:
  void grow(std::size_t need) {
    const std::size_t cap = std::max(need + need / 4, std::size_t{64} * 1024);
    std::unique_ptr<char[]> fresh(new char[cap]);
    if (size_ != 0) std::memcpy(fresh.get(), data_.get(), size_);
    data_ = std::move(fresh);
    capacity_ = cap;
  }
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace mintlane::bulk
