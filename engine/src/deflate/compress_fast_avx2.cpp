// compress_fast_avx2.cpp - AVX2 + BMI2 kernel of the fixed-Huffman encoder (RFC 1951 §3.2.6): vector hashing and literal codes, PEXT packing.
// Same decisions as encode_scalar (compress_fast.cpp), split into phases over chunks of the input:
//   1. AVX2 computes the 4-byte hashes and the literal codes (16-bit lanes) of the chunk;
//   2. a tight scalar loop probes and updates the hash table and records matches;
//   3. literal runs are packed four codes at a time with one PEXT (each code is 8 or 9 bits, so
//      PEXT with per-lane masks 0x00ff / 0x01ff squeezes four 16-bit lanes into 32-36 bits).
// Phase 2 then no longer waits on the bit buffer, and phase 3 does one bit-buffer step per four
// literals instead of one per literal.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "cpu/target.hpp"
#include "deflate/compress_fast_kernels.hpp"

MINTLANE_TARGET_BEGIN("avx2,bmi,bmi2,popcnt")
namespace mintlane::deflate::fixed {
namespace {

constexpr std::size_t kChunk = 1024;  // positions per phase; the arrays below live on the stack

struct Match {
  std::uint32_t start, len, dist;
};

// Per chunk: hash of the 4 bytes at each probed position, the literal code of each byte and its
// width as a mask (0x00ff: 8 bits, 0x01ff: 9 bits). Four extra zero entries let the last group of a
// literal run be read as a whole 64-bit word and masked.
struct ChunkState {
  alignas(32) std::uint32_t hash[kChunk];
  alignas(32) std::uint16_t code[kChunk + 4];
  alignas(32) std::uint16_t mask[kChunk + 4];
  Match matches[kChunk / kMinMatch + 1];  // a match covers at least kMinMatch positions
};

// Bit reversal of each byte through two 16-entry nibble tables.
inline __m256i reverse_bytes(__m256i x, __m256i rev_to_high, __m256i rev_to_low, __m256i low_nibbles) noexcept {
  const __m256i lo = _mm256_and_si256(x, low_nibbles);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low_nibbles);
  return _mm256_or_si256(_mm256_shuffle_epi8(rev_to_high, lo), _mm256_shuffle_epi8(rev_to_low, hi));
}

// code/mask for in[0..n), n <= kChunk, plus four zero entries after them.
void literal_codes(const std::uint8_t* in, std::size_t n, std::uint16_t* code, std::uint16_t* mask) noexcept {
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
  // rev_to_low[i] = reverse of the 4-bit i; rev_to_high[i] = the same, in the high nibble.
  const __m256i rev_to_low = _mm256_setr_epi8(0x0, 0x8, 0x4, 0xc, 0x2, 0xa, 0x6, 0xe, 0x1, 0x9, 0x5, 0xd, 0x3, 0xb,
                                              0x7, 0xf, 0x0, 0x8, 0x4, 0xc, 0x2, 0xa, 0x6, 0xe, 0x1, 0x9, 0x5, 0xd,
                                              0x3, 0xb, 0x7, 0xf);
  const __m256i rev_to_high = _mm256_slli_epi16(rev_to_low, 4);  // no carries: values < 16
  const __m256i k144 = _mm256_set1_epi8(static_cast<char>(144));
  const __m256i k30 = _mm256_set1_epi8(0x30);
  const __m256i one = _mm256_set1_epi8(1);
  const __m256i ff = _mm256_set1_epi8(static_cast<char>(0xff));
  std::size_t k = 0;
  for (; k + 32 <= n; k += 32) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + k));
    const __m256i nine = _mm256_cmpeq_epi8(_mm256_max_epu8(b, k144), b);  // b >= 144: 9-bit code
    // b < 144: the 8-bit code 0x30 + b, reversed.
    const __m256i code8 = reverse_bytes(_mm256_add_epi8(b, k30), rev_to_high, rev_to_low, low_nibbles);
    // b >= 144: the 9-bit code 0x190 + (b - 144) = 0x100 | b, whose 9-bit reversal is
    // 1 | reverse8(b) << 1: low byte (r << 1) | 1, high byte r >> 7.
    const __m256i r = reverse_bytes(b, rev_to_high, rev_to_low, low_nibbles);
    const __m256i lo9 = _mm256_or_si256(_mm256_add_epi8(r, r), one);
    const __m256i hi9 = _mm256_and_si256(_mm256_srli_epi16(r, 7), one);  // bit 7 of each byte
    const __m256i lo = _mm256_blendv_epi8(code8, lo9, nine);
    const __m256i hi = _mm256_and_si256(hi9, nine);
    const __m256i mhi = _mm256_and_si256(nine, one);
    // unpack interleaves within 128-bit lanes; swapping the middle quarters first makes
    // unpacklo yield elements 0..15 and unpackhi 16..31.
    const __m256i lo_q = _mm256_permute4x64_epi64(lo, 0xd8);
    const __m256i hi_q = _mm256_permute4x64_epi64(hi, 0xd8);
    const __m256i mhi_q = _mm256_permute4x64_epi64(mhi, 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(code + k), _mm256_unpacklo_epi8(lo_q, hi_q));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(code + k + 16), _mm256_unpackhi_epi8(lo_q, hi_q));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(mask + k), _mm256_unpacklo_epi8(ff, mhi_q));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(mask + k + 16), _mm256_unpackhi_epi8(ff, mhi_q));
  }
  for (; k < n; ++k) {
    const Code c = kLiterals.code[in[k]];
    code[k] = static_cast<std::uint16_t>(c.bits);
    mask[k] = static_cast<std::uint16_t>((1u << c.len) - 1);
  }
  for (std::size_t e = 0; e < 4; ++e) code[n + e] = mask[n + e] = 0;
}

