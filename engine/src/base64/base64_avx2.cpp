// base64_avx2.cpp - AVX2 base64 encode/decode (W. Mula, D. Lemire, "Faster Base64 Encoding and
// Decoding using AVX2 Instructions", ACM TWEB 12(3), 2018, arXiv:1704.00605; RFC 4648 §4).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "base64/base64.hpp"
#include "cpu/target.hpp"

MINTLANE_TARGET_BEGIN("avx2")
namespace mintlane::base64 {
namespace {

// ---- encode ---------------------------------------------------------------------------------
// Each 32-bit lane receives the bytes [b1 b0 b2 b1] of one 3-byte group, so that each 16-bit
// half holds two whole sextets the multiplies below can move into place (paper §3.1).
// Lane-local layout: group k of a 128-bit lane starts at byte `base + 3k`.
#define MINTLANE_ENC_SHUFFLE(base)                                                              \
  (base) + 1, (base) + 0, (base) + 2, (base) + 1, (base) + 4, (base) + 3, (base) + 5, (base) + 4, \
      (base) + 7, (base) + 6, (base) + 8, (base) + 7, (base) + 10, (base) + 9, (base) + 11,       \
      (base) + 10

// Splits each [b1 b0 b2 b1] lane into four sextets, one per byte, in output order.
inline __m256i split_sextets(__m256i in) noexcept {
  const __m256i ac = _mm256_mulhi_epu16(_mm256_and_si256(in, _mm256_set1_epi32(0x0fc0fc00)),
                                        _mm256_set1_epi32(0x04000040));  // a >> 10, c >> 6
  const __m256i bd = _mm256_mullo_epi16(_mm256_and_si256(in, _mm256_set1_epi32(0x003f03f0)),
                                        _mm256_set1_epi32(0x01000010));  // b << 4, d << 8
  return _mm256_or_si256(ac, bd);
}

// Sextets to ASCII with one 16-entry table of offsets (paper §3.2): 0..25 -> 'A', 26..51 -> 'a',
// 52..61 -> '0', 62 -> '+', 63 -> '/'. subs_epu8 maps 0..51 to 0, 52..63 to 1..12; the compare
// then bumps 26..63 by one so each range gets its own table slot.
inline __m256i sextets_to_ascii(__m256i v) noexcept {
  const __m256i offsets = _mm256_setr_epi8(65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0,
                                           65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0);
  __m256i idx = _mm256_subs_epu8(v, _mm256_set1_epi8(51));
  idx = _mm256_sub_epi8(idx, _mm256_cmpgt_epi8(v, _mm256_set1_epi8(25)));
  return _mm256_add_epi8(v, _mm256_shuffle_epi8(offsets, idx));
}

inline __m128i split_sextets(__m128i in) noexcept {
  const __m128i ac = _mm_mulhi_epu16(_mm_and_si128(in, _mm_set1_epi32(0x0fc0fc00)), _mm_set1_epi32(0x04000040));
  const __m128i bd = _mm_mullo_epi16(_mm_and_si128(in, _mm_set1_epi32(0x003f03f0)), _mm_set1_epi32(0x01000010));
  return _mm_or_si128(ac, bd);
}

inline __m128i sextets_to_ascii(__m128i v) noexcept {
  const __m128i offsets = _mm_setr_epi8(65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0);
  __m128i idx = _mm_subs_epu8(v, _mm_set1_epi8(51));
  idx = _mm_sub_epi8(idx, _mm_cmpgt_epi8(v, _mm_set1_epi8(25)));
  return _mm_add_epi8(v, _mm_shuffle_epi8(offsets, idx));
}

// ---- decode ---------------------------------------------------------------------------------
// Validation by nibbles (paper §4.2): a byte is in the alphabet iff the class bits of its low
// nibble and of its high nibble do not intersect. The tables hold the same 16 entries per lane.
#define MINTLANE_DEC_LUT_LO \
  0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a
#define MINTLANE_DEC_LUT_HI \
  0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10
// ASCII -> sextet offset by high nibble; slot 1 (high nibble 2 minus one) serves '/' only.
#define MINTLANE_DEC_ROLL 0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0
// After the multiply-adds each 32-bit lane holds a 24-bit group, little-endian: take bytes
// 2, 1, 0 of each lane to get the output order.
#define MINTLANE_DEC_PACK 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1

// Translates 32 characters to sextets; `bad` becomes true when any is outside the alphabet.
inline __m256i ascii_to_sextets(__m256i in, bool& bad) noexcept {
  const __m256i lut_lo = _mm256_setr_epi8(MINTLANE_DEC_LUT_LO, MINTLANE_DEC_LUT_LO);
  const __m256i lut_hi = _mm256_setr_epi8(MINTLANE_DEC_LUT_HI, MINTLANE_DEC_LUT_HI);
  const __m256i lut_roll = _mm256_setr_epi8(MINTLANE_DEC_ROLL, MINTLANE_DEC_ROLL);
  const __m256i nib = _mm256_set1_epi8(0x0f);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(in, 4), nib);
  const __m256i lo = _mm256_and_si256(in, nib);
  bad = _mm256_testz_si256(_mm256_shuffle_epi8(lut_lo, lo), _mm256_shuffle_epi8(lut_hi, hi)) == 0;
  const __m256i roll = _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(_mm256_cmpeq_epi8(in, _mm256_set1_epi8('/')), hi));
  return _mm256_add_epi8(in, roll);
}

