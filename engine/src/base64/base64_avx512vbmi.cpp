// base64_avx512vbmi.cpp - AVX-512 VBMI base64 encode/decode (W. Mula, D. Lemire, "Base64
// encoding and decoding at almost the speed of a memory copy", Software: Practice and
// Experience 50(2), 2020, arXiv:1910.05109; RFC 4648 §4).
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "base64/base64.hpp"
#include "cpu/target.hpp"

MINTLANE_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512vbmi")
namespace mintlane::base64 {
namespace {

alignas(64) constexpr char kAlphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// ASCII 0..127 -> sextet, 0x80 for bytes outside the alphabet ('=' included). vpermi2b indexes
// it with the low 7 bits of each character; characters >= 0x80 are caught by their own top bit.
alignas(64) constexpr auto kDecodeLut = [] {
  std::array<std::uint8_t, 128> t{};
  t.fill(0x80);
  for (std::uint8_t v = 0; v < 64; ++v) t[static_cast<unsigned char>(kAlphabet[v])] = v;
  return t;
}();

// After the multiply-adds each 32-bit lane holds a 24-bit group, little-endian: output byte j
// is byte 2 - j % 3 of lane j / 3. Bytes 48..63 are never stored.
alignas(64) constexpr auto kPack = [] {
  std::array<std::uint8_t, 64> t{};
  for (std::size_t j = 0; j < 48; ++j) t[j] = static_cast<std::uint8_t>(4 * (j / 3) + 2 - j % 3);
  return t;
}();

// The k lowest bits set, for 0 <= k <= 64.
inline __mmask64 low_bits(std::size_t k) noexcept { return k >= 64 ? ~__mmask64{0} : (__mmask64{1} << k) - 1; }

// vpermb / vpmultishiftqb / extracts through their zero-masking forms with an all-ones mask: same
// instructions, but GCC 12's unmasked wrappers pass _mm512_undefined_epi32() and trip
// -Wmaybe-uninitialized when inlined (GCC PR 105593).
inline __m512i permute_bytes(__m512i idx, __m512i table) noexcept {
  return _mm512_maskz_permutexvar_epi8(~__mmask64{0}, idx, table);
}
inline __m512i multishift(__m512i shifts, __m512i data) noexcept {
  return _mm512_maskz_multishift_epi64_epi8(~__mmask64{0}, shifts, data);
}
inline __m256i low_half(__m512i v) noexcept { return _mm512_maskz_extracti64x4_epi64(0xff, v, 0); }
template <int Q>
inline __m128i quarter(__m512i v) noexcept {
  return _mm512_maskz_extracti32x4_epi32(0xf, v, Q);
}

// Partial loads and stores without masked memory accesses. On Zen 4/5 a masked load or store
// still reserves its whole 64-byte footprint: a masked load overlapping a recent store (or a load
// overlapping a recent masked store) waits for it even where the mask is off. With masked tails
// that cost ~6 ns whenever a caller's buffers sat back to back (153 B: encode 9.3 vs 4.0 ns,
// decode 11.0 vs 5.4 ns on Zen 5).
// Instead, n bytes (0 < n < 64) move as two overlapping plain accesses of w bytes, the largest
// power of two <= n (at most 32): [0, w) and [n - w, n); one vpermb realigns the second.
inline std::size_t split_width(std::size_t n) noexcept {
  return n >= 32 ? 32 : n >= 16 ? 16 : n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;
}

inline __m512i iota() noexcept {
  return _mm512_set_epi64(0x3f3e3d3c3b3a3938, 0x3736353433323130, 0x2f2e2d2c2b2a2928, 0x2726252423222120,
                          0x1f1e1d1c1b1a1918, 0x1716151413121110, 0x0f0e0d0c0b0a0908, 0x0706050403020100);
}

// Bytes [0, n) of the result are p[0, n), for 0 < n < 64; the bytes above n are unspecified.
inline __m512i load_partial(const void* p, std::size_t n) noexcept {
  const auto* b = static_cast<const std::uint8_t*>(p);
  const std::size_t w = split_width(n);
  __m512i pair;  // p[0, w) in bytes [0, w), p[n - w, n) in bytes [w, 2w)
  if (w == 32) {
    const __m512i lo = _mm512_maskz_inserti64x4(0xff, _mm512_setzero_si512(),
                                                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)), 0);
    pair = _mm512_maskz_inserti64x4(0xff, lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + n - 32)), 1);
  } else if (w == 16) {
    pair = _mm512_inserti32x4(_mm512_zextsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b))),
                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + n - 16)), 1);
  } else if (w == 8) {
    pair = _mm512_zextsi128_si512(_mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b)),
                                                     _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + n - 8))));
  } else if (w == 4) {
    std::uint32_t lo, hi;
    std::memcpy(&lo, b, 4);
    std::memcpy(&hi, b + n - 4, 4);
    pair = _mm512_zextsi128_si512(_mm_cvtsi64_si128(static_cast<long long>((std::uint64_t{hi} << 32) | lo)));
  } else {  // 1..3 bytes: p[0], p[n / 2], p[n - 1] are p[0, n) in order, no realignment needed
    const std::uint32_t v = b[0] | (std::uint32_t{b[n / 2]} << 8) | (std::uint32_t{b[n - 1]} << 16);
    return _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(v)));
  }
  // Byte t >= w comes from pair byte t + 2w - n.
  const __m512i idx = _mm512_mask_add_epi8(iota(), _mm512_cmpge_epu8_mask(iota(), _mm512_set1_epi8(static_cast<char>(w))),
                                           iota(), _mm512_set1_epi8(static_cast<char>(2 * w - n)));
  return permute_bytes(idx, pair);
}

