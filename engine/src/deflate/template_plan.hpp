// template_plan.hpp - zlib streams (one fixed-Huffman block) for payloads that share a layout: the LZ77 parse and Huffman bits of the constant bytes are computed once per layout.
// RFC 1950 (zlib header, Adler-32), RFC 1951 §3.2.5-3.2.6 (fixed Huffman codes, back-references).
// Every token of a batch has the same payload bytes except a few holes (the signature, the salt,
// per-token strings), so the generic encoder's work (hashing, match search, code lookup; ~160 ns on
// a 156-byte token, PERF_NOTES) is redone for identical bytes on every token. A plan parses the
// constant bytes once, optimally, and keeps their codes as ready bit strings; per payload it only
// codes the hole bytes as literals, copies the bit strings at the current bit offset, and folds the
// constant bytes into the Adler-32 through precomputed sums.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mintlane/errors.hpp"

namespace mintlane::deflate {

// One piece of a payload layout, in payload order.
struct PlanPart {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  enum class Kind : std::uint8_t {
    kConstant,            // `bytes`, the same in every payload
    kFixedHole,           // `length` bytes that vary (a signature, a salt)
    kLengthPrefixedHole,  // a u16 little-endian length L, then L bytes that vary (a uid, a channel)
  };
  Kind kind = Kind::kConstant;
  std::string bytes;       // kConstant only
  // kFixedHole: its byte count. kLengthPrefixedHole: the usual L, used only to estimate the cost
  // of back-references that cross the hole (any L from 0 to 65535 is accepted per payload).
  std::size_t length = 0;
  // Holes only: the index (in the parts vector) of an earlier hole of the same kind (and, for fixed
  // holes, the same length) that this one usually repeats, such as a user id present in two
  // services. compress() checks each payload and codes the repeat as back-references when the
  // bytes are equal, as literals otherwise. kNone: no hint.
  std::size_t same_as = kNone;

  static PlanPart constant(std::string_view b) { return {Kind::kConstant, std::string(b), 0, kNone}; }
  static PlanPart fixed_hole(std::size_t n, std::size_t same_as = kNone) {
    return {Kind::kFixedHole, {}, n, same_as};
  }
  static PlanPart prefixed_hole(std::size_t usual_length = 0, std::size_t same_as = kNone) {
    return {Kind::kLengthPrefixedHole, {}, usual_length, same_as};
  }
};

namespace plan {
struct Op;  // template_plan_kernels.hpp: one step of the per-payload program
}

// The compiled form of a layout. Immutable after make(): compress() may run on many threads at once.
class TemplatePlan {
 public:
  // Parses the constant bytes (matches may reach back across fixed holes, whose size never changes,
  // and across length-prefixed holes through distances computed per payload) and compiles the
  // per-payload program. The stream of a payload depends on the parts and the payload only. Throws
  // std::invalid_argument when a same_as hint does not name an earlier hole of the same kind and
  // size, or a part is 2^32 bytes or longer. Costs O(constant bytes) with a bounded match search:
  // ~5 µs for a token layout, so build one per layout, not per token.
  static TemplatePlan make(const std::vector<PlanPart>& parts);

  // The same plan for payloads whose holes values[k] (indexed like make()'s parts; nullopt: still
  // varies) always hold the given bytes (for a length-prefixed hole: the bytes after the prefix).
  // It writes exactly the bytes this plan writes for such payloads, with less work per payload
  // (the known bytes are coded once, here), so a caller may use either one. Throws
  // std::invalid_argument when values.size() differs from the parts' count, names a part that is
  // not a hole, or has a fixed hole's value of another size.
  TemplatePlan specialize(const std::vector<std::optional<std::string_view>>& values) const;

  TemplatePlan();
  ~TemplatePlan();
  TemplatePlan(TemplatePlan&&) noexcept;
  TemplatePlan& operator=(TemplatePlan&&) noexcept;

  // The largest stream compress() writes for an n-byte payload of this layout (each hole byte
  // counted as a 9-bit literal). Never above compress_bound(n).
  std::size_t max_compressed(std::size_t payload_len) const noexcept;
  // Bytes every payload has at least (constant bytes, fixed holes, 2 per length prefix).
  std::size_t min_payload() const noexcept { return program_.min_payload; }

  // Writes one complete zlib stream of payload[0..n) to out[0..cap): header 78 01, one final
  // fixed-Huffman block, big-endian Adler-32. Returns {kOk, bytes written}, or {kOutputTooSmall, 0}
  // when cap is short (cap >= max_compressed(n) is always enough; with 8 bytes more the encoder
  // writes whole words without checks). The payload must follow the parts: constant parts equal
  // to the plan's bytes (the caller's contract, checked by assert() in debug builds only: the
  // stream always inflates to the payload when it holds). Lengths are checked in every build: a
  // length prefix that runs past n, or a payload longer or shorter than its layout, returns
  // {kInternal, offset of the fault}, having read nothing outside payload[0..n) and written
  // nothing outside out[0..cap). Thread-safe; no allocation.
  Result compress(const std::uint8_t* payload, std::size_t n, std::uint8_t* out, std::size_t cap) const noexcept;

  // The same with a kernel chosen by name (tests, benchmarks): {kInternal, 0} if the kernel is
  // unknown or unsupported on this CPU.
  Result compress_with(std::string_view kernel, const std::uint8_t* payload, std::size_t n, std::uint8_t* out,
                       std::size_t cap) const noexcept;

  // Bits of the stream that do not depend on the payload (header, constant bytes, end of block),
  // and the payload bytes they cover: what the bound and the tests reason about.
  std::size_t constant_bits() const noexcept { return program_.constant_bits; }
  std::size_t constant_bytes() const noexcept { return program_.constant_bytes; }

  // Internal: the compiled program, built by template_plan.cpp and run by the kernels.
  struct Program {
    std::vector<plan::Op> ops;
    std::vector<std::uint64_t> words;  // every bit string, LSB first
    std::string constants;             // constant bytes in payload order (Adler-32 terms, debug check)
    std::size_t constant_bits = 0, constant_bytes = 0, min_payload = 0;
  };
  std::span<const plan::Op> ops() const noexcept;
  const std::uint64_t* words() const noexcept { return program_.words.data(); }
  const char* constants() const noexcept { return program_.constants.data(); }

 private:
  Program program_;
  std::vector<std::uint32_t> hole_ops_;  // by part index: the op that reads that hole (or none)
};

}  // namespace mintlane::deflate
