// adler32.cpp - scalar Adler-32 (RFC 1950 §8.2, §9; zlib adler32.c's NMAX bound) and the kernel dispatch.
#include <atomic>

#include "cpu/cpu.hpp"
#include "cpu/dispatch.hpp"
#include "deflate/adler32_kernels.hpp"
#include "deflate/deflate.hpp"

namespace mintlane::deflate {
namespace {

// Largest n such that 255 n (n + 1) / 2 + (n + 1) (kAdlerMod - 1) fits in 32 bits: the sums can run
// this many bytes between two reductions (zlib's NMAX).
constexpr std::size_t kNmax = 5552;

constexpr Adler32Kernel kKernels[] = {
    {"avx2", cpu::kAvx2, adler32_avx2},
    {"scalar", cpu::kNone, adler32_scalar},  // always last: the fallback
};

// Racing first calls compute the same kernel, and the pointee is a constant table entry, so a
// relaxed pointer publication suffices (nothing else is published through it).
std::atomic<const Adler32Kernel*> g_active{nullptr};

}  // namespace

std::uint32_t adler32_scalar(std::uint32_t adler, const std::uint8_t* p, std::size_t n) noexcept {
  std::uint32_t s1 = adler & 0xffff, s2 = adler >> 16;
  while (n > 0) {
    std::size_t chunk = n < kNmax ? n : kNmax;
    n -= chunk;
    // Four bytes per step keeps the two dependency chains short without changing the result.
    for (; chunk >= 4; chunk -= 4, p += 4) {
      s1 += p[0]; s2 += s1;
      s1 += p[1]; s2 += s1;
      s1 += p[2]; s2 += s1;
      s1 += p[3]; s2 += s1;
    }
    for (; chunk > 0; --chunk) {
      s1 += *p++;
      s2 += s1;
    }
    s1 %= kAdlerMod;
    s2 %= kAdlerMod;
  }
  return (s2 << 16) | s1;
}

std::span<const Adler32Kernel> adler32_kernels() noexcept { return kKernels; }

const Adler32Kernel& adler32_active() noexcept { return cpu::active_kernel(adler32_kernels(), g_active); }

bool adler32_force(std::string_view name) noexcept { return cpu::force_kernel(adler32_kernels(), g_active, name); }

std::uint32_t adler32(std::uint32_t adler, const std::uint8_t* data, std::size_t n) noexcept {
  return adler32_active().fn(adler, data, n);
}

}  // namespace mintlane::deflate
