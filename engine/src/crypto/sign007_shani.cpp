// sign007_shani.cpp - the 007 signature chain (TOKEN_FORMAT.md §2.7) on the Intel SHA extensions
// (Intel SHA extensions white paper, 2013), HMAC per RFC 2104 over FIPS 180-4 compressions, with
// the SHA-NI dependency chains of several tokens (and of each HMAC's two key blocks) interleaved.
//
// Per token: k2 = HMAC(LE32(salt), k1) takes 4 compressions (key^ipad, k1 + padding, key^opad,
// inner digest + padding); sig = HMAC(k2, msg) takes 2 for the key blocks, ceil((len + 9) / 64)
// for the message (3 at 122 bytes) and 1 outer: 10 in all. Digests chain into the next block
// and keys into their pad blocks inside registers; only the message and its padded tail are
// read from memory. Callers check cpu::kShaNi first.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/target.hpp"
#include "crypto/sha256_blocks.hpp"
#include "crypto/sha256_shani_lanes.hpp"
#include "crypto/sign007_kernels.hpp"

MINTLANE_TARGET_BEGIN("sha,sse4.1")
namespace mintlane::crypto {
namespace {

using shani::State;

// Most compressions issued side by side. Measured on Zen 5 (g++ 12): one compression costs
// 32 ns alone and 21.5 / 19.3 / 18.2 / 17.2 ns each with 2 / 3 / 4 / 6 streams, so gains stop
// near three. Inside the chain, six streams (x3's key blocks in one go) spill the 16 XMM
// registers and cost more than they save (223 vs 213 ns per token), and a 4-token kernel lost
// to 3 (227 ns), while 2 tokens with their key pairs 4-wide tied with 3 (210 vs 213 ns).
// The single-token kernel gets its key pairs two-wide too (284 ns against 290 written one
// after the other: the out-of-order core already overlaps much of two independent chains).
constexpr int kMaxStreams = 4;

// HMAC key midstates for L keys of at most 32 bytes, given as host-order words kw[l][0..1]
// (the rest of K0 is zero): inner[l] = IV after K0^ipad, outer[l] = IV after K0^opad. The 2L
// compressions are independent, so they are issued together when that fits kMaxStreams.
template <int L>
[[gnu::always_inline]] inline void key_midstates(State (&inner)[L], State (&outer)[L],
                                                 const __m128i (&kw)[L][2]) noexcept {
  const __m128i ipad = _mm_set1_epi32(0x36363636), opad = _mm_set1_epi32(0x5c5c5c5c);
  const State iv = shani::iv_state();
  if constexpr (2 * L <= kMaxStreams) {
    State s[2 * L];
    __m128i m[2 * L][4];
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) {
      s[l] = iv;
      s[L + l] = iv;
      m[l][0] = _mm_xor_si128(kw[l][0], ipad);
      m[l][1] = _mm_xor_si128(kw[l][1], ipad);
      m[l][2] = m[l][3] = ipad;
      m[L + l][0] = _mm_xor_si128(kw[l][0], opad);
      m[L + l][1] = _mm_xor_si128(kw[l][1], opad);
      m[L + l][2] = m[L + l][3] = opad;
    }
    shani::compress<2 * L>(s, m);
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) {
      inner[l] = s[l];
      outer[l] = s[L + l];
    }
  } else {
    __m128i m[L][4];
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) {
      inner[l] = iv;
      m[l][0] = _mm_xor_si128(kw[l][0], ipad);
      m[l][1] = _mm_xor_si128(kw[l][1], ipad);
      m[l][2] = m[l][3] = ipad;
    }
    shani::compress<L>(inner, m);
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) {
      outer[l] = iv;
      m[l][0] = _mm_xor_si128(kw[l][0], opad);
      m[l][1] = _mm_xor_si128(kw[l][1], opad);
      m[l][2] = m[l][3] = opad;
    }
    shani::compress<L>(outer, m);
  }
}

// s[l] absorbs the final block of an HMAC whose 32-byte message is the digest in d[l]
// (the inner hash's state, or k1), i.e. the outer hash or the k1 block of k2's inner hash.
template <int L>
[[gnu::always_inline]] inline void absorb_digest_block(State (&s)[L], const __m128i (&d)[L][2]) noexcept {
  __m128i m[L][4];
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) {
    m[l][0] = d[l][0];
    m[l][1] = d[l][1];
    m[l][2] = shani::digest_pad_w8();
    m[l][3] = shani::digest_pad_w12();
  }
  shani::compress<L>(s, m);
}

