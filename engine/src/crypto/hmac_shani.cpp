// hmac_shani.cpp - HMAC-SHA256 (RFC 2104) finished from its midstates on the Intel SHA extensions
// (Intel SHA extensions white paper, 2013; FIPS 180-4 §5.1.1, §6.2.2). Going through CompressFn
// costs two state conversions per block and a digest round trip through memory whose narrow
// stores cannot forward to the next block's 16-byte loads; here the state stays in registers.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "cpu/target.hpp"
#include "crypto/hmac.hpp"
#include "crypto/hmac_kernels.hpp"
#include "crypto/sha256_blocks.hpp"
#include "crypto/sha256_shani_lanes.hpp"

MINTLANE_TARGET_BEGIN("sha,sse4.1")
namespace mintlane::crypto {

void hmac_finish_shani(const HmacKey& key, const std::uint8_t* msg, std::size_t n, std::uint8_t out[32]) noexcept {
  shani::PaddedMessage pm;
  pm.init(msg, n, detail::kBlockSize);  // the inner hash has absorbed key^ipad
  shani::State inner[1] = {shani::load_state(key.inner)};
  __m128i m[1][4];
  for (std::size_t b = 0; b < pm.blocks; ++b) {
    shani::load_block(pm.block(b), m[0]);
    shani::compress<1>(inner, m);
  }
  shani::State outer[1] = {shani::load_state(key.outer)};
  shani::state_words(inner[0], m[0][0], m[0][1]);
  m[0][2] = shani::digest_pad_w8();
  m[0][3] = shani::digest_pad_w12();
  shani::compress<1>(outer, m);
  shani::store_digest(outer[0], out);
}

}  // namespace mintlane::crypto
MINTLANE_TARGET_END
