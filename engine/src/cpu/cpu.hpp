// cpu.hpp - x86-64 feature detection for kernel dispatch (CPUID + XCR0).
// Features listed in MINTLANE_DISABLE_CPU_FEATURES (comma separated names as in
// feature_name()) are removed from detect(), so tests and users can force older paths.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mintlane::cpu {

enum Feature : std::uint32_t {
  kNone = 0,
  kSse41 = 1u << 0,
  kAvx2 = 1u << 1,
  kBmi2 = 1u << 2,
  kShaNi = 1u << 3,        // SHA extensions (sha256rnds2 etc.) + SSE4.1
  kAvx512Bw = 1u << 4,     // AVX-512 F+BW+VL, OS-enabled ZMM state
  kAvx512Vbmi = 1u << 5,   // AVX-512 VBMI (vpermb, vpermi2b, vpmultishiftqb)
};

// Hardware features, ignoring MINTLANE_DISABLE_CPU_FEATURES. Thread-safe, cached.
std::uint32_t detect_hardware() noexcept;
// detect_hardware() minus the features disabled by the environment (read once).
std::uint32_t detect() noexcept;
// True when every bit of `required` is in detect().
bool supports(std::uint32_t required) noexcept;
// Lower-case names used in env vars, kernel tables, test ids and bench rows:
// "sse41", "avx2", "bmi2", "shani", "avx512bw", "avx512vbmi".
const char* feature_name(Feature f) noexcept;
// Comma-separated names of the features in `mask`.
std::string describe(std::uint32_t mask);
// Parses a comma-separated list of feature names; unknown names are ignored.
std::uint32_t parse_feature_list(std::string_view list) noexcept;

}  // namespace mintlane::cpu
