// base64.hpp - RFC 4648 standard-alphabet base64 with '=' padding: kernel table and dispatch.
// Kernels: encode_scalar (the specification and tail handler), encode_avx2, encode_avx512vbmi,
// and the matching decode_* functions, chosen once at run time (best first).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "cpu/cpu.hpp"
#include "mintlane/errors.hpp"

namespace mintlane::base64 {

constexpr std::size_t encoded_size(std::size_t n) noexcept { return (n + 2) / 3 * 4; }
// Upper bound of the decoded size of `n` base64 characters.
constexpr std::size_t decoded_size_max(std::size_t n) noexcept { return n / 4 * 3 + 3; }

// Writes encoded_size(n) characters (with padding) to `out`; returns that count.
// `in` and `out` must not overlap. Thread-safe.
using EncodeFn = std::size_t (*)(const std::uint8_t* in, std::size_t n, char* out) noexcept;
// Strict decode: standard alphabet only, length a multiple of 4, '=' only as the last one or two
// characters, and the unused bits of the last symbol zero. On success count = bytes written
// (at most decoded_size_max(n)); on failure code says why and count = offset of the bad input char.
using DecodeFn = Result (*)(const char* in, std::size_t n, std::uint8_t* out) noexcept;

std::size_t encode_scalar(const std::uint8_t* in, std::size_t n, char* out) noexcept;
Result decode_scalar(const char* in, std::size_t n, std::uint8_t* out) noexcept;
std::size_t encode_avx2(const std::uint8_t* in, std::size_t n, char* out) noexcept;
Result decode_avx2(const char* in, std::size_t n, std::uint8_t* out) noexcept;
std::size_t encode_avx512vbmi(const std::uint8_t* in, std::size_t n, char* out) noexcept;
Result decode_avx512vbmi(const char* in, std::size_t n, std::uint8_t* out) noexcept;

struct Kernel {
  const char* name;        // "avx512vbmi", "avx2", "scalar"
  std::uint32_t required;  // cpu::Feature bits
  EncodeFn encode;
  DecodeFn decode;
};

// All kernels compiled in, best first; "scalar" is always last.
std::span<const Kernel> kernels() noexcept;
// The kernel in use: the best one cpu::detect() supports, unless force() chose another.
const Kernel& active() noexcept;
// Selects a kernel by name; returns false (and changes nothing) when unknown or unsupported.
bool force(std::string_view name) noexcept;

inline std::size_t encode(const std::uint8_t* in, std::size_t n, char* out) noexcept {
  return active().encode(in, n, out);
}
inline Result decode(const char* in, std::size_t n, std::uint8_t* out) noexcept {
  return active().decode(in, n, out);
}

}  // namespace mintlane::base64