// 32 sextets -> 24 bytes in the low 24 bytes of the result (paper §4.3).
inline __m256i pack_sextets(__m256i v) noexcept {
  const __m256i ab_cd = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));        // a<<6|b, c<<6|d
  const __m256i abcd = _mm256_madd_epi16(ab_cd, _mm256_set1_epi32(0x00011000));        // 24-bit groups
  const __m256i lanes = _mm256_shuffle_epi8(abcd, _mm256_setr_epi8(MINTLANE_DEC_PACK, MINTLANE_DEC_PACK));
  return _mm256_permutevar8x32_epi32(lanes, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7));
}

inline __m128i ascii_to_sextets(__m128i in, bool& bad) noexcept {
  const __m128i nib = _mm_set1_epi8(0x0f);
  const __m128i hi = _mm_and_si128(_mm_srli_epi32(in, 4), nib);
  const __m128i lo = _mm_and_si128(in, nib);
  bad = _mm_testz_si128(_mm_shuffle_epi8(_mm_setr_epi8(MINTLANE_DEC_LUT_LO), lo),
                        _mm_shuffle_epi8(_mm_setr_epi8(MINTLANE_DEC_LUT_HI), hi)) == 0;
  const __m128i roll =
      _mm_shuffle_epi8(_mm_setr_epi8(MINTLANE_DEC_ROLL), _mm_add_epi8(_mm_cmpeq_epi8(in, _mm_set1_epi8('/')), hi));
  return _mm_add_epi8(in, roll);
}

inline __m128i pack_sextets(__m128i v) noexcept {
  const __m128i ab_cd = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));
  const __m128i abcd = _mm_madd_epi16(ab_cd, _mm_set1_epi32(0x00011000));
  return _mm_shuffle_epi8(abcd, _mm_setr_epi8(MINTLANE_DEC_PACK));
}

// The scalar decoder finishes the input from `i` (the tail, or a block the vector check
// rejected, where it finds the exact first fault); its result is rebased onto the whole call.
inline Result finish_scalar(const char* in, std::size_t n, std::uint8_t* out, std::size_t i,
                            std::size_t o) noexcept {
  Result r = decode_scalar(in + i, n - i, out + o);
  r.count += r.ok() ? o : i;
  return r;
}

}  // namespace

std::size_t encode_avx2(const std::uint8_t* in, std::size_t n, char* out) noexcept {
  std::size_t i = 0, o = 0;
  if (n >= 28) {
    // First block: two 16-byte loads (bytes 0..15 and 12..27), 12 used per lane, so nothing
    // before `in` is read.
    const __m256i raw = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 12)), 1);
    const __m256i groups = _mm256_shuffle_epi8(raw, _mm256_setr_epi8(MINTLANE_ENC_SHUFFLE(0), MINTLANE_ENC_SHUFFLE(0)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), sextets_to_ascii(split_sextets(groups)));
    i = 24;
    o = 32;
    // Later blocks: one 32-byte load starting 4 bytes back, so the 24 bytes consumed sit at
    // 4..15 of the low lane and 0..11 of the high lane (reads 32 bytes, consumes 24).
    const __m256i shuffle = _mm256_setr_epi8(MINTLANE_ENC_SHUFFLE(4), MINTLANE_ENC_SHUFFLE(0));
    for (; n - i >= 28; i += 24, o += 32) {
      const __m256i raw2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i - 4));
      const __m256i g = _mm256_shuffle_epi8(raw2, shuffle);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + o), sextets_to_ascii(split_sextets(g)));
    }
  }
  // One 128-bit block (reads 16 bytes, consumes 12) shortens the scalar tail to 0..15 bytes.
  if (n - i >= 16) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i g = _mm_shuffle_epi8(raw, _mm_setr_epi8(MINTLANE_ENC_SHUFFLE(0)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o), sextets_to_ascii(split_sextets(g)));
    i += 12;
    o += 16;
  }
  return o + encode_scalar(in + i, n - i, out + o);  // the reference finishes the tail
}

Result decode_avx2(const char* in, std::size_t n, std::uint8_t* out) noexcept {
  if (n % 4 != 0) return {Errc::kBadBase64Length, n};
  std::size_t i = 0, o = 0;
  bool bad = false;
  // With at least 48 characters left, at least 34 output bytes remain, so the full 32-byte
  // store (24 data bytes + 8 the next block overwrites) stays inside the output, and the last
  // quad (the only one that may hold '=') is never in a vector block.
  for (; n - i >= 48; i += 32, o += 24) {
    const __m256i v = ascii_to_sextets(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)), bad);
    if (bad) return finish_scalar(in, n, out, i, o);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + o), pack_sextets(v));
  }
  // 36..44 characters left: one more 32-character block, storing exactly its 24 bytes.
  if (n - i > 32) {
    const __m256i v = ascii_to_sextets(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)), bad);
    if (bad) return finish_scalar(in, n, out, i, o);
    const __m256i packed = pack_sextets(v);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o), _mm256_castsi256_si128(packed));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + o + 16), _mm256_extracti128_si256(packed, 1));
    i += 32;
    o += 24;
  }
  // 20..32 characters left: one 16-character block, storing exactly its 12 bytes.
  if (n - i > 16) {
    const __m128i v = ascii_to_sextets(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)), bad);
    if (bad) return finish_scalar(in, n, out, i, o);
    const __m128i packed = pack_sextets(v);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + o), packed);
    const int last4 = _mm_extract_epi32(packed, 2);
    std::memcpy(out + o + 8, &last4, 4);
    i += 16;
    o += 12;
  }
  return finish_scalar(in, n, out, i, o);  // 4..16 characters, including any padding
}

}  // namespace mintlane::base64
MINTLANE_TARGET_END

#undef MINTLANE_ENC_SHUFFLE
#undef MINTLANE_DEC_LUT_LO
#undef MINTLANE_DEC_LUT_HI
#undef MINTLANE_DEC_ROLL
#undef MINTLANE_DEC_PACK
