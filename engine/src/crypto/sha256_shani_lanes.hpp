// sha256_shani_lanes.hpp - private: SHA-256 compression of 1..6 independent streams in one
// instruction sequence with the Intel SHA extensions (Intel, "New Instructions Supporting the
// Secure Hash Algorithm on Intel Architecture Processors", 2013; FIPS 180-4 §6.2.2).
//
// One stream is latency-bound: its 32 sha256rnds2 form a single dependency chain. Issuing the
// rounds of several independent streams side by side lets the SHA unit overlap them, which is
// where the multi-token sign kernels get their throughput (PERF_NOTES.md: ~40 ns one stream,
// ~21 ns per compression with three).
//
// State lives in registers in the instructions' layout: abef = {F, E, B, A} and
// cdgh = {H, G, D, C} (dword 0 first). Message words are host-order 32-bit words, four per
// vector, W[4i] in dword 0 of m[i].
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/target.hpp"
#include "crypto/sha256_blocks.hpp"

MINTLANE_TARGET_BEGIN("sha,sse4.1")
namespace mintlane::crypto::shani {

struct State {
  __m128i abef;
  __m128i cdgh;
};

// pshufb mask reversing the bytes of every 32-bit word: big-endian block bytes <-> host words.
[[gnu::always_inline]] inline __m128i bswap32_mask() noexcept {
  return _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
}

// The FIPS 180-4 initial hash value, already in the abef/cdgh layout.
[[gnu::always_inline]] inline State iv_state() noexcept {
  return {_mm_set_epi32(static_cast<int>(kSha256Init[0]), static_cast<int>(kSha256Init[1]),
                        static_cast<int>(kSha256Init[4]), static_cast<int>(kSha256Init[5])),
          _mm_set_epi32(static_cast<int>(kSha256Init[2]), static_cast<int>(kSha256Init[3]),
                        static_cast<int>(kSha256Init[6]), static_cast<int>(kSha256Init[7]))};
}

// {A,B,C,D}, {E,F,G,H} (host-order words) -> abef/cdgh.
[[gnu::always_inline]] inline State load_state(const std::uint32_t h[8]) noexcept {
  __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));
  __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4));
  abcd = _mm_shuffle_epi32(abcd, 0xB1);  // {B,A,D,C}
  efgh = _mm_shuffle_epi32(efgh, 0x1B);  // {H,G,F,E}
  return {_mm_alignr_epi8(abcd, efgh, 8), _mm_blend_epi16(efgh, abcd, 0xF0)};
}

// abef/cdgh -> {A,B,C,D}, {E,F,G,H}. These are also the message words W0..W7 of a block that
// starts with this digest (its bytes are the words big-endian, and blocks are loaded
// byte-swapped), so chaining a digest into the next hash needs no trip through memory.
[[gnu::always_inline]] inline void state_words(State s, __m128i& abcd, __m128i& efgh) noexcept {
  const __m128i abef = _mm_shuffle_epi32(s.abef, 0x1B);  // {A,B,E,F}
  const __m128i ghcd = _mm_shuffle_epi32(s.cdgh, 0xB1);  // {G,H,C,D}
  abcd = _mm_blend_epi16(abef, ghcd, 0xF0);
  efgh = _mm_alignr_epi8(ghcd, abef, 8);
}

[[gnu::always_inline]] inline void store_state(State s, std::uint32_t h[8]) noexcept {
  __m128i abcd, efgh;
  state_words(s, abcd, efgh);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), abcd);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), efgh);
}

// The 32-byte digest (big-endian words).
[[gnu::always_inline]] inline void store_digest(State s, std::uint8_t out[32]) noexcept {
  __m128i abcd, efgh;
  state_words(s, abcd, efgh);
  const __m128i mask = bswap32_mask();
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(abcd, mask));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm_shuffle_epi8(efgh, mask));
}

