// random.cpp - CSPRNG salts from OpenSSL RAND_bytes (never std::random_device: PERF_NOTES shows
// it costs ~30 µs per construction on these VMs, and time-seeded PRNGs are predictable).
#include <openssl/rand.h>

#include <climits>
#include <cstdint>
#include <stdexcept>

#include "mintlane/minter.hpp"

namespace mintlane {

void random_u32(std::uint32_t* out, std::size_t n) {
  auto* bytes = reinterpret_cast<unsigned char*>(out);
  std::size_t left = n * sizeof(std::uint32_t);
  while (left > 0) {
    const int chunk = left > static_cast<std::size_t>(INT_MAX / 2) ? INT_MAX / 2 : static_cast<int>(left);
    if (RAND_bytes(bytes, chunk) != 1)
      throw std::runtime_error("salt: the OpenSSL CSPRNG (RAND_bytes) failed; refusing to mint with a weak salt");
    bytes += chunk;
    left -= static_cast<std::size_t>(chunk);
  }
}

}  // namespace mintlane
