// hmac_kernels.hpp - private: ISA-specific HMAC-SHA256 (RFC 2104) finishing kernels that hmac.cpp
// uses when the matching SHA-256 kernel is active.
#pragma once
#include <cstddef>
#include <cstdint>

#include "crypto/hmac.hpp"

namespace mintlane::crypto {

// hmac_finish() on SHA-NI with the inner digest handed to the outer block in registers.
// Requires cpu::kShaNi.
void hmac_finish_shani(const HmacKey& key, const std::uint8_t* msg, std::size_t n, std::uint8_t out[32]) noexcept;

}  // namespace mintlane::crypto
