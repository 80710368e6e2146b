// deflate.hpp - token compression into RFC 1950 zlib streams and strict zlib inflation.
// Three compressors (DESIGN.md "Compression"): a fast fixed-Huffman encoder, ISA-L igzip level 0
// with the static Huffman table (IGZIP_ZLIB), and `exact` zlib level 6 (byte-identical to the
// reference token strings). ISA-L inflates.
#pragma once
#include <cstddef>
#include <cstdint>

#include "mintlane/errors.hpp"

namespace mintlane::deflate {

// Capacity that is always enough for any of the compressors below on an n-byte input.
constexpr std::size_t compress_bound(std::size_t n) noexcept { return n + n / 8 + 64; }

// Each compressor writes one complete zlib stream (2-byte header, deflate, big-endian Adler-32)
// to out[0..cap) and returns {kOk, bytes written}, or {kOutputTooSmall, 0} when cap is too small.
// All are thread-safe (per-thread state, no allocation after a thread's first call).
Result compress_fast(const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::size_t cap) noexcept;
Result compress_isal(const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::size_t cap) noexcept;
Result compress_exact(const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::size_t cap) noexcept;

// Inflates one zlib stream. Accepts any valid RFC 1950 header (CM 8, CINFO <= 7, FDICT 0,
// correct FCHECK) and any block types; requires a correct Adler-32. Raw deflate and gzip are
// rejected (header check). Bytes after the trailer are ignored and counted in *trailing.
// On success count = bytes written to out (never more than cap: kOutputTooLarge otherwise).
// On failure count = the input offset where the fault was found (best effort).
Result inflate_zlib(const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::size_t cap,
                    std::size_t* trailing = nullptr) noexcept;

// Adler-32 (RFC 1950 §9), continuing from `adler` (start with 1).
std::uint32_t adler32(std::uint32_t adler, const std::uint8_t* data, std::size_t n) noexcept;

}  // namespace mintlane::deflate
