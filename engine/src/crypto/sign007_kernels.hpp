// sign007_kernels.hpp - private: the 007 signature-chain kernels (TOKEN_FORMAT.md §2.7) listed
// in sign007_dispatch.cpp. Each has the Sign007Fn contract of hmac.hpp; the shani ones require
// cpu::kShaNi.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mintlane::crypto {

// Three tokens at a time, their SHA-NI chains interleaved; the n % 3 rest one at a time.
void sign007_shani_x3(const std::uint8_t k1[32], const std::uint32_t* salts, const std::uint8_t* const* msgs,
                      const std::size_t* lens, std::uint8_t (*sigs)[32], std::size_t n) noexcept;
// One token at a time with SHA-NI.
void sign007_shani(const std::uint8_t k1[32], const std::uint32_t* salts, const std::uint8_t* const* msgs,
                   const std::size_t* lens, std::uint8_t (*sigs)[32], std::size_t n) noexcept;
// One token at a time with sha256_compress_openssl; runs everywhere.
void sign007_openssl(const std::uint8_t k1[32], const std::uint32_t* salts, const std::uint8_t* const* msgs,
                     const std::size_t* lens, std::uint8_t (*sigs)[32], std::size_t n) noexcept;

}  // namespace mintlane::crypto
