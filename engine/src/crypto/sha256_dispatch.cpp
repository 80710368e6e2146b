// sha256_dispatch.cpp - the SHA-256 kernel table, run-time choice of the best supported kernel
// (STYLE.md §4) and the one-shot sha256() (FIPS 180-4 §5.1.1 padding, §6.2 hashing).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <span>
#include <string_view>

#include "cpu/cpu.hpp"
#include "cpu/dispatch.hpp"
#include "crypto/sha256.hpp"
#include "crypto/sha256_blocks.hpp"

namespace mintlane::crypto {
namespace {

// Best first. "openssl" before "generic": OpenSSL runs its own SHA-NI or AVX2 block code
// (42 ns per block here) where the portable rounds take several times that.
constexpr Sha256Kernel kKernels[] = {
    {"shani", cpu::kShaNi, sha256_compress_shani},
    {"openssl", cpu::kNone, sha256_compress_openssl},
    {"generic", cpu::kNone, sha256_compress_generic},  // always last
};

// Release/acquire pairs the pointer with the (constant) entry it points to; racing first
// calls store the same pointer, so no compare-exchange is needed. Both are plain moves on x86.
std::atomic<const Sha256Kernel*> g_active{nullptr};

}  // namespace

std::span<const Sha256Kernel> sha256_kernels() noexcept { return kKernels; }

const Sha256Kernel& sha256_active() noexcept { return cpu::active_kernel(sha256_kernels(), g_active); }

bool sha256_force(std::string_view name) noexcept { return cpu::force_kernel(sha256_kernels(), g_active, name); }

void sha256(const std::uint8_t* data, std::size_t n, std::uint8_t out[32]) noexcept {
  std::uint32_t st[8];
  std::memcpy(st, kSha256Init, sizeof st);
  detail::sha256_finish(sha256_active().compress, st, data, n, 0, out);
}

}  // namespace mintlane::crypto
