// template_plan_kernels.hpp - the compiled form of a TemplatePlan (a program of ops) and its kernel table (private).
// make() (template_plan.cpp) turns a layout into ops; a kernel runs them for one payload. Every
// kernel runs the same program through template_plan_program.inc and differs only in how it codes
// hole bytes as literals, so all write identical bytes (tests compare them with the scalar one).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "deflate/template_plan.hpp"

namespace mintlane::deflate::plan {

// Segments are the stretches between length-prefixed holes: offsets inside one are the same in
// every payload. The program records where each of the first kMaxSegments starts (segment 0 at 0)
// so that back-references into them can be resolved per payload; make() never refers to a later one.
inline constexpr std::size_t kMaxSegments = 16;
// Bit strings are stored LSB first in 64-bit words (a partial last word has zeros above its bits).

struct Op {
  enum class Kind : std::uint8_t {
    kBits,            // copy nbits bits from words[word..]; the payload's next `bytes` bytes are constant
    kLiterals,        // code the next `bytes` payload bytes (a fixed hole) as literals
    kPrefixedLiterals,  // read u16 L, code the 2 + L bytes as literals
    kMatch,           // `bytes` constant bytes equal to those at (segment src_seg, offset src): one
                      // back-reference whose distance is known per payload (literals if > 32 KiB)
    kRepeatFixed,     // a `bytes`-byte hole that usually repeats the hole at (src_seg, src)
    kRepeatPrefixed,  // a length-prefixed hole that usually repeats the one at (src_seg, src)
  };
  Kind kind = Kind::kBits;
  std::uint8_t src_seg = 0;   // kMatch, kRepeat*: the source's segment
  std::uint8_t next_seg = 0;  // k*Prefixed*: the segment that starts after it (recorded if < kMaxSegments)
  std::uint32_t bytes = 0;    // payload bytes the op covers (0 for length-prefixed holes: read per payload)
  std::uint32_t word = 0;     // kBits: index of its first word
  std::uint32_t nbits = 0;    // kBits: bit count
  std::uint32_t src = 0;      // kMatch, kRepeat*: offset of the source in its segment
  // k*Prefixed*: payload bytes every layout has after this hole. Checking 2 + L + rest <= bytes
  // left (with n >= min_payload() at the start) proves that every later fixed-size op fits, so
  // only these ops check lengths, and the output never exceeds max_compressed(n).
  std::uint32_t rest = 0;
  std::uint32_t at = 0;       // kBits, kMatch: offset of the constant bytes in constants()
  // kBits, kMatch: what the constant bytes c[0..m) add to Adler-32 (RFC 1950 §8.2), all mod 65521:
  // s1 += sum c, s2 += m * s1 + sum (m - k) c[k]. m itself is kept mod 65521 as bytes_mod.
  std::uint32_t adler_sum = 0, adler_weighted = 0, bytes_mod = 0;
};

// Runs the plan's program for one payload (the contract of TemplatePlan::compress). The program
// is plain data, so it is the same whichever kernel runs it.
using CompressFn = Result (*)(const TemplatePlan& plan, const std::uint8_t* payload, std::size_t n,
                              std::uint8_t* out, std::size_t cap) noexcept;

Result compress_scalar(const TemplatePlan& plan, const std::uint8_t* payload, std::size_t n, std::uint8_t* out,
                       std::size_t cap) noexcept;
Result compress_avx2(const TemplatePlan& plan, const std::uint8_t* payload, std::size_t n, std::uint8_t* out,
                     std::size_t cap) noexcept;

struct Kernel {
  const char* name;        // "avx2" (AVX2 + BMI2), "scalar"
  std::uint32_t required;  // cpu::Feature bits
  CompressFn compress;
};

// Every kernel compiled in, best first; "scalar" is always last.
std::span<const Kernel> kernels() noexcept;
// The kernel TemplatePlan::compress uses: the best supported one unless force() chose another.
const Kernel& active() noexcept;
// Selects a kernel by name (tests, benchmarks); false and no change when unknown or unsupported.
bool force(std::string_view name) noexcept;

}  // namespace mintlane::deflate::plan
