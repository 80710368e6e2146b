// sha256_blocks.hpp - private helpers shared by the SHA-256 and HMAC kernels: round constants
// (FIPS 180-4 §4.2.2), big-endian word I/O, message padding (FIPS 180-4 §5.1.1) and HMAC
// key midstates (RFC 2104 §2) over any CompressFn.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crypto/hmac.hpp"
#include "crypto/sha256.hpp"

namespace mintlane::crypto::detail {

// Aligned so the SHA-NI kernels can add four constants straight from memory (movdqa/paddd).
alignas(64) inline constexpr std::uint32_t kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

inline constexpr std::size_t kBlockSize = 64;
inline constexpr std::uint8_t kIpad = 0x36;  // RFC 2104 §2
inline constexpr std::uint8_t kOpad = 0x5c;

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept {
  store_be32(p, static_cast<std::uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<std::uint32_t>(v));
}

// Finishes a hash whose `state` has already absorbed `prefix_bytes` (a multiple of 64) by
// absorbing msg[0..n), the FIPS 180-4 padding, and writing the 32-byte digest. Whole blocks are
// compressed in place; only the last one or two blocks are copied, into a stack buffer, so the
// message is never read past its end.
inline void sha256_finish(CompressFn compress, std::uint32_t state[8], const std::uint8_t* msg,
                          std::size_t n, std::uint64_t prefix_bytes, std::uint8_t out[32]) noexcept {
  const std::size_t full = n / kBlockSize;
  if (full != 0) compress(state, msg, full);
  const std::size_t rem = n - full * kBlockSize;
  std::uint8_t tail[2 * kBlockSize] = {};
  if (rem != 0) std::memcpy(tail, msg + full * kBlockSize, rem);
  tail[rem] = 0x80;
  // 0x80 plus the 8-byte length need 9 bytes: a tail of 56..63 bytes spills into a second block.
  const std::size_t tail_blocks = rem < kBlockSize - 8 ? 1 : 2;
  store_be64(tail + tail_blocks * kBlockSize - 8, (prefix_bytes + n) * 8);
  compress(state, tail, tail_blocks);
  for (int i = 0; i < 8; ++i) store_be32(out + 4 * i, state[i]);
}

// RFC 2104: K0 = key (hashed first when longer than a block) zero-padded to 64 bytes; the
// midstates are the compression of K0^ipad and K0^opad from the IV.
inline void hmac_init_with(CompressFn compress, HmacKey& key, const std::uint8_t* k,
                           std::size_t klen) noexcept {
  std::uint8_t k0[kBlockSize] = {};
  if (klen > kBlockSize) {
    std::uint32_t st[8];
    std::memcpy(st, kSha256Init, sizeof st);
    sha256_finish(compress, st, k, klen, 0, k0);
  } else if (klen != 0) {
    std::memcpy(k0, k, klen);
  }
  std::uint8_t pad[kBlockSize];
  for (std::size_t i = 0; i < kBlockSize; ++i) pad[i] = static_cast<std::uint8_t>(k0[i] ^ kIpad);
  std::memcpy(key.inner, kSha256Init, sizeof key.inner);
  compress(key.inner, pad, 1);
  for (std::size_t i = 0; i < kBlockSize; ++i) pad[i] = static_cast<std::uint8_t>(k0[i] ^ kOpad);
  std::memcpy(key.outer, kSha256Init, sizeof key.outer);
  compress(key.outer, pad, 1);
}

// HMAC = H(K0^opad || H(K0^ipad || msg)); both hashes start one block in (the midstates).
inline void hmac_finish_with(CompressFn compress, const HmacKey& key, const std::uint8_t* msg,
                             std::size_t n, std::uint8_t out[32]) noexcept {
  std::uint32_t st[8];
  std::uint8_t inner[32];
  std::memcpy(st, key.inner, sizeof st);
  sha256_finish(compress, st, msg, n, kBlockSize, inner);
  std::memcpy(st, key.outer, sizeof st);
  sha256_finish(compress, st, inner, sizeof inner, kBlockSize, out);
}

}  // namespace mintlane::crypto::detail