// Stores bytes [0, n) of v to p[0, n), for 0 < n < 64.
inline void store_partial(void* p, std::size_t n, __m512i v) noexcept {
  auto* b = static_cast<std::uint8_t*>(p);
  const std::size_t w = split_width(n);
  const __m512i tail = permute_bytes(_mm512_add_epi8(iota(), _mm512_set1_epi8(static_cast<char>(n - w))), v);
  if (w == 32) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b), low_half(v));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b + n - 32), low_half(tail));
  } else if (w == 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b), quarter<0>(v));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b + n - 16), quarter<0>(tail));
  } else if (w == 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(b), quarter<0>(v));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(b + n - 8), quarter<0>(tail));
  } else {
    const std::uint32_t head = static_cast<std::uint32_t>(_mm_cvtsi128_si32(quarter<0>(v)));
    const std::uint32_t last = static_cast<std::uint32_t>(_mm_cvtsi128_si32(quarter<0>(tail)));
    std::memcpy(b, &head, w);  // w <= 4: the low w bytes, x86 being little-endian
    std::memcpy(b + n - w, &last, w);
  }
}

// Each 32-bit lane receives the bytes [b1 b0 b2 b1] of one 3-byte group (vpermb index below),
// so vpmultishiftqb can pull each sextet, plus two stray high bits that the final vpermb
// ignores, into its own byte (paper §3); the final vpermb maps sextets to ASCII.
inline __m512i spread_index() noexcept {
  return _mm512_setr_epi32(0x01020001, 0x04050304, 0x07080607, 0x0a0b090a, 0x0d0e0c0d, 0x10110f10, 0x13141213,
                           0x16171516, 0x191a1819, 0x1c1d1b1c, 0x1f201e1f, 0x22232122, 0x25262425, 0x28292728,
                           0x2b2c2a2b, 0x2e2f2d2e);
}

inline __m512i groups_to_ascii(__m512i groups, __m512i alphabet) noexcept {
  return permute_bytes(multishift(_mm512_set1_epi64(0x3036242a1016040a), groups), alphabet);
}

// 48 bytes (the low 48 of `raw`) -> 64 characters.
inline __m512i encode_block(__m512i raw, __m512i alphabet) noexcept {
  return groups_to_ascii(permute_bytes(spread_index(), raw), alphabet);
}

// Bytes [start, start + count) of `window` (count <= 48, start + count <= 64) -> the first
// 4 * ceil(count / 3) characters of the result, '=' padded. Bytes past `count` are zeroed, which
// is the zero fill RFC 4648 asks for in the last sextet; vpermb takes the shift for free.
inline __m512i encode_window(__m512i window, std::size_t start, std::size_t count, __m512i alphabet) noexcept {
  const __m512i spread = spread_index();
  const __mmask64 live = _mm512_cmplt_epu8_mask(spread, _mm512_set1_epi8(static_cast<char>(count)));
  const __m512i idx = _mm512_add_epi8(spread, _mm512_set1_epi8(static_cast<char>(start)));
  const __m512i text = groups_to_ascii(_mm512_maskz_permutexvar_epi8(live, idx, window), alphabet);
  return _mm512_mask_blend_epi8(low_bits((4 * count + 2) / 3), _mm512_set1_epi8('='), text);
}

// 64 sextets -> 48 bytes in the low 48 bytes of the result (paper §4): two multiply-adds build
// the 24-bit groups, one vpermb (indices `pack`, normally kPack) puts their bytes in output order.
inline __m512i pack_sextets(__m512i v, __m512i pack) noexcept {
  const __m512i ab_cd = _mm512_maddubs_epi16(v, _mm512_set1_epi32(0x01400140));  // a<<6|b, c<<6|d
  const __m512i abcd = _mm512_madd_epi16(ab_cd, _mm512_set1_epi32(0x00011000));  // a<<18|b<<12|c<<6|d
  return permute_bytes(pack, abcd);
}

// The scalar decoder finishes the input from `i` when the vector check rejected a block; it
// finds the exact first fault, and its result is rebased onto the whole call.
inline Result finish_scalar(const char* in, std::size_t n, std::uint8_t* out, std::size_t i,
                            std::size_t o) noexcept {
  Result r = decode_scalar(in + i, n - i, out + o);
  r.count += r.ok() ? o : i;
  return r;
}

}  // namespace

