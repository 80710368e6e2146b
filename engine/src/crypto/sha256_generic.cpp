// sha256_generic.cpp - portable SHA-256 compression, written as the specification (FIPS 180-4
// §6.2.2, functions §4.1.2); the reference every other kernel is tested against.
#include <cstddef>
#include <cstdint>

#include "crypto/sha256.hpp"
#include "crypto/sha256_blocks.hpp"

namespace mintlane::crypto {
namespace {

constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept { return (x >> n) | (x << (32 - n)); }
constexpr std::uint32_t ch(std::uint32_t x, std::uint32_t y, std::uint32_t z) noexcept { return (x & y) ^ (~x & z); }
constexpr std::uint32_t maj(std::uint32_t x, std::uint32_t y, std::uint32_t z) noexcept {
  return (x & y) ^ (x & z) ^ (y & z);
}
constexpr std::uint32_t big_sigma0(std::uint32_t x) noexcept { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
constexpr std::uint32_t big_sigma1(std::uint32_t x) noexcept { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
constexpr std::uint32_t small_sigma0(std::uint32_t x) noexcept { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
constexpr std::uint32_t small_sigma1(std::uint32_t x) noexcept { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }

}  // namespace

void sha256_compress_generic(std::uint32_t state[8], const std::uint8_t* blocks,
                             std::size_t nblocks) noexcept {
  for (std::size_t blk = 0; blk < nblocks; ++blk, blocks += detail::kBlockSize) {
    // Step 1: the message schedule (words are big-endian in the block).
    std::uint32_t w[64];
    for (int t = 0; t < 16; ++t) w[t] = detail::load_be32(blocks + 4 * t);
    for (int t = 16; t < 64; ++t)
      w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];
    // Steps 2-3: 64 rounds on the working variables a..h.
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; ++t) {
      const std::uint32_t t1 = h + big_sigma1(e) + ch(e, f, g) + detail::kSha256K[t] + w[t];
      const std::uint32_t t2 = big_sigma0(a) + maj(a, b, c);
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    // Step 4: the intermediate hash value.
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

}  // namespace mintlane::crypto
