// compress_isal.cpp - zlib streams (RFC 1950) from ISA-L igzip level 0 with the static (fixed) Huffman table (isa-l/igzip_lib.h).
// The only file that includes ISA-L's compression API. Level 0 still finds matches (a one-probe
// hash); the static table avoids the stored-block fallback the default table takes on these
// tiny inputs (PERF_NOTES: 167 B stored vs 153.4 B fixed for the 156-byte token payload).
#include <isa-l/igzip_lib.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <new>

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
  if (!stream) stream.reset(new (std::nothrow) isal_zstream);
  return stream.get();
}

}  // namespace

Result compress_isal(const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::size_t cap) noexcept {
  // ISA-L counts bytes in 32 bits; token payloads are below 64 KiB.
  if (n > std::numeric_limits<std::uint32_t>::max()) return {Errc::kInternal, 0};
  isal_zstream* z = thread_stream();
  if (z == nullptr) return {Errc::kInternal, 0};
  // Stateless init + isal_deflate_stateless was measured faster than isal_deflate_reset +
  // isal_deflate on 156-byte inputs (bench/bench_deflate.cpp), because the stateful path copies
  // the input through the stream's internal history buffer. The init resets the table to the
  // default one, so the static table is selected again on every call.
  isal_deflate_stateless_init(z);
  if (isal_deflate_set_hufftables(z, nullptr, IGZIP_HUFFTABLE_STATIC) != COMP_OK) return {Errc::kInternal, 0};
  z->level = 0;
  z->gzip_flag = IGZIP_ZLIB;
  z->end_of_stream = 1;
  z->flush = NO_FLUSH;
  // ISA-L never writes through next_in; its API just lacks the const.
  z->next_in = const_cast<std::uint8_t*>(in);
  z->avail_in = static_cast<std::uint32_t>(n);
  z->next_out = out;
  z->avail_out = cap < std::numeric_limits<std::uint32_t>::max() ? static_cast<std::uint32_t>(cap)
                                                                  : std::numeric_limits<std::uint32_t>::max();
  const int ret = isal_deflate_stateless(z);
  if (ret == STATELESS_OVERFLOW) return {Errc::kOutputTooSmall, 0};
  if (ret != COMP_OK || z->avail_in != 0) return {Errc::kInternal, 0};
  return {Errc::kOk, static_cast<std::size_t>(z->next_out - out)};
}

}  // namespace mintlane::deflate
