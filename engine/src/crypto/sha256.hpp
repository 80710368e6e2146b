// sha256.hpp - SHA-256 block compression kernels (FIPS 180-4) and their dispatch table.
// Kernels: sha256_compress_shani (Intel SHA extensions), sha256_compress_openssl
// (OpenSSL SHA256_Transform, the fallback) and sha256_compress_generic (portable C++ spec).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace mintlane::crypto {

inline constexpr std::uint32_t kSha256Init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

// Runs the compression function over `nblocks` consecutive 64-byte blocks, updating `state`
// (host-order words, as in FIPS 180-4). No padding is added. Thread-safe (no shared state).
using CompressFn = void (*)(std::uint32_t state[8], const std::uint8_t* blocks,
                            std::size_t nblocks) noexcept;

void sha256_compress_generic(std::uint32_t state[8], const std::uint8_t* blocks, std::size_t nblocks) noexcept;
void sha256_compress_openssl(std::uint32_t state[8], const std::uint8_t* blocks, std::size_t nblocks) noexcept;
void sha256_compress_shani(std::uint32_t state[8], const std::uint8_t* blocks, std::size_t nblocks) noexcept;

struct Sha256Kernel {
  const char* name;        // "shani", "openssl", "generic"
  std::uint32_t required;  // cpu::Feature bits
  CompressFn compress;
};

std::span<const Sha256Kernel> sha256_kernels() noexcept;  // best first, "generic" last
const Sha256Kernel& sha256_active() noexcept;
bool sha256_force(std::string_view name) noexcept;

// One-shot SHA-256 with the active kernel.
void sha256(const std::uint8_t* data, std::size_t n, std::uint8_t out[32]) noexcept;

}  // namespace mintlane::crypto
