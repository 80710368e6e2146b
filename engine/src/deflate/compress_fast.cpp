// compress_fast.cpp - zlib stream (RFC 1950) of one fixed-Huffman deflate block (RFC 1951 §3.2.6): wrapper, stored fallback, kernel dispatch, scalar kernel.
// Built for token payloads (100-420 bytes): no Huffman code construction (what costs zlib and
// ISA-L level >= 1 5-10 µs on such inputs, PERF_NOTES), a one-probe hash matcher over half the
// positions, a 64-bit bit buffer and precomputed bit-reversed codes. Any length works; when stored
// blocks would be smaller (incompressible input) they are written instead.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "cpu/cpu.hpp"
#include "cpu/dispatch.hpp"
#include "deflate/compress_fast_kernels.hpp"
#include "deflate/deflate.hpp"

namespace mintlane::deflate {
namespace fixed {
namespace {

constexpr Kernel kKernels[] = {
    {"avx2", cpu::kAvx2 | cpu::kBmi2, encode_avx2},
    {"scalar", cpu::kNone, encode_scalar},  // always last: the fallback
};

// Racing first calls pick the same constant table entry; nothing else is published through the
// pointer, so relaxed order suffices.
std::atomic<const Kernel*> g_active{nullptr};

}  // namespace

// The specification of the matcher, which the avx2 kernel must follow decision for decision:
//  - every position i < n - 3 is inserted into the hash table, in order;
//  - only even positions at or after the end of the previous match probe it (half the probes;
//    any match of 5+ bytes still covers an even position, and matches of 4 are recovered below);
//  - a verified candidate is extended forward, then one byte backward when the byte before both
//    copies agrees (this recovers the matches that start at an odd position);
//  - greedy: the first match found is taken.
// Over the 111 vector payloads this averages 141.5 B against 141.4 B when every position probes
// and 141.7 B for ISA-L level 0 (PERF_NOTES workload: 149 B for all three), with half the probes.
void encode_scalar(const std::uint8_t* in, std::size_t n, const MatchContext& m, BitWriter& out) noexcept {
  // A local copy whose address never escapes stays in registers; through the reference, every
  // byte store of the output could alias it and would force a reload after each flush.
  BitWriter w = out;
  std::size_t lit = 0;  // first position not yet coded
  if (m.slot != nullptr && n > kMinMatch) {
    const std::size_t probe_end = n - (kMinMatch - 1);  // a probe reads 4 bytes
    for (std::size_t i = 0; i < probe_end; ++i) {
      const std::uint32_t cur = load32(in + i);
      const std::uint32_t h = hash4(cur, m.shift);
      const std::uint32_t here = m.base + static_cast<std::uint32_t>(i);
      const std::uint32_t dist = here - m.slot[h];  // stale entries give dist > i
      m.slot[h] = here;
      if ((i & 1) != 0 || i < lit) continue;
      const std::uint32_t limit = i < kWindow ? static_cast<std::uint32_t>(i) : kWindow;
      if (dist - 1 >= limit || load32(in + i - dist) != cur) continue;
      Found f = extend_match(in, n, i, dist, lit);
      for (; lit < f.start; ++lit) {
        const Code c = kLiterals.code[in[lit]];
        w.put(c.bits, c.len);
        w.flush();
      }
      put_match(w, f.len, dist);
      lit = f.start + f.len;
    }
  }
  for (; lit < n; ++lit) {
    const Code c = kLiterals.code[in[lit]];
    w.put(c.bits, c.len);
    w.flush();
  }
  out = w;
}

std::span<const Kernel> kernels() noexcept { return kKernels; }

const Kernel& active() noexcept { return cpu::active_kernel(kernels(), g_active); }

bool force(std::string_view name) noexcept { return cpu::force_kernel(kernels(), g_active, name); }

}  // namespace fixed

namespace {

using fixed::BitWriter;
using fixed::MatchContext;

// Per-thread hash table: 64 KiB at the largest hash size, of which inputs up to 1 KiB use the
// first 8 KiB. Heap-allocated once per thread rather than in static TLS.
struct MatchTable {
  std::uint32_t base = 1;  // entries start at 0, which reads as stale once base >= 1
  std::uint32_t slot[std::size_t{1} << fixed::kMaxHashBits] = {};
};
struct MatchTableDeleter {
  void operator()(MatchTable* t) const noexcept { delete t; }
};

MatchTable* thread_table() noexcept {
  thread_local std::unique_ptr<MatchTable, MatchTableDeleter> table;
  if (!table) table.reset(new (std::nothrow) MatchTable);
  return table.get();
}

// About two slots per position, between 2 Ki and 16 Ki slots (fewer slots cost matches through
// collisions; more touch more cache lines).
unsigned hash_bits_for(std::size_t n) noexcept {
  unsigned b = fixed::kMinHashBits;
  while (b < fixed::kMaxHashBits && (std::size_t{1} << b) < 2 * n) ++b;
  return b;
}

constexpr std::size_t stored_size(std::size_t n) noexcept {
  const std::size_t blocks = n == 0 ? 1 : (n + 65534) / 65535;
  return 2 + 5 * blocks + n + 4;
}

void put_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// Stored blocks (RFC 1951 §3.2.4): a header byte (BFINAL, BTYPE 00, padding), LEN, NLEN, data.
std::size_t write_stored(const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::uint32_t adler) noexcept {
  std::uint8_t* p = out;
  *p++ = 0x78;
  *p++ = 0x01;
  std::size_t left = n;
  do {
    const std::size_t len = left < 65535 ? left : 65535;
    left -= len;
    p[0] = left == 0 ? 1 : 0;
    p[1] = static_cast<std::uint8_t>(len);
    p[2] = static_cast<std::uint8_t>(len >> 8);
    p[3] = static_cast<std::uint8_t>(~len);
    p[4] = static_cast<std::uint8_t>(~len >> 8);
    p += 5;
    if (len != 0) std::memcpy(p, in, len);
    in += len;
    p += len;
  } while (left != 0);
  put_be32(p, adler);
  return static_cast<std::size_t>(p + 4 - out);
}

}  // namespace

Result compress_fast(const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::size_t cap) noexcept {
  const std::uint32_t adler = adler32(1, in, n);
  const std::size_t stored = stored_size(n);
  if (cap < 2) return {Errc::kOutputTooSmall, 0};
  // Header 78 01: deflate, 32 KiB window, FLEVEL 0 (fastest), FCHECK making 0x7801 % 31 == 0.
  out[0] = 0x78;
  out[1] = 0x01;
  BitWriter w(out + 2, out + cap);
  w.put(0b011, 3);  // BFINAL = 1, BTYPE = 01 (fixed Huffman)

  MatchContext m{nullptr, 0, 32};
  // Table entries are 32-bit positions, so matching stops at 1 GiB inputs (tokens are < 64 KiB);
  // beyond that, or if the per-thread table cannot be allocated, the block has literals only.
  if (n > fixed::kMinMatch && n < (std::size_t{1} << 30)) {
    if (MatchTable* t = thread_table()) {
      if (t->base > UINT32_MAX - n) {  // base + position would wrap: start over with a clean table
        std::memset(t->slot, 0, sizeof t->slot);
        t->base = 1;
      }
      m = {t->slot, t->base, 32 - hash_bits_for(n)};
      t->base += static_cast<std::uint32_t>(n);
    }
  }
  fixed::active().encode(in, n, m, w);
  w.put(fixed::kEndOfBlock.bits, fixed::kEndOfBlock.len);
  w.finish();

  const std::size_t fixed_size = w.overflow() ? SIZE_MAX : static_cast<std::size_t>(w.pos() - out) + 4;
  if (stored < fixed_size) {  // incompressible input: stored blocks are smaller and always valid
    if (stored > cap) return {Errc::kOutputTooSmall, 0};
    return {Errc::kOk, write_stored(in, n, out, adler)};
  }
  if (fixed_size > cap) return {Errc::kOutputTooSmall, 0};
  put_be32(w.pos(), adler);
  return {Errc::kOk, fixed_size};
}

}  // namespace mintlane::deflate
