// compress_fast_avx2.cpp - AVX2 + BMI2 kernel of the fixed-Huffman encoder (RFC 1951 §3.2.6): vector hashing and literal codes, PEXT packing, one pass.
// Makes exactly encode_scalar's decisions (compress_fast.cpp). One loop walks the input in blocks
// of 16 positions; each iteration
//   1. hashes the block's 4-byte windows with AVX2 (8 per multiply), then probes and inserts its
//      16 positions in order, queueing the matches it finds;
//   2. codes the previous block, which no later match can reach any more (a match starts at or
//      after the block being probed, or one byte before it): its queued matches, and its literals,
//      for which AVX2 turns 16 bytes into bit-reversed 8- or 9-bit codes (fixed_literals_avx2.inc,
//      shared with template_plan_avx2.cpp). Eight 8-bit codes are one 64-bit store; otherwise one
//      PEXT with per-lane masks 0x00ff / 0x01ff packs four codes held in 16-bit lanes, so the bit
//      buffer takes one step per 4 to 8 literals.
// Compared with coding each symbol as it is found, the probe loop no longer waits on the bit
// buffer, and its state stays in registers.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/target.hpp"
#include "deflate/compress_fast_kernels.hpp"

MINTLANE_TARGET_BEGIN("avx2,bmi,bmi2,popcnt")
namespace mintlane::deflate::fixed {

#include "deflate/fixed_literals_avx2.inc"

namespace {

constexpr std::size_t kBlock = 16;

// PSHUFB indices: loading 16 at kShiftDown + s gives s, s + 1, ..., 15, then 0x80 (zero) lanes.
alignas(32) constexpr std::uint8_t kShiftDown[32] = {0,    1,    2,    3,    4,    5,    6,    7,    8,    9,    10,
                                                      11,   12,   13,   14,   15,   0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                                      0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};

// The matcher's constants next to the literal coder's (fixed_literals_avx2.inc).
struct Constants : LiteralConstants {
  Constants() noexcept
      : windows(_mm256_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6,  //
                                 4, 5, 6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10)),
        mul(_mm256_set1_epi32(static_cast<int>(2654435761u))) {}

  // Both 128-bit lanes hold in[i .. i + 15]; the shuffle gathers the 4-byte windows at i .. i + 7.
  __m256i windows;
  __m256i mul;
};

// Every helper that takes the BitWriter is force-inlined: if its address escaped into a call, each
// output store could alias it and the bit buffer would round-trip through memory on every flush.

// Four (or, with lanes masked off, fewer) literal codes in one bit-buffer step: <= 36 bits.
template <bool kChecked = true>
[[gnu::always_inline]] inline void put4(BitWriter& w, std::uint64_t code, std::uint64_t mask) noexcept {
  w.put(_pext_u64(code, mask), static_cast<std::uint32_t>(_mm_popcnt_u64(mask)));
  if constexpr (kChecked) {
    w.flush();
  } else {
    w.flush_fast();
  }
}

// The 16 literals at p (all inside the input): at most 144 bits, so 26 bytes of room make every
// store safe and the per-store room checks are skipped. Eight 8-bit codes are one 64-bit store;
// halves with a 9-bit code go four codes per PEXT.
template <bool kChecked>
[[gnu::always_inline]] inline void put16_as(BitWriter& w, const LiteralBytes& c, unsigned nine,
                                            const Constants& k) noexcept {
  if ((nine & 0xff) == 0) {
    w.put64(static_cast<std::uint64_t>(_mm_cvtsi128_si64(c.lo)));
  } else {
    Codes16 wide;
    widen(c, k, wide);
    put4<kChecked>(w, wide.code[0], wide.mask[0]);
    put4<kChecked>(w, wide.code[1], wide.mask[1]);
  }
  if ((nine >> 8) == 0) {
    w.put64(static_cast<std::uint64_t>(_mm_extract_epi64(c.lo, 1)));
  } else {
    Codes16 wide;
    widen(c, k, wide);
    put4<kChecked>(w, wide.code[2], wide.mask[2]);
    put4<kChecked>(w, wide.code[3], wide.mask[3]);
  }
}

[[gnu::always_inline]] inline void put16(BitWriter& w, const std::uint8_t* p, const Constants& k) noexcept {
  const LiteralBytes c = literal_bytes(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), k);
  const unsigned nine = static_cast<unsigned>(_mm_movemask_epi8(c.nine));
  if (w.room(26)) [[likely]] {
    put16_as<false>(w, c, nine, k);
  } else {  // near the end of the caller's buffer: checked stores, no 64-bit runs
    Codes16 wide;
    widen(c, k, wide);
    for (int g = 0; g < 4; ++g) put4(w, wide.code[g], wide.mask[g]);
  }
}

