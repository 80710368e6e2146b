// sha256_shani.cpp - SHA-256 compression with the Intel SHA extensions, one stream (Intel SHA
// extensions white paper, 2013; FIPS 180-4 §6.2.2). Callers check cpu::kShaNi first.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "cpu/target.hpp"
#include "crypto/sha256.hpp"
#include "crypto/sha256_shani_lanes.hpp"

MINTLANE_TARGET_BEGIN("sha,sse4.1")
namespace mintlane::crypto {

void sha256_compress_shani(std::uint32_t state[8], const std::uint8_t* blocks,
                           std::size_t nblocks) noexcept {
  shani::State s[1] = {shani::load_state(state)};
  __m128i m[1][4];
  for (std::size_t i = 0; i < nblocks; ++i) {
    shani::load_block(blocks + 64 * i, m[0]);
    shani::compress<1>(s, m);
  }
  shani::store_state(s[0], state);
}

}  // namespace mintlane::crypto
MINTLANE_TARGET_END
