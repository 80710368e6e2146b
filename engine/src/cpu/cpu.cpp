// cpu.cpp - CPUID/XGETBV feature detection (Intel SDM vol. 2A "CPUID"; libdeflate x86 cpu_features.c).
#include "cpu/cpu.hpp"

#include <cpuid.h>

#include <atomic>
#include <cstdlib>

namespace mintlane::cpu {
namespace {

struct Name {
  Feature feature;
  const char* name;
};
constexpr Name kNames[] = {
    {kSse41, "sse41"},   {kAvx2, "avx2"},         {kBmi2, "bmi2"},
    {kShaNi, "shani"},   {kAvx512Bw, "avx512bw"}, {kAvx512Vbmi, "avx512vbmi"},
};

std::uint64_t read_xcr0() noexcept {
  std::uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<std::uint64_t>(edx) << 32) | eax;
}

std::uint32_t probe() noexcept {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0, &a, &b, &c, &d) == 0) return kNone;
  const unsigned max_leaf = a;
  __cpuid(1, a, b, c, d);
  const bool sse41 = (c >> 19) & 1;
  const bool osxsave = (c >> 27) & 1;
  const bool avx = (c >> 28) & 1;
  std::uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const bool ymm_ok = (xcr0 & 0x6) == 0x6;      // XMM + YMM state
  const bool zmm_ok = (xcr0 & 0xe6) == 0xe6;    // + opmask, ZMM_Hi256, Hi16_ZMM
  std::uint32_t f = kNone;
  if (sse41) f |= kSse41;
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    if (avx && ymm_ok && ((b >> 5) & 1)) f |= kAvx2;
    if ((b >> 8) & 1) f |= kBmi2;
    if (sse41 && ((b >> 29) & 1)) f |= kShaNi;
    const bool avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    if (zmm_ok && avx512f && avx512bw && avx512vl) {
      f |= kAvx512Bw;
      if ((c >> 1) & 1) f |= kAvx512Vbmi;
    }
  }
  return f;
}

// Racing threads compute the same value, so relaxed order suffices.
std::atomic<std::uint32_t> g_hw{0xffffffffu};
std::atomic<std::uint32_t> g_effective{0xffffffffu};

}  // namespace

std::uint32_t detect_hardware() noexcept {
  std::uint32_t v = g_hw.load(std::memory_order_relaxed);
  if (v == 0xffffffffu) {
    v = probe();
    g_hw.store(v, std::memory_order_relaxed);
  }
  return v;
}

std::uint32_t detect() noexcept {
  std::uint32_t v = g_effective.load(std::memory_order_relaxed);
  if (v == 0xffffffffu) {
    v = detect_hardware();
    if (const char* env = std::getenv("MINTLANE_DISABLE_CPU_FEATURES")) v &= ~parse_feature_list(env);
    g_effective.store(v, std::memory_order_relaxed);
  }
  return v;
}

bool supports(std::uint32_t required) noexcept { return (detect() & required) == required; }

const char* feature_name(Feature f) noexcept {
  for (const Name& n : kNames)
    if (n.feature == f) return n.name;
  return "none";
}

std::string describe(std::uint32_t mask) {
  std::string out;
  for (const Name& n : kNames) {
    if ((mask & n.feature) == 0) continue;
    if (!out.empty()) out += ',';
    out += n.name;
  }
  return out;
}

std::uint32_t parse_feature_list(std::string_view list) noexcept {
  std::uint32_t mask = 0;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    for (const Name& n : kNames)
      if (item == n.name) mask |= n.feature;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return mask;
}

}  // namespace mintlane::cpu
