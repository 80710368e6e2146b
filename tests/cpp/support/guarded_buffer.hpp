// guarded_buffer.hpp - test buffer placed against a PROT_NONE page so any out-of-bounds read or
// write faults at once (libdeflate programs/test_util.c alloc_guarded_buffer; mmap(2), mprotect(2)).
//
// Layout: [PROT_NONE page][data pages][PROT_NONE page]. With Edge::kEnd (the default) the data
// ends exactly where the trailing guard page begins, catching overruns; with Edge::kStart it
// begins exactly where the leading guard page ends, catching reads before the start. A fresh
// buffer is filled with kFill so untouched bytes are recognisable. Not thread-safe to share.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mintlane::test {

class GuardedBuffer {
 public:
  enum class Edge { kEnd, kStart };  // which end of the data touches a guard page
  static constexpr std::uint8_t kFill = 0xa5;

  explicit GuardedBuffer(std::size_t size, Edge edge = Edge::kEnd) { allocate(size, edge); }
  explicit GuardedBuffer(std::span<const std::uint8_t> contents, Edge edge = Edge::kEnd) {
    allocate(contents.size(), edge);
    if (!contents.empty()) std::memcpy(data_, contents.data(), contents.size());
  }
  explicit GuardedBuffer(std::string_view contents, Edge edge = Edge::kEnd) {
    allocate(contents.size(), edge);
    if (!contents.empty()) std::memcpy(data_, contents.data(), contents.size());
  }

  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  GuardedBuffer(GuardedBuffer&& other) noexcept { swap(other); }
  GuardedBuffer& operator=(GuardedBuffer&& other) noexcept {
    if (this != &other) {
      release();
      swap(other);
    }
    return *this;
  }
  ~GuardedBuffer() { release(); }

  // Never null, even for size 0 (then it points at the guard page boundary).
  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  char* chars() noexcept { return reinterpret_cast<char*>(data_); }
  const char* chars() const noexcept { return reinterpret_cast<const char*>(data_); }
  std::size_t size() const noexcept { return size_; }
  std::span<std::uint8_t> bytes() noexcept { return {data_, size_}; }
  std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }
  std::string_view view() const noexcept { return {chars(), size_}; }
  std::string str() const { return std::string(view()); }

 private:
  void allocate(std::size_t size, Edge edge) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t data_pages = (size + page - 1) / page;
    map_size_ = (data_pages + 2) * page;
    void* base = ::mmap(nullptr, map_size_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "GuardedBuffer mmap");
    base_ = static_cast<std::uint8_t*>(base);
    std::uint8_t* first = base_ + page;  // first data page; the guard pages stay PROT_NONE
    if (data_pages != 0 && ::mprotect(first, data_pages * page, PROT_READ | PROT_WRITE) != 0) {
      const int err = errno;
      release();
      throw std::system_error(err, std::generic_category(), "GuardedBuffer mprotect");
    }
    data_ = edge == Edge::kStart ? first : first + data_pages * page - size;
    size_ = size;
    if (size != 0) std::memset(data_, kFill, size);
  }

  void release() noexcept {
    if (base_ != nullptr) ::munmap(base_, map_size_);
    base_ = data_ = nullptr;
    map_size_ = size_ = 0;
  }

  void swap(GuardedBuffer& other) noexcept {
    std::swap(base_, other.base_);
    std::swap(map_size_, other.map_size_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

  std::uint8_t* base_ = nullptr;
  std::size_t map_size_ = 0;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace mintlane::test
