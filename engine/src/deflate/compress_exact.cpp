// compress_exact.cpp - zlib level 6 (windowBits 15, memLevel 8, default strategy): byte-identical to Python's zlib.compress (zlib manual; RFC 1950/1951).
// TOKEN_FORMAT.md §2.8: only vanilla zlib with exactly these parameters reproduces the reference
// token strings (checked with zlib 1.2.13). It costs ~10 µs per token, so it serves migrations and
// golden tests, never the hot path.
#include <zlib.h>

#include <cstdint>
#include <limits>

#include "deflate/deflate.hpp"

namespace mintlane::deflate {
namespace {

// deflateInit2 allocates ~268 KiB of window and hash chains; deflateReset reuses them, so each
// thread keeps one stream for its lifetime and frees it at thread exit.
class ThreadDeflater {
 public:
  ThreadDeflater() noexcept {
    ok_ = deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, /*windowBits=*/15, /*memLevel=*/8,
                       Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~ThreadDeflater() {
    if (ok_) deflateEnd(&z_);
  }
  ThreadDeflater(const ThreadDeflater&) = delete;
  ThreadDeflater& operator=(const ThreadDeflater&) = delete;

  z_stream* get() noexcept { return ok_ ? &z_ : nullptr; }

 private:
  z_stream z_{};  // zalloc/zfree/opaque zero: zlib's default allocator
  bool ok_ = false;
};

}  // namespace

Result compress_exact(const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::size_t cap) noexcept {
  constexpr std::size_t kUIntMax = std::numeric_limits<uInt>::max();
  if (n > kUIntMax) return {Errc::kInternal, 0};  // one deflate() call takes at most 4 GiB - 1
  thread_local ThreadDeflater deflater;
  z_stream* z = deflater.get();
  if (z == nullptr) return {Errc::kInternal, 0};
  // deflateReset keeps level, window, memLevel and strategy, so the next stream is produced
  // exactly as by a fresh deflateInit2 (zlib.compress makes a new stream per call).
  if (deflateReset(z) != Z_OK) return {Errc::kInternal, 0};
  z->next_in = const_cast<Bytef*>(in);  // zlib's API lacks the const; it never writes input
  z->avail_in = static_cast<uInt>(n);
  z->next_out = out;
  z->avail_out = static_cast<uInt>(cap < kUIntMax ? cap : kUIntMax);
  const int ret = ::deflate(z, Z_FINISH);  // qualified: `deflate` alone names this namespace
  if (ret == Z_STREAM_END) return {Errc::kOk, static_cast<std::size_t>(z->total_out)};
  // Z_OK or Z_BUF_ERROR with Z_FINISH: the output buffer filled before the stream ended. The
  // stream is left mid-way; the next call's deflateReset discards it.
  if (ret == Z_OK || ret == Z_BUF_ERROR) return {Errc::kOutputTooSmall, 0};
  return {Errc::kInternal, 0};
}

}  // namespace mintlane::deflate
