// sign007_portable.cpp - the 007 signature chain (TOKEN_FORMAT.md §2.7) one token at a time on
// the OpenSSL block function: HMAC (RFC 2104) written directly over FIPS 180-4 compressions.
// The fallback sign kernel, and a second, independent statement of the chain.
#include <cstddef>
#include <cstdint>

#include "crypto/hmac.hpp"
#include "crypto/sha256.hpp"
#include "crypto/sha256_blocks.hpp"
#include "crypto/sign007_kernels.hpp"

namespace mintlane::crypto {

void sign007_openssl(const std::uint8_t k1[32], const std::uint32_t* salts, const std::uint8_t* const* msgs,
                     const std::size_t* lens, std::uint8_t (*sigs)[32], std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t salt = salts[i];
    const std::uint8_t salt_le[4] = {static_cast<std::uint8_t>(salt), static_cast<std::uint8_t>(salt >> 8),
                                     static_cast<std::uint8_t>(salt >> 16), static_cast<std::uint8_t>(salt >> 24)};
    HmacKey key;
    std::uint8_t k2[32];
    detail::hmac_init_with(sha256_compress_openssl, key, salt_le, sizeof salt_le);  // 2 compressions
    detail::hmac_finish_with(sha256_compress_openssl, key, k1, 32, k2);            // 2
    detail::hmac_init_with(sha256_compress_openssl, key, k2, sizeof k2);           // 2
    detail::hmac_finish_with(sha256_compress_openssl, key, msgs[i], lens[i], sigs[i]);  // 2 + ceil((len + 9) / 64)
  }
}

}  // namespace mintlane::crypto
