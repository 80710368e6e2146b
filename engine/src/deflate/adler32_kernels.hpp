// adler32_kernels.hpp - Adler-32 kernels (RFC 1950 §8.2, §9) and their dispatch table (private).
// adler32_scalar is the specification and the fallback; adler32_avx2 must agree with it on every
// input. deflate.hpp's adler32() calls the best kernel cpu::detect() allows, chosen once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace mintlane::deflate {

inline constexpr std::uint32_t kAdlerMod = 65521;  // largest prime below 2^16 (RFC 1950)

// Both continue from `adler` (start with 1) and are thread-safe; `data` may be null when n == 0.
std::uint32_t adler32_scalar(std::uint32_t adler, const std::uint8_t* data, std::size_t n) noexcept;
std::uint32_t adler32_avx2(std::uint32_t adler, const std::uint8_t* data, std::size_t n) noexcept;

using Adler32Fn = std::uint32_t (*)(std::uint32_t, const std::uint8_t*, std::size_t) noexcept;

struct Adler32Kernel {
  const char* name;        // "avx2", "scalar": the names used in tests and benchmark rows
  std::uint32_t required;  // cpu::Feature bits the kernel needs
  Adler32Fn fn;
};

// Every kernel compiled in, best first; "scalar" is always last.
std::span<const Adler32Kernel> adler32_kernels() noexcept;
// The kernel adler32() uses: the best supported one unless adler32_force() chose another.
const Adler32Kernel& adler32_active() noexcept;
// Selects a kernel by name for tests and benchmarks; false (and no change) when unknown or
// unsupported on this CPU.
bool adler32_force(std::string_view name) noexcept;

}  // namespace mintlane::deflate
