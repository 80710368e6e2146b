// hmac.cpp - HMAC-SHA256 (RFC 2104, FIPS 198-1) from ipad/opad midstates on the active SHA-256
// kernel, 007 signing step 1 (TOKEN_FORMAT.md §2.7) and constant-time comparison.
#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/hmac.hpp"
#include "crypto/hmac_kernels.hpp"
#include "crypto/sha256.hpp"
#include "crypto/sha256_blocks.hpp"

namespace mintlane::crypto {

void hmac_init(HmacKey& key, const std::uint8_t* k, std::size_t klen) noexcept {
  detail::hmac_init_with(sha256_active().compress, key, k, klen);
}

namespace {

void finish_with(CompressFn compress, const HmacKey& key, const std::uint8_t* msg, std::size_t n,
                 std::uint8_t out[32]) noexcept {
  // The SHA-NI kernel is active only when the CPU has it; its HMAC form keeps the state in
  // registers between blocks and hashes.
  if (compress == sha256_compress_shani) {
    hmac_finish_shani(key, msg, n, out);
    return;
  }
  detail::hmac_finish_with(compress, key, msg, n, out);
}

}  // namespace

void hmac_finish(const HmacKey& key, const std::uint8_t* msg, std::size_t n, std::uint8_t out[32]) noexcept {
  finish_with(sha256_active().compress, key, msg, n, out);
}

void hmac_sha256(const std::uint8_t* k, std::size_t klen, const std::uint8_t* msg, std::size_t n,
                 std::uint8_t out[32]) noexcept {
  const CompressFn compress = sha256_active().compress;  // one kernel for the whole MAC
  HmacKey key;
  detail::hmac_init_with(compress, key, k, klen);
  finish_with(compress, key, msg, n, out);
}

void signing_key_step1(std::string_view certificate, std::uint32_t issue_ts, std::uint8_t k1[32]) noexcept {
  // The timestamp is the key and the certificate's ASCII text the message (§2.7: every
  // reference does it this way round, and the certificate is never hex-decoded).
  const std::uint8_t key[4] = {static_cast<std::uint8_t>(issue_ts), static_cast<std::uint8_t>(issue_ts >> 8),
                               static_cast<std::uint8_t>(issue_ts >> 16), static_cast<std::uint8_t>(issue_ts >> 24)};
  hmac_sha256(key, sizeof key, reinterpret_cast<const std::uint8_t*>(certificate.data()), certificate.size(), k1);
}

bool equal_ct(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept {
  return CRYPTO_memcmp(a, b, n) == 0;  // time depends on n only, never on where bytes differ
}

}  // namespace mintlane::crypto