// Memory is touched only by plain loads and stores (see load_partial): inputs of 64 bytes or
// more load their last 64 bytes and shift with the vpermb indices instead of a partial load, and
// store their last 64 characters again instead of a partial store.
std::size_t encode_avx512vbmi(const std::uint8_t* in, std::size_t n, char* out) noexcept {
  const __m512i alphabet = _mm512_load_si512(kAlphabet);
  std::size_t i = 0, o = 0;
  for (; n - i >= 64; i += 48, o += 64)  // reads 64 bytes, consumes 48
    _mm512_storeu_si512(out + o, encode_block(_mm512_loadu_si512(in + i), alphabet));
  if (i == n) return o;
  // 1..63 bytes left, all inside one 64-byte window: byte b of `window` is in[base + b].
  const std::size_t groups = (n + 2) / 3, total = 4 * groups;
  const std::size_t base = n >= 64 ? n - 64 : 0;
  const __m512i window = n >= 64 ? _mm512_loadu_si512(in + base) : load_partial(in, n);
  if (groups - i / 3 > 16) {  // 17..21 groups left: one more full block first
    _mm512_storeu_si512(out + o, encode_window(window, i - base, 48, alphabet));
    i += 48;
  }
  if (total < 64) {  // the whole input is under 48 bytes
    store_partial(out, total, encode_window(window, 0, n, alphabet));
    return total;
  }
  // The last 16 groups (up to 48 bytes, the last one partial), stored as 64 characters ending
  // exactly at the end of the output; any overlap rewrites the same characters.
  const std::size_t first = 3 * (groups - 16);
  _mm512_storeu_si512(out + total - 64, encode_window(window, first - base, n - first, alphabet));
  return total;
}

Result decode_avx512vbmi(const char* in, std::size_t n, std::uint8_t* out) noexcept {
  if (n % 4 != 0) return {Errc::kBadBase64Length, n};
  if (n == 0) return {};
  const __m512i lut_lo = _mm512_load_si512(kDecodeLut.data());
  const __m512i lut_hi = _mm512_load_si512(kDecodeLut.data() + 64);
  const __m512i pack = _mm512_load_si512(kPack.data());
  std::size_t i = 0, o = 0;
  // Full 64-character blocks while the last quad (the only one that may hold '=') lies beyond.
  for (; n - i > 64; i += 64, o += 48) {
    const __m512i text = _mm512_loadu_si512(in + i);
    const __m512i v = _mm512_permutex2var_epi8(lut_lo, text, lut_hi);
    if (_mm512_movepi8_mask(_mm512_or_si512(v, text)) != 0) return finish_scalar(in, n, out, i, o);
    const __m512i bytes = pack_sextets(v, pack);
    // With at least 88 characters left, at least 64 output bytes remain, so a full store is
    // safe (the next block overwrites its last 16 bytes); otherwise store exactly 32 + 16.
    if (n - i >= 88) {
      _mm512_storeu_si512(out + o, bytes);
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + o), low_half(bytes));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o + 32), quarter<2>(bytes));
    }
  }
  // The last 4..64 characters, padding included, inside one 64-character window: byte b of
  // `window` is in[base + b]. Only the characters before the '='s are translated, so the '='s
  // need no special case in the vector code.
  const std::size_t r = n - i;
  const std::size_t pad = in[n - 1] != '=' ? 0 : in[n - 2] != '=' ? 1 : 2;
  const std::size_t base = n >= 64 ? n - 64 : 0;
  const std::size_t first = i - base, end = n - pad - base;  // tail characters in the window
  const __m512i window = n >= 64 ? _mm512_loadu_si512(in + base) : load_partial(in, n);
  const __mmask64 live = low_bits(end) & ~low_bits(first);
  const __m512i v = _mm512_maskz_permutex2var_epi8(live, lut_lo, window, lut_hi);  // zero outside
  __mmask64 bad = _mm512_movepi8_mask(_mm512_or_si512(v, window)) & live;
  // The bits the padding marks as unused must be zero: 2 bits before "=", 4 before "==".
  if (pad != 0) bad |= _mm512_mask_test_epi8_mask(__mmask64{1} << (end - 1), v, _mm512_set1_epi8(pad == 1 ? 3 : 15));
  if (bad != 0) return finish_scalar(in, n, out, i, o);
  // `first` is a multiple of 4, and skipping q quads adds 4q to every pack index; indices that
  // wrap past 63 only feed bytes past `bytes`, which are not stored.
  const __m512i idx = _mm512_add_epi8(pack, _mm512_set1_epi8(static_cast<char>(first)));
  const std::size_t bytes = r / 4 * 3 - pad;
  store_partial(out + o, bytes, pack_sextets(v, idx));
  return {Errc::kOk, o + bytes};
}

}  // namespace mintlane::base64
MINTLANE_TARGET_END
