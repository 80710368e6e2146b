// adler32_avx2.cpp - AVX2 Adler-32 (RFC 1950 §9), 32-byte blocks with vpsadbw/vpmaddubsw (libdeflate adler32_impl.h).
#include <immintrin.h>


#include "cpu/target.hpp"
#include "deflate/adler32_kernels.hpp"

MINTLANE_TARGET_BEGIN("avx2")
namespace mintlane::deflate {
namespace {

// Blocks between two reductions. Per 32-bit lane, the sum of earlier block sums reaches at most
// 8 * 255 * k^2 / 2 (1.07e9 for k = 1024) and the weighted sums 4 * 255 * 32 * k: both fit.
constexpr std::size_t kChunkBlocks = 1024;

// Loading 32 bytes at kTailMask + k gives 32 - k zero bytes then k 0xff bytes: the mask that keeps
// only the last k bytes of a 32-byte load ending at the end of the input.
alignas(64) constexpr std::uint8_t kTailMask[64] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

std::uint64_t hsum_epi32(__m256i v) noexcept {
  alignas(32) std::uint32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), v);
  std::uint64_t s = 0;
  for (std::uint32_t x : lanes) s += x;
  return s;
}

}  // namespace

std::uint32_t adler32_avx2(std::uint32_t adler, const std::uint8_t* p, std::size_t n) noexcept {
  if (n < 32) return adler32_scalar(adler, p, n);
  std::uint64_t s1 = adler & 0xffff, s2 = adler >> 16;
  // Byte j of a block is followed by 32 - j - 1 more bytes of the block, so it enters s2 with
  // weight 32 - j (the s1 it joins is added 32 - j times).
  const __m256i weights = _mm256_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                           16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  const __m256i zero = _mm256_setzero_si256();
  std::size_t blocks_left = n / 32;
  while (blocks_left > 0) {
    const std::size_t blocks = blocks_left < kChunkBlocks ? blocks_left : kChunkBlocks;
    blocks_left -= blocks;
    __m256i v_s1 = zero;       // byte sums of this chunk (vpsadbw: 4 x 64-bit lanes, high halves 0)
    __m256i v_s1_prev = zero;  // sum over blocks of the byte sums of all earlier blocks
    __m256i v_s2 = zero;       // weighted byte sums
    s2 += 32 * blocks * s1;
    for (std::size_t b = 0; b < blocks; ++b, p += 32) {
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      v_s1_prev = _mm256_add_epi32(v_s1_prev, v_s1);
      v_s1 = _mm256_add_epi32(v_s1, _mm256_sad_epu8(bytes, zero));
      v_s2 = _mm256_add_epi32(v_s2, _mm256_madd_epi16(_mm256_maddubs_epi16(bytes, weights), ones16));
    }
    s2 += 32 * hsum_epi32(v_s1_prev) + hsum_epi32(v_s2);
    s1 += hsum_epi32(v_s1);
    s1 %= kAdlerMod;
    s2 %= kAdlerMod;
  }
  const std::size_t k = n % 32;
  if (k != 0) {
    // The last k bytes, right-aligned in one 32-byte load that ends at the end of the input (we
    // consumed at least 32 bytes, so it starts inside the buffer); the other lanes are masked to 0.
    // Right-aligned, byte i of the tail sits in lane 32 - k + i and gets weight k - i: exactly its
    // weight in a k-byte block, whose s1 contribution to s2 is k * s1.
    __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + k - 32));
    bytes = _mm256_and_si256(bytes, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + k)));
    s2 += k * s1 + hsum_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(bytes, weights), ones16));
    s1 += hsum_epi32(_mm256_sad_epu8(bytes, zero));
    s1 %= kAdlerMod;
    s2 %= kAdlerMod;
  }
  return static_cast<std::uint32_t>((s2 << 16) | s1);
}

}  // namespace mintlane::deflate
MINTLANE_TARGET_END
