// sha256_openssl.cpp - SHA-256 compression through OpenSSL's SHA256_Transform (FIPS 180-4
// §6.2.2; OpenSSL picks its own SHA-NI/AVX2/SSSE3 block code). The only file that includes
// OpenSSL's SHA header: the low-level SHA256_* API is deprecated in OpenSSL 3, but it is the
// only public entry point that runs the block function on a caller-chosen state.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crypto/sha256.hpp"

namespace mintlane::crypto {

static_assert(sizeof(SHA256_CTX{}.h) == 8 * sizeof(std::uint32_t), "SHA256_CTX::h must be eight 32-bit words");

void sha256_compress_openssl(std::uint32_t state[8], const std::uint8_t* blocks,
                             std::size_t nblocks) noexcept {
  // SHA256_Transform reads and updates only ctx.h (host-order words, the same layout as
  // `state`); the length and buffer fields are never touched, so they are left unset.
  SHA256_CTX ctx;
  std::memcpy(ctx.h, state, sizeof ctx.h);
  for (std::size_t i = 0; i < nblocks; ++i) SHA256_Transform(&ctx, blocks + 64 * i);
  std::memcpy(state, ctx.h, sizeof ctx.h);
}

}  // namespace mintlane::crypto
