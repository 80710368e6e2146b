// finish.hpp - the tail of every 007 mint: payload -> zlib stream -> base64 -> "007" string.
#pragma once
#include <cstddef>
#include <cstdint>

#include "base64/base64.hpp"
#include "deflate/deflate.hpp"
#include "mintlane/token.hpp"

namespace mintlane::token {

// Characters needed for a token whose payload has `payload_bytes` bytes.
constexpr std::size_t max_token_chars(std::size_t payload_bytes) noexcept {
  return 3 + base64::encoded_size(deflate::compress_bound(payload_bytes));
}

// "007" + base64 of a zlib stream z[0..n) that the caller already compressed (the batch engine's
// per-layout deflate::TemplatePlan). `out` needs 3 + base64::encoded_size(n) characters. Returns the
// characters written.
inline std::size_t finish_007_zlib(const std::uint8_t* z, std::size_t n, char* out) noexcept {
  out[0] = '0';
  out[1] = '0';
  out[2] = '7';
  return 3 + base64::encode(z, n, out + 3);
}

// Compresses payload[0..n) with `c` into `scratch` (>= deflate::compress_bound(n) bytes) and
// writes "007" + base64 to `out` (>= max_token_chars(n)). Returns the characters written.
// Throws std::runtime_error only if a compressor reports an internal failure.
std::size_t finish_007(const std::uint8_t* payload, std::size_t n, Compression c,
                       std::uint8_t* scratch, char* out);

}  // namespace mintlane::token
