// compress_isal.cpp - zlib streams (RFC 1950) from ISA-L igzip level 0 with the static (fixed) Huffman table (isa-l/igzip_lib.h).
// The only file that includes ISA-L's compression API. Level 0 still finds matches (a one-probe
// hash); the static table avoids the stored-block fallback the default table takes on these
// tiny inputs (PERF_NOTES: 167 B stored vs 153.4 B fixed for the 156-byte token payload).
#include <isa-l/igzip_lib.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <vector>

#include "deflate/deflate.hpp"

namespace mintlane::deflate {
namespace {

// isal_zstream embeds its history buffer and hash table (~85 KiB), so it lives on the heap, once
// per thread: a thread_local object that large would enlarge every thread's static TLS block.
struct ZstreamDeleter {
  void operator()(isal_zstream* z) const noexcept { delete z; }
};

isal_zstream* thread_stream() noexcept {
  thread_local std::unique_ptr<isal_zstream, ZstreamDeleter> stream;
  // Value-initialised: ISA-L 2.30's stateless init leaves hist_bits alone, and a stale value
  // limits match distances (valid but different, larger output); see also deflate_once.
  if (!stream) stream.reset(new (std::nothrow) isal_zstream{});
  return stream.get();
}

constexpr std::uint32_t clamp_u32(std::size_t v) noexcept {
  return v < std::numeric_limits<std::uint32_t>::max() ? static_cast<std::uint32_t>(v)
                                                        : std::numeric_limits<std::uint32_t>::max();
}

// One isal_deflate_stateless call into out[0..cap). Returns its code; *written = bytes produced.
int deflate_once(isal_zstream* z, const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::size_t cap,
                 std::size_t* written) noexcept {
  // Stateless init + isal_deflate_stateless and isal_deflate_reset + isal_deflate cost the same on
  // the 156-byte workload (253 vs 256 ns, min of 301 runs); stateless is kept because it cannot
  // carry history from one call into the next. The init selects the default table again, so the
  // static one is set on every call.
  isal_deflate_stateless_init(z);
  z->hist_bits = 0;  // 0 = the full 32 KiB window; the init does not reset it (ISA-L 2.30)
  if (isal_deflate_set_hufftables(z, nullptr, IGZIP_HUFFTABLE_STATIC) != COMP_OK) return INVALID_PARAM;
  z->level = 0;
  z->gzip_flag = IGZIP_ZLIB;
  z->end_of_stream = 1;
  z->flush = NO_FLUSH;
  z->next_in = const_cast<std::uint8_t*>(in);  // ISA-L never writes through next_in; its API lacks the const
  z->avail_in = static_cast<std::uint32_t>(n);
  z->next_out = out;
  z->avail_out = clamp_u32(cap);
  const int ret = isal_deflate_stateless(z);
  *written = static_cast<std::size_t>(z->next_out - out);
  return ret == COMP_OK && z->avail_in != 0 ? INVALID_PARAM : ret;
}

}  // namespace

Result compress_isal(const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::size_t cap) noexcept {
  // ISA-L counts bytes in 32 bits; token payloads are below 64 KiB.
  if (n > std::numeric_limits<std::uint32_t>::max()) return {Errc::kInternal, 0};
  isal_zstream* z = thread_stream();
  if (z == nullptr) return {Errc::kInternal, 0};
  std::size_t written = 0;
  int ret = deflate_once(z, in, n, out, cap, &written);
  if (ret == STATELESS_OVERFLOW && cap < compress_bound(n)) {
    // ISA-L wants room beyond the final size (it writes whole 64-bit words and checks for the
    // stored-block worst case), so a caller's exact-size buffer overflows. Compress into a
    // per-thread buffer of the full bound instead and copy if the result fits: only callers
    // with tight buffers pay for the copy (and the buffer's one-time growth).
    thread_local std::vector<std::uint8_t> scratch;
    if (scratch.size() < compress_bound(n)) {
      try {
        scratch.resize(compress_bound(n));
      } catch (...) {
        return {Errc::kInternal, 0};
      }
    }
    ret = deflate_once(z, in, n, scratch.data(), scratch.size(), &written);
    if (ret == COMP_OK) {
      if (written > cap) return {Errc::kOutputTooSmall, 0};
      std::memcpy(out, scratch.data(), written);
      return {Errc::kOk, written};
    }
  }
  if (ret == STATELESS_OVERFLOW) return {Errc::kOutputTooSmall, 0};
  if (ret != COMP_OK) return {Errc::kInternal, 0};
  return {Errc::kOk, written};
}

}  // namespace mintlane::deflate