// Literals at block offsets [a, e) (0 <= a < e <= 16) from the block's codes: the groups of four
// they touch, the lanes outside [a, e) masked off in the first and last one (BZHI keeps the low
// 16 * x bits, all 64 for x = 4).
[[gnu::always_inline]] inline void put_segment(BitWriter& w, const Codes16& c, unsigned a, unsigned e) noexcept {
  unsigned g = a / 4;
  const unsigned last = (e - 1) / 4;
  std::uint64_t mask = c.mask[g] & ~_bzhi_u64(~std::uint64_t{0}, 16 * (a % 4));
  for (; g < last; mask = c.mask[++g]) put4(w, c.code[g], mask);
  put4(w, c.code[g], mask & _bzhi_u64(~std::uint64_t{0}, 16 * (e - 4 * last)));
}

// Match queue between the probing half and the coding half. Capacity: after a block is coded only
// matches starting in the block just probed wait (at most 4; each covers 4+ positions), the next
// block adds at most 5, and the tail (< 21 probe positions) at most 6: never more than 11.
constexpr std::size_t kQueue = 32;
struct Pending {
  Found f;
  std::uint32_t dist;
};

// Out of line: matches are rare, and the probe loop stays small enough to keep its state in
// registers. Takes and returns values only, so no local's address escapes.
[[gnu::noinline]] Found find_extent(const std::uint8_t* in, std::size_t n, std::size_t i, std::uint32_t dist,
                                    std::size_t lit) noexcept {
  return extend_match(in, n, i, dist, lit);
}