// Words 8..15 of the last block of an HMAC whose message is a 32-byte digest, after the 64-byte
// key block: the 0x80 marker, zeros and the bit length (64 + 32) * 8 = 768.
[[gnu::always_inline]] inline __m128i digest_pad_w8() noexcept {
  return _mm_set_epi32(0, 0, 0, static_cast<int>(0x80000000u));
}
[[gnu::always_inline]] inline __m128i digest_pad_w12() noexcept { return _mm_set_epi32(768, 0, 0, 0); }

[[gnu::always_inline]] inline void load_block(const std::uint8_t* p, __m128i m[4]) noexcept {
  const __m128i mask = bswap32_mask();
  for (int i = 0; i < 4; ++i)
    m[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)), mask);
}

// A message to be hashed after `prefix` already-absorbed bytes: whole blocks are read in place;
// the last one or two, with the FIPS 180-4 §5.1.1 padding, are built in `tail`, so the message
// is never read past its end and nothing is allocated.
struct PaddedMessage {
  const std::uint8_t* msg;
  std::size_t full;    // whole 64-byte blocks of the message
  std::size_t blocks;  // full + 1 or 2 tail blocks
  alignas(16) std::uint8_t tail[2 * detail::kBlockSize];

  void init(const std::uint8_t* m, std::size_t len, std::uint64_t prefix) noexcept {
    msg = m;
    full = len / detail::kBlockSize;
    const std::size_t rem = len - full * detail::kBlockSize;
    // 0x80 plus the 8-byte length need 9 bytes: a tail of 56..63 bytes spills into a second block.
    const std::size_t tail_blocks = rem < detail::kBlockSize - 8 ? 1 : 2;
    std::memset(tail, 0, tail_blocks * detail::kBlockSize);
    if (rem != 0) std::memcpy(tail, m + full * detail::kBlockSize, rem);
    tail[rem] = 0x80;
    detail::store_be64(tail + tail_blocks * detail::kBlockSize - 8, (prefix + len) * 8);
    blocks = full + tail_blocks;
  }
  const std::uint8_t* block(std::size_t b) const noexcept {
    return b < full ? msg + b * detail::kBlockSize : tail + (b - full) * detail::kBlockSize;
  }
};

// Compresses one block per stream: s[l] absorbs the block whose words are m[l] (m is consumed
// as the message-schedule ring). The lane loops sit inside the round loop so that consecutive
// sha256rnds2 belong to different streams and never wait on each other.
template <int L>
[[gnu::always_inline]] inline void compress(State (&s)[L], __m128i (&m)[L][4]) noexcept {
  State save[L];
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) save[l] = s[l];
#pragma GCC unroll 16
  for (int g = 0; g < 16; ++g) {  // rounds 4g..4g+3
    const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(detail::kSha256K + 4 * g));
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) {
      __m128i wk = _mm_add_epi32(m[l][g & 3], k);
      // Each sha256rnds2 does two rounds; the result is the new ABEF and the old ABEF becomes
      // the next CDGH, so the two registers swap roles between the two halves.
      s[l].cdgh = _mm_sha256rnds2_epu32(s[l].cdgh, s[l].abef, wk);
      wk = _mm_shuffle_epi32(wk, 0x0E);  // W+K of rounds 4g+2, 4g+3 into the low half
      s[l].abef = _mm_sha256rnds2_epu32(s[l].abef, s[l].cdgh, wk);
    }
    if (g < 12) {
      // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16] for the words of group g+4, written
      // over group g's slot: msg1 adds s0, alignr supplies W[t-7], msg2 adds s1.
#pragma GCC unroll 8
      for (int l = 0; l < L; ++l) {
        const __m128i w1 = m[l][(g + 1) & 3], w2 = m[l][(g + 2) & 3], w3 = m[l][(g + 3) & 3];
        const __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(m[l][g & 3], w1), _mm_alignr_epi8(w3, w2, 4));
        m[l][g & 3] = _mm_sha256msg2_epu32(t, w3);
      }
    }
  }
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) {
    s[l].abef = _mm_add_epi32(s[l].abef, save[l].abef);
    s[l].cdgh = _mm_add_epi32(s[l].cdgh, save[l].cdgh);
  }
}

}  // namespace mintlane::crypto::shani
MINTLANE_TARGET_END