// hash[k] = hash4 of the 4 bytes at in[k], k < count; reads in[0 .. count + 2], all < avail.
void hashes(const std::uint8_t* in, std::size_t count, std::size_t avail, unsigned shift,
            std::uint32_t* hash) noexcept {
  // Both 128-bit lanes hold in[k .. k + 15]; the shuffle gathers the 4-byte windows at k .. k + 7.
  const __m256i windows = _mm256_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6,  //
                                           4, 5, 6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10);
  const __m256i mul = _mm256_set1_epi32(static_cast<int>(2654435761u));
  const __m128i sh = _mm_cvtsi32_si128(static_cast<int>(shift));
  std::size_t k = 0;
  for (; k + 8 <= count && k + 16 <= avail; k += 8) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + k)));
    const __m256i h = _mm256_srl_epi32(_mm256_mullo_epi32(_mm256_shuffle_epi8(v, windows), mul), sh);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hash + k), h);
  }
  for (; k < count; ++k) hash[k] = hash4(load32(in + k), shift);
}

// Packs `count` literal codes, four per bit-buffer step.
inline void put_literals(const std::uint16_t* code, const std::uint16_t* mask, std::size_t count,
                         BitWriter& w) noexcept {
  for (; count >= 4; count -= 4, code += 4, mask += 4) {
    const std::uint64_t m = load64(mask);
    w.put(_pext_u64(load64(code), m), static_cast<std::uint32_t>(_mm_popcnt_u64(m)));
    w.flush();
  }
  if (count != 0) {  // 1-3 codes: the same, with the lanes past the run masked off
    const std::uint64_t m = load64(mask) & ((std::uint64_t{1} << (16 * count)) - 1);
    w.put(_pext_u64(load64(code), m), static_cast<std::uint32_t>(_mm_popcnt_u64(m)));
    w.flush();
  }
}

}  // namespace

void encode_avx2(const std::uint8_t* in, std::size_t n, const MatchContext& mc, BitWriter& out) noexcept {
  // A local copy whose address never escapes stays in registers; through the reference, every
  // byte store of the output could alias it and would force a reload after each flush.
  BitWriter w = out;
  ChunkState s;  // ~14 KiB of stack; a token touches the first ~1.5 KiB of it
  const bool matching = mc.slot != nullptr && n > kMinMatch;
  const std::size_t probe_end = matching ? n - (kMinMatch - 1) : 0;
  std::uint32_t* const slot = mc.slot;
  const std::uint32_t base = mc.base;
  std::size_t cs = 0;  // chunk start; a match may carry it past the previous chunk's end
  while (cs < n) {
    const std::size_t ce = n - cs < kChunk ? n : cs + kChunk;
    literal_codes(in + cs, ce - cs, s.code, s.mask);
    std::size_t nm = 0;
    const std::size_t pend = ce < probe_end ? ce : probe_end;  // probed positions: [cs, pend)
    if (cs < pend) {
      hashes(in + cs, pend - cs, n - cs, mc.shift, s.hash);
      // Every position is inserted, including those inside a match (later repeats often start
      // inside an earlier one); a match is only taken at or after the end of the previous one.
      // The tests are combined without branches so the loop only branches on real matches: a
      // candidate is valid when 1 <= i - cand <= min(i, window); an invalid one is replaced by i
      // itself so that the 4-byte comparison always reads inside the input.
      std::size_t match_end = cs;
      for (std::size_t i = cs; i < pend; ++i) {
        const std::uint32_t h = s.hash[i - cs];
        const std::uint32_t here = base + static_cast<std::uint32_t>(i);
        const std::uint32_t dist = here - slot[h];  // stale entries give dist > i
        slot[h] = here;
        const std::uint32_t limit = i < kWindow ? static_cast<std::uint32_t>(i) : kWindow;
        const bool valid = dist - 1 < limit;
        const std::size_t cand = valid ? i - dist : i;
        const std::uint32_t cur = load32(in + i);
        if (valid & (load32(in + cand) == cur) & (i >= match_end)) [[unlikely]] {
          const std::size_t max = n - i < kMaxMatch ? n - i : kMaxMatch;
          const std::size_t len =
              kMinMatch + match_length(in + cand + kMinMatch, in + i + kMinMatch, max - kMinMatch);
          s.matches[nm++] = {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(len), dist};
          match_end = i + len;
        }
      }
      // A match that runs past pend: insert the rest of its probed positions as encode_scalar does.
      const std::size_t stop = match_end < probe_end ? match_end : probe_end;
      for (std::size_t j = pend; j < stop; ++j)
        slot[hash4(load32(in + j), mc.shift)] = base + static_cast<std::uint32_t>(j);
    }
    std::size_t pos = cs;
    for (std::size_t k = 0; k < nm; ++k) {
      const Match& m = s.matches[k];
      put_literals(s.code + (pos - cs), s.mask + (pos - cs), m.start - pos, w);
      const Code lc = kLengths.code[m.len];
      const Code dc = distance_code(m.dist);
      w.put(lc.bits, lc.len);  // <= 13 bits
      w.put(dc.bits, dc.len);  // <= 18 bits
      w.flush();
      pos = m.start + m.len;
    }
    if (pos < ce) {
      put_literals(s.code + (pos - cs), s.mask + (pos - cs), ce - pos, w);
      pos = ce;
    }
    cs = pos;
  }
  out = w;
}

}  // namespace mintlane::deflate::fixed
MINTLANE_TARGET_END
