// template_plan_avx2.cpp - AVX2 + BMI2 kernel of TemplatePlan: hole bytes coded 16 at a time (vector literal codes, PEXT packing) with a vector Adler-32 step (RFC 1951 §3.2.6, RFC 1950 §8.2).
// Runs the same program as compress_scalar (template_plan_program.inc) and writes the same bytes;
// only the coder of hole bytes differs. Per 16 bytes: the codes come from
// fixed_literals_avx2.inc (shared with compress_fast_avx2.cpp), four PEXTs with per-lane masks
// 0x00ff / 0x01ff pack them four at a time, and PSADBW / PMADDUBSW give the two Adler-32 sums.
// A run shorter than 16 bytes is loaded with two overlapping scalar loads, never past its end.
#include <immintrin.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/target.hpp"
#include "deflate/compress_fast_kernels.hpp"
#include "deflate/template_plan_kernels.hpp"

MINTLANE_TARGET_BEGIN("avx2,bmi,bmi2,popcnt")
namespace mintlane::deflate::plan {

#include "deflate/fixed_literals_avx2.inc"
#include "deflate/template_plan_program.inc"

namespace {

// p[0..m) for 0 < m < 16 in the low lanes, zeros above; reads only p[0..m).
[[gnu::always_inline]] inline __m128i load_partial(const std::uint8_t* p, std::size_t m) noexcept {
  std::uint64_t lo, hi = 0;
  if (m >= 8) {
    lo = fixed::load64(p);
    if (m > 8) hi = fixed::load64(p + m - 8) >> (8 * (16 - m));  // bytes 8..m-1 at the bottom
  } else if (m >= 4) {
    // Two overlapping 4-byte loads; the bytes they share land on the same lanes.
    lo = fixed::load32(p) | static_cast<std::uint64_t>(fixed::load32(p + m - 4)) << (8 * (m - 4));
  } else {
    lo = p[0];
    if (m > 1) lo |= static_cast<std::uint64_t>(p[1]) << 8;
    if (m > 2) lo |= static_cast<std::uint64_t>(p[2]) << 16;
  }
  return _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo));
}

struct Avx2Coder {
  // The first len (1..16) bytes of v; the lanes above len are zero.
  template <bool kChecked>
  [[gnu::always_inline]] static void block(BitWriter& w, Adler& a, __m128i v, std::size_t len,
                                           const LiteralConstants& k) noexcept {
    Codes16 c;
    widen(literal_bytes(v, k), k, c);
    const std::size_t groups = (len + 3) / 4;
    for (std::size_t g = 0; g < groups; ++g) {
      std::uint64_t mask = c.mask[g];
      if (4 * g + 4 > len) mask = _bzhi_u64(mask, static_cast<unsigned>(16 * (len - 4 * g)));  // lanes past len
      w.put(_pext_u64(c.code[g], mask), static_cast<std::uint32_t>(_mm_popcnt_u64(mask)));  // <= 36 bits
      flush<kChecked>(w);
    }
    // Adler-32 of the len bytes: s1 gains their sum S; s2 gains len * s1 + sum (len - j) b[j],
    // which is the 16..1-weighted sum minus (16 - len) * S, since the lanes past len are zero.
    const __m128i sad = _mm_sad_epu8(v, _mm_setzero_si128());
    const std::uint64_t sum = static_cast<std::uint64_t>(_mm_cvtsi128_si64(sad)) +
                              static_cast<std::uint64_t>(_mm_extract_epi64(sad, 1));
    const __m128i weights = _mm_setr_epi8(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    __m128i dot = _mm_madd_epi16(_mm_maddubs_epi16(v, weights), _mm_set1_epi16(1));  // 4 x <= 4 * 7905
    dot = _mm_add_epi32(dot, _mm_shuffle_epi32(dot, 0x4e));
    dot = _mm_add_epi32(dot, _mm_shuffle_epi32(dot, 0xb1));
    const std::uint64_t weighted = static_cast<std::uint32_t>(_mm_cvtsi128_si32(dot)) - (16 - len) * sum;
    a.s2 += len * a.s1 + weighted;
    a.s1 += sum;
  }

  template <bool kChecked>
  [[gnu::always_inline]] static void literals(BitWriter& w, Adler& a, const std::uint8_t* p, std::size_t n) noexcept {
    const LiteralConstants k;
    std::size_t i = 0;
    for (; n - i >= 16; i += 16)
      block<kChecked>(w, a, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), 16, k);
    if (i < n) block<kChecked>(w, a, load_partial(p + i, n - i), n - i, k);
  }
};

}  // namespace

Result compress_avx2(const TemplatePlan& plan, const std::uint8_t* payload, std::size_t n, std::uint8_t* out,
                     std::size_t cap) noexcept {
  return run_program<Avx2Coder>(plan, payload, n, out, cap);
}

}  // namespace mintlane::deflate::plan
MINTLANE_TARGET_END
