// hmac.hpp - HMAC-SHA256 (RFC 2104) from precomputed ipad/opad midstates, and the 007 signing
// chain (TOKEN_FORMAT.md §2.7) for many tokens at once with interleaved SHA-NI streams.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace mintlane::crypto {

// SHA-256 states after absorbing one block of key^ipad / key^opad.
struct HmacKey {
  std::uint32_t inner[8];
  std::uint32_t outer[8];
};

// Any key length (keys over 64 bytes are hashed first, per RFC 2104). Thread-safe.
void hmac_init(HmacKey& key, const std::uint8_t* k, std::size_t klen) noexcept;
// out = HMAC(key, msg) using the midstates (1 + ceil((n + 9) / 64) compressions).
void hmac_finish(const HmacKey& key, const std::uint8_t* msg, std::size_t n, std::uint8_t out[32]) noexcept;
// Convenience one-shot.
void hmac_sha256(const std::uint8_t* k, std::size_t klen, const std::uint8_t* msg, std::size_t n,
                 std::uint8_t out[32]) noexcept;

// 007 step 1, once per (certificate, issue_ts): k1 = HMAC(key = LE32(issue_ts), msg = certificate ASCII).
void signing_key_step1(std::string_view certificate, std::uint32_t issue_ts, std::uint8_t k1[32]) noexcept;

// For every i < n:  sigs[i] = HMAC(key = HMAC(key = LE32(salts[i]), msg = k1), msg = msgs[i][0..lens[i])).
// Messages may have different lengths. The output equals the one-at-a-time computation byte for
// byte whichever kernel runs. Thread-safe; no allocation.
using Sign007Fn = void (*)(const std::uint8_t k1[32], const std::uint32_t* salts,
                           const std::uint8_t* const* msgs, const std::size_t* lens,
                           std::uint8_t (*sigs)[32], std::size_t n) noexcept;

struct SignKernel {
  const char* name;        // e.g. "shani_x3", "shani", "openssl"
  std::uint32_t required;  // cpu::Feature bits
  Sign007Fn sign;
};
std::span<const SignKernel> sign_kernels() noexcept;  // best first, portable one last
const SignKernel& sign_active() noexcept;
bool sign_force(std::string_view name) noexcept;

inline void sign007_many(const std::uint8_t k1[32], const std::uint32_t* salts,
                         const std::uint8_t* const* msgs, const std::size_t* lens,
                         std::uint8_t (*sigs)[32], std::size_t n) noexcept {
  sign_active().sign(k1, salts, msgs, lens, sigs, n);
}

// Constant-time equality (CRYPTO_memcmp).
bool equal_ct(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept;

}  // namespace mintlane::crypto