template <int L>
[[gnu::always_inline]] inline void digest_words(const State (&s)[L], __m128i (&d)[L][2]) noexcept {
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) shani::state_words(s[l], d[l][0], d[l][1]);
}

// Signs L tokens with their compressions interleaved. k1w: k1 as host-order words.
template <int L>
[[gnu::always_inline]] inline void sign_lanes(const __m128i (&k1w)[2], const std::uint32_t* salts,
                                              const std::uint8_t* const* msgs, const std::size_t* lens,
                                              std::uint8_t (*sigs)[32]) noexcept {
  State inner[L], outer[L];
  __m128i w[L][2];

  // k2 = HMAC(key = LE32(salt), msg = k1). The key's first big-endian word is bswap(salt).
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) {
    w[l][0] = _mm_cvtsi32_si128(static_cast<int>(__builtin_bswap32(salts[l])));
    w[l][1] = _mm_setzero_si128();
  }
  key_midstates<L>(inner, outer, w);
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) {
    w[l][0] = k1w[0];
    w[l][1] = k1w[1];
  }
  absorb_digest_block<L>(inner, w);
  digest_words<L>(inner, w);
  absorb_digest_block<L>(outer, w);

  // sig = HMAC(key = k2, msg): k2 (32 bytes) is the start of K0.
  digest_words<L>(outer, w);
  key_midstates<L>(inner, outer, w);

  shani::PaddedMessage lane[L];
  std::size_t common = static_cast<std::size_t>(-1);
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) {
    lane[l].init(msgs[l], lens[l], detail::kBlockSize);  // hashed after the key^ipad block
    common = std::min(common, lane[l].blocks);
  }
  __m128i m[L][4];
  for (std::size_t b = 0; b < common; ++b) {
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) shani::load_block(lane[l].block(b), m[l]);
    shani::compress<L>(inner, m);
  }
  // Lanes with longer messages finish their extra blocks one stream at a time; in a token
  // batch the lengths differ by a few uid digits, so this is rare and short.
  if constexpr (L > 1) {
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) {
      State one[1] = {inner[l]};
      __m128i m1[1][4];
      for (std::size_t b = common; b < lane[l].blocks; ++b) {
        shani::load_block(lane[l].block(b), m1[0]);
        shani::compress<1>(one, m1);
      }
      inner[l] = one[0];
    }
  }
  digest_words<L>(inner, w);
  absorb_digest_block<L>(outer, w);
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) shani::store_digest(outer[l], sigs[l]);
}

template <int L>
void sign_many(const std::uint8_t k1[32], const std::uint32_t* salts, const std::uint8_t* const* msgs,
               const std::size_t* lens, std::uint8_t (*sigs)[32], std::size_t n) noexcept {
  if (n == 0) return;
  __m128i k1w[2];
  {
    __m128i m[4];
    alignas(16) std::uint8_t buf[64] = {};  // load_block reads 64 bytes; k1 has 32
    std::memcpy(buf, k1, 32);
    shani::load_block(buf, m);
    k1w[0] = m[0];
    k1w[1] = m[1];
  }
  std::size_t i = 0;
  if constexpr (L > 1) {
    for (; n - i >= L; i += L) sign_lanes<L>(k1w, salts + i, msgs + i, lens + i, sigs + i);
  }
  for (; i < n; ++i) sign_lanes<1>(k1w, salts + i, msgs + i, lens + i, sigs + i);
}

}  // namespace

void sign007_shani_x3(const std::uint8_t k1[32], const std::uint32_t* salts, const std::uint8_t* const* msgs,
                      const std::size_t* lens, std::uint8_t (*sigs)[32], std::size_t n) noexcept {
  sign_many<3>(k1, salts, msgs, lens, sigs, n);
}

void sign007_shani(const std::uint8_t k1[32], const std::uint32_t* salts, const std::uint8_t* const* msgs,
                   const std::size_t* lens, std::uint8_t (*sigs)[32], std::size_t n) noexcept {
  sign_many<1>(k1, salts, msgs, lens, sigs, n);
}

}  // namespace mintlane::crypto
MINTLANE_TARGET_END