// kSmall: n <= kWindow, so every earlier position is within reach and the window test is just
// "before i" (tokens always; the general case pays one more compare per probe).
template <bool kSmall>
void encode(const std::uint8_t* in, std::size_t n, const MatchContext& mc, BitWriter& out) noexcept {
  // A local copy whose address never escapes stays in registers; through the reference, every
  // byte store of the output could alias it and would force a reload after each flush.
  BitWriter w = out;
  const Constants k;

  // All state is in locals whose addresses never escape: as struct members, every hash-table
  // store could alias them and force reloads.
  std::size_t lit = 0;    // probing: first position not covered by a match found so far
  std::size_t coded = 0;  // coding: first position not yet written (as a literal or inside a match)
  Pending queue[kQueue];
  std::size_t head = 0, tail = 0;  // queue[head .. tail) waits to be coded

  // Codes the block [blk, end) (end <= blk + 16, end <= n): the literals not covered by matches
  // and the queued matches that start in it. The block's codes are computed once; the common
  // all-literal block takes the put16 path.
  const auto emit_block = [&](std::size_t blk, std::size_t end) __attribute__((always_inline)) {
    if (coded >= end) return;  // inside a match written earlier
    const bool match_here = head != tail && queue[head % kQueue].f.start < end;
    if (!match_here && coded == blk && end - blk == kBlock) {
      put16(w, in + blk, k);
      coded = end;
      return;
    }
    __m128i bytes;
    if (n - blk >= kBlock) {
      bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + blk));
    } else if (n >= kBlock) {
      // The last len bytes: a load ending at the end of the input, shifted down by 16 - len
      // (lanes past len become zero; they are never coded).
      const std::size_t len = n - blk;
      bytes = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + n - kBlock)),
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(kShiftDown + kBlock - len)));
    } else {  // an input shorter than one load: a zero-padded copy
      alignas(16) std::uint8_t last[kBlock] = {};
      std::memcpy(last, in + blk, n - blk);
      bytes = _mm_load_si128(reinterpret_cast<const __m128i*>(last));
    }
    Codes16 c;
    widen(literal_bytes(bytes, k), k, c);
    while (head != tail && queue[head % kQueue].f.start < end) {
      const Pending& m = queue[head++ % kQueue];
      if (coded < m.f.start) put_segment(w, c, static_cast<unsigned>(coded - blk), static_cast<unsigned>(m.f.start - blk));
      put_match(w, m.f.len, m.dist);
      coded = m.f.start + m.f.len;
    }
    if (coded < end) {
      put_segment(w, c, static_cast<unsigned>(coded - blk), static_cast<unsigned>(end - blk));
      coded = end;
    }
  };

  std::size_t b = 0;  // start of the next block to probe
  if (mc.slot != nullptr && n > kMinMatch) {
    std::uint32_t* const slot = mc.slot;
    const std::uint32_t base = mc.base;
    // Positions i (even) and i + 1 with their hashes: probe i unless a match covers it, then
    // insert both (in this order, as encode_scalar does). The three tests are written as one
    // condition on 0/1 values (an invalid candidate is replaced by i itself, so the comparison
    // always reads inside the input); it is almost always false.
    const auto pair = [&](std::size_t i, std::uint32_t h0, std::uint32_t h1, bool insert_odd)
                          __attribute__((always_inline)) {
      const std::uint32_t here = base + static_cast<std::uint32_t>(i);
      const std::uint32_t d = here - slot[h0];  // stale entries give d > i
      slot[h0] = here;
      if (insert_odd) slot[h1] = here + 1;
      const std::uint32_t limit = kSmall || i < kWindow ? static_cast<std::uint32_t>(i) : kWindow;
      const std::uint32_t valid = static_cast<std::uint32_t>(d - 1 < limit);
      const std::size_t cand = valid != 0 ? i - d : i;
      const std::uint32_t same = static_cast<std::uint32_t>(load32(in + cand) == load32(in + i));
      const std::uint32_t open = static_cast<std::uint32_t>(i >= lit);
      if ((valid & same & open) != 0) [[unlikely]] {
        const Found f = find_extent(in, n, i, d, lit);
        Pending& q = queue[tail++ % kQueue];
        q.f.start = f.start;  // field by field: one 16-byte copy would be read back as two stores
        q.f.len = f.len;
        q.dist = d;
        lit = f.start + f.len;
      }
    };

    const __m128i shift = _mm_cvtsi32_si128(static_cast<int>(mc.shift));
    // A block hashes in[b .. b + 18] through two 16-byte loads ending at b + 24.
    for (; n - b >= kBlock + 8; b += kBlock) {
      const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + b));
      const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + b + 8));
      const __m256i h0 = _mm256_srl_epi32(
          _mm256_mullo_epi32(_mm256_shuffle_epi8(_mm256_broadcastsi128_si256(lo), k.windows), k.mul), shift);
      const __m256i h1 = _mm256_srl_epi32(
          _mm256_mullo_epi32(_mm256_shuffle_epi8(_mm256_broadcastsi128_si256(hi), k.windows), k.mul), shift);
      alignas(32) std::uint32_t h[kBlock];
      _mm256_store_si256(reinterpret_cast<__m256i*>(h), h0);
      _mm256_store_si256(reinterpret_cast<__m256i*>(h + 8), h1);
#pragma GCC unroll 8
      for (std::size_t j = 0; j < kBlock; j += 2) pair(b + j, h[j], h[j + 1], true);
      // The previous block is final: a later match starts at b + 15 at the earliest.
      if (b != 0) emit_block(b - kBlock, b);
    }
    // Tail: the last probe positions with scalar hashes (a probe reads 4 bytes).
    const std::size_t probe_end = n - (kMinMatch - 1);
    for (std::size_t i = b; i < probe_end; i += 2) {
      const bool odd = i + 1 < probe_end;
      const std::uint32_t h1 = odd ? hash4(load32(in + i + 1), mc.shift) : 0;
      pair(i, hash4(load32(in + i), mc.shift), h1, odd);
    }
    if (b != 0) b -= kBlock;  // the last probed block is not coded yet
  }
  for (; b < n; b += kBlock) emit_block(b, n - b < kBlock ? n : b + kBlock);
  out = w;
}

}  // namespace

void encode_avx2(const std::uint8_t* in, std::size_t n, const MatchContext& mc, BitWriter& out) noexcept {
  if (n <= kWindow) {
    encode<true>(in, n, mc, out);
  } else {
    encode<false>(in, n, mc, out);
  }
}

}  // namespace mintlane::deflate::fixed
MINTLANE_TARGET_END
