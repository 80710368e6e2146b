// inflate_isal.cpp - strict zlib (RFC 1950) inflation: header and Adler-32 trailer checked here, the deflate data (RFC 1951) by ISA-L isal_inflate_stateless (isa-l/igzip_lib.h).
// The wrapper is parsed by hand rather than with crc_flag = ISAL_ZLIB so that each fault gets its
// own Errc (header, corrupt data, truncation, checksum) and so that the bytes after the trailer can
// be counted: TOKEN_FORMAT.md §2.8 and §3.3 require any valid header, a correct Adler-32, rejection
// of raw deflate and gzip, and tolerance of junk after the stream.
// Cost note: on ~150-byte token streams ISA-L's per-call decode-table setup dominates, and zlib's
// inflate is about twice as fast (bench rows inflate/isal vs inflate/zlib); decoding is off the
// minting path, and ISA-L is kept for its speed on large streams and as DESIGN.md's decoder.
#include <isa-l/igzip_lib.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <new>

#include "deflate/deflate.hpp"

namespace mintlane::deflate {
namespace {

// inflate_state carries decode tables and a 64 KiB history buffer (~100 KiB), so it is allocated
// once per thread on the heap instead of on the stack or in static TLS.
struct InflateStateDeleter {
  void operator()(inflate_state* s) const noexcept { delete s; }
};

inflate_state* thread_state() noexcept {
  thread_local std::unique_ptr<inflate_state, InflateStateDeleter> state;
  if (!state) {
    state.reset(new (std::nothrow) inflate_state);
    if (state) isal_inflate_init(state.get());
  }
  return state.get();
}

constexpr std::uint32_t clamp_u32(std::size_t v) noexcept {
  return v < std::numeric_limits<std::uint32_t>::max() ? static_cast<std::uint32_t>(v)
                                                        : std::numeric_limits<std::uint32_t>::max();
}

}  // namespace

Result inflate_zlib(const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::size_t cap,
                    std::size_t* trailing) noexcept {
  if (trailing != nullptr) *trailing = 0;
  // RFC 1950 §2.2: CMF = CINFO(4) | CM(4), FLG = FLEVEL(2) | FDICT(1) | FCHECK(5).
  if (n == 0) return {Errc::kTruncatedZlib, 0};
  const std::uint8_t cmf = in[0];
  if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7) return {Errc::kBadZlibHeader, 0};  // gzip starts 1f 8b
  if (n == 1) return {Errc::kTruncatedZlib, 1};
  const std::uint8_t flg = in[1];
  // FCHECK makes CMF*256 + FLG a multiple of 31; a preset dictionary (FDICT) is never used by
  // tokens and no reference decoder supplies one.
  if ((cmf * 256u + flg) % 31 != 0 || (flg & 0x20) != 0) return {Errc::kBadZlibHeader, 1};

  inflate_state* s = thread_state();
  if (s == nullptr) return {Errc::kInternal, 0};
  // Raw deflate from offset 2. The whole rest of the input is offered because the end of the
  // deflate data is only known once decoded; ISA-L reads only inside [next_in, next_in + avail_in).
  // Inputs above 4 GiB are cut to 4 GiB - 1 (tokens are below 64 KiB); a stream that needs more is
  // then reported truncated. Like zlib, distances are not limited to the window CINFO announces.
  s->next_in = const_cast<std::uint8_t*>(in + 2);  // ISA-L's API lacks the const; it only reads
  s->avail_in = clamp_u32(n - 2);
  s->next_out = out;
  s->avail_out = clamp_u32(cap);
  s->crc_flag = ISAL_DEFLATE;
  s->hist_bits = 0;
  const int ret = isal_inflate_stateless(s);
  // isal_inflate_stateless hands back the whole bytes it had buffered but not used, so next_in is
  // the first byte after the deflate data.
  const std::size_t end = static_cast<std::size_t>(s->next_in - in);
  switch (ret) {
    case ISAL_DECOMP_OK:
      break;
    case ISAL_END_INPUT:
      return {Errc::kTruncatedZlib, n};
    case ISAL_OUT_OVERFLOW:
      return {Errc::kOutputTooLarge, end};
    case ISAL_INVALID_BLOCK:
    case ISAL_INVALID_SYMBOL:
    case ISAL_INVALID_LOOKBACK:
      return {Errc::kBadDeflate, end};
    default:
      return {Errc::kInternal, end};
  }
  if (s->block_state != ISAL_BLOCK_FINISH) return {Errc::kTruncatedZlib, n};
  const std::size_t written = static_cast<std::size_t>(s->next_out - out);
  // RFC 1950 §2.2: ADLER32 of the uncompressed data, most significant byte first.
  if (n - end < 4) return {Errc::kTruncatedZlib, n};
  const std::uint32_t stored = (std::uint32_t{in[end]} << 24) | (std::uint32_t{in[end + 1]} << 16) |
                               (std::uint32_t{in[end + 2]} << 8) | std::uint32_t{in[end + 3]};
  if (adler32(1, out, written) != stored) return {Errc::kBadAdler32, end};
  if (trailing != nullptr) *trailing = n - end - 4;
  return {Errc::kOk, written};
}

}  // namespace mintlane::deflate
