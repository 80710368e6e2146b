// sign007_dispatch.cpp - the 007 signature-chain kernel table (TOKEN_FORMAT.md §2.7) and its
// run-time choice, best supported kernel first (STYLE.md §4).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>

#include "cpu/cpu.hpp"
#include "cpu/dispatch.hpp"
#include "crypto/hmac.hpp"
#include "crypto/sign007_kernels.hpp"

namespace mintlane::crypto {
namespace {

// Best first, as measured on Zen 5 with 122-byte messages (bench/bench_crypto.cpp): shani_x3
// ~210 ns per token, shani ~275, openssl ~385 (OpenSSL's own SHA-NI code, but every block goes
// through SHA256_Transform and memory), against ~2,000 for two one-shot HMAC() calls.
constexpr SignKernel kKernels[] = {
    {"shani_x3", cpu::kShaNi, sign007_shani_x3},
    {"shani", cpu::kShaNi, sign007_shani},
    {"openssl", cpu::kNone, sign007_openssl},  // always last
};

// Release/acquire pairs the pointer with the (constant) entry it points to; racing first
// calls store the same pointer, so no compare-exchange is needed.
std::atomic<const SignKernel*> g_active{nullptr};

}  // namespace

std::span<const SignKernel> sign_kernels() noexcept { return kKernels; }

const SignKernel& sign_active() noexcept { return cpu::active_kernel(sign_kernels(), g_active); }

bool sign_force(std::string_view name) noexcept { return cpu::force_kernel(sign_kernels(), g_active, name); }

}  // namespace mintlane::crypto
