// base64_dispatch.cpp - base64 kernel table and run-time selection (table best first as in
// simdutf's implementation list; selection once per process as in libdeflate's dispatch).
#include <atomic>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>

#include "base64/base64.hpp"
#include "cpu/cpu.hpp"
#include "cpu/dispatch.hpp"

namespace mintlane::base64 {
namespace {

// Best first, ranked by bench/bench_base64.cpp on Zen 5 (153 B payload, median CPU time:
// encode 3.6 / 6.9 / 24 ns, decode 6.6 / 12 / 38 ns for avx512vbmi / avx2 / scalar; OpenSSL
// EVP_EncodeBlock 52 ns). The VBMI kernel also needs AVX-512 BW (byte masks, vpmaddubsw on
// zmm), hence both bits.
constexpr Kernel kKernels[] = {
    {"avx512vbmi", cpu::kAvx512Vbmi | cpu::kAvx512Bw, encode_avx512vbmi, decode_avx512vbmi},
    {"avx2", cpu::kAvx2, encode_avx2, decode_avx2},
    {"scalar", cpu::kNone, encode_scalar, decode_scalar},  // always last: runs everywhere
};

// Release on store / acquire on load: a thread that sees the pointer also sees everything the
// storing thread wrote before publishing it. The kernels and the table are constant-initialised,
// so relaxed would do today; acquire/release costs nothing extra on x86 (plain moves) and stays
// correct if a kernel ever gains state set up at run time.
std::atomic<const Kernel*> g_active{nullptr};


}  // namespace

std::span<const Kernel> kernels() noexcept { return kKernels; }

const Kernel& active() noexcept { return cpu::active_kernel(kernels(), g_active); }

bool force(std::string_view name) noexcept { return cpu::force_kernel(kernels(), g_active, name); }

}  // namespace mintlane::base64
