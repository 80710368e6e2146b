// compress_fast_kernels.hpp - shared pieces of the fixed-Huffman encoder (RFC 1951 §3.2.5-3.2.6): code tables, bit writer, match table, kernels (private).
// A kernel writes every symbol of one fixed-Huffman block except the block header and the
// end-of-block code; compress_fast.cpp adds those, the zlib wrapper and the stored fallback.
// All kernels make the same matching decisions with the same hash, so their output is identical
// byte for byte (tests compare them); they differ only in how they compute and pack the codes.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace mintlane::deflate::fixed {

// The bit buffer is stored and the input is hashed with plain (little-endian) loads and stores.
static_assert(std::endian::native == std::endian::little, "x86-64 engine: little-endian only");

inline constexpr std::size_t kMinMatch = 4;  // hash and verify 4 bytes (3-byte matches rarely pay here)
inline constexpr std::size_t kMaxMatch = 258;
inline constexpr std::uint32_t kWindow = 32768;
inline constexpr unsigned kMinHashBits = 11;
inline constexpr unsigned kMaxHashBits = 14;

// ---- codes -------------------------------------------------------------------------------------

// Deflate sends Huffman codes most significant bit first inside an LSB-first bit stream, so every
// code is kept bit-reversed and can be OR-ed into the bit buffer as is.
constexpr std::uint32_t reverse_bits(std::uint32_t code, unsigned len) {
  std::uint32_t r = 0;
  for (unsigned i = 0; i < len; ++i) r |= ((code >> i) & 1u) << (len - 1 - i);
  return r;
}

// A code ready for the bit buffer: bits (Huffman code reversed, then any extra bits) and count.
struct Code {
  std::uint32_t bits;
  std::uint32_t len;
};

// Fixed literal/length code: 0-143 -> 8 bits from 0x30, 144-255 -> 9 bits from 0x190,
// 256-279 -> 7 bits from 0, 280-287 -> 8 bits from 0xc0.
constexpr Code fixed_litlen(unsigned sym) {
  if (sym < 144) return {reverse_bits(0x30 + sym, 8), 8};
  if (sym < 256) return {reverse_bits(0x190 + sym - 144, 9), 9};
  if (sym < 280) return {reverse_bits(sym - 256, 7), 7};
  return {reverse_bits(0xc0 + sym - 280, 8), 8};
}

inline constexpr Code kEndOfBlock = fixed_litlen(256);

struct LiteralTable {
  Code code[256];
};
constexpr LiteralTable make_literal_table() {
  LiteralTable t{};
  for (unsigned b = 0; b < 256; ++b) t.code[b] = fixed_litlen(b);
  return t;
}
inline constexpr LiteralTable kLiterals = make_literal_table();

// Length symbol, its extra bits and their value for every match length 3..258, as one code.
struct LengthTable {
  Code code[kMaxMatch + 1];
};
constexpr LengthTable make_length_table() {
  constexpr unsigned kBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                  31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
  constexpr unsigned kExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                   2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  LengthTable t{};
  for (unsigned len = 3; len <= kMaxMatch; ++len) {
    unsigned s = 28;
    while (kBase[s] > len) --s;
    const Code c = fixed_litlen(257 + s);
    t.code[len] = {c.bits | ((len - kBase[s]) << c.len), c.len + kExtra[s]};
  }
  return t;
}
inline constexpr LengthTable kLengths = make_length_table();

struct Reversed5 {
  std::uint8_t code[32];
};
constexpr Reversed5 make_reversed5() {
  Reversed5 t{};
  for (unsigned s = 0; s < 32; ++s) t.code[s] = static_cast<std::uint8_t>(reverse_bits(s, 5));
  return t;
}
inline constexpr Reversed5 kDistanceSymbols = make_reversed5();

// Fixed distance code for d in 1..32768: the 5-bit symbol itself, then extra bits. With
// x = d - 1 >= 4 and k = floor(log2 x), the symbol is 2k + bit (k - 1) of x and the k - 1 low bits
// of x are the extra bits (the RFC 1951 §3.2.5 table in closed form).
inline Code distance_code(std::uint32_t d) noexcept {
  const std::uint32_t x = d - 1;
  if (x < 4) return {kDistanceSymbols.code[x], 5};
  const unsigned k = static_cast<unsigned>(std::bit_width(x)) - 1;
  const std::uint32_t sym = 2 * k + ((x >> (k - 1)) & 1u);
  const std::uint32_t extra = x & ((1u << (k - 1)) - 1);
  return {kDistanceSymbols.code[sym] | (extra << 5), 5 + (k - 1)};
}

// ---- memory helpers ------------------------------------------------------------------------------

inline std::uint32_t load32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline std::uint64_t load64(const void* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Length of the common prefix of a and b, at most max.
inline std::size_t match_length(const std::uint8_t* a, const std::uint8_t* b, std::size_t max) noexcept {
  std::size_t len = 0;
  while (len + 8 <= max) {
    const std::uint64_t x = load64(a + len) ^ load64(b + len);
    if (x != 0) return len + static_cast<std::size_t>(std::countr_zero(x) >> 3);
    len += 8;
  }
  while (len < max && a[len] == b[len]) ++len;
  return len;
}

// A match found at position i (even) with the earlier copy dist bytes back: its start (i, or
// i - 1 when the bytes before both copies agree and i - 1 is not coded yet) and its length.
struct Found {
  std::size_t start;
  std::size_t len;
};
inline Found extend_match(const std::uint8_t* in, std::size_t n, std::size_t i, std::uint32_t dist,
                          std::size_t lit) noexcept {
  const std::size_t c = i - dist;
  const std::size_t max = n - i < kMaxMatch ? n - i : kMaxMatch;
  std::size_t len = kMinMatch + match_length(in + c + kMinMatch, in + i + kMinMatch, max - kMinMatch);
  std::size_t start = i;
  if (i > lit && c > 0 && in[c - 1] == in[i - 1] && len < kMaxMatch) {
    --start;
    ++len;
  }
  return {start, len};
}

// ---- bit writer ----------------------------------------------------------------------------------

// LSB-first bit writer. At most 56 bits may be put between two flushes (count <= 7 after a flush;
// 64 pending bits would make the flush shift by 64).
// flush() writes the whole bytes with one 8-byte store while 8 bytes of room remain; closer to
// `end` it writes byte by byte and records an overflow rather than write past `end`.
class BitWriter {
 public:
  BitWriter(std::uint8_t* p, std::uint8_t* end) noexcept : p_(p), end_(end) {}

  void put(std::uint64_t bits, std::uint32_t len) noexcept {
    buf_ |= bits << count_;
    count_ += len;
  }
  void flush() noexcept {
    if (end_ - p_ >= 8) [[likely]] {
      flush_fast();
    } else {
      flush_careful();
    }
  }
  // True when `bytes` more bytes can be written: then up to bytes - 8 bytes of symbols can go
  // through put64() and flush_fast() without checks.
  bool room(std::ptrdiff_t bytes) const noexcept { return end_ - p_ >= bytes; }
  void flush_fast() noexcept {
    std::memcpy(p_, &buf_, 8);
    p_ += count_ >> 3;
    buf_ >>= count_ & ~7u;
    count_ &= 7;
  }
  // Exactly 64 bits at once: a run of eight 8-bit literal codes. Needs count <= 7 (true after a
  // flush) and 8 bytes of room; the bits that do not fit the stored word stay in the buffer.
  void put64(std::uint64_t bits) noexcept {
    const std::uint64_t word = buf_ | (bits << count_);
    std::memcpy(p_, &word, 8);
    p_ += 8;
    buf_ = (bits >> 1) >> (63 - count_);  // bits >> (64 - count), and 0 when count == 0
  }
  // Pads the last partial byte with zero bits and writes everything out.
  void finish() noexcept {
    count_ = (count_ + 7) & ~7u;
    flush_careful();
  }
  bool overflow() const noexcept { return overflow_; }
  std::uint8_t* pos() const noexcept { return p_; }

 private:
  void flush_careful() noexcept {
    for (; count_ >= 8; count_ -= 8, buf_ >>= 8) {
      if (p_ == end_) {
        overflow_ = true;  // the output is abandoned; keep count small so later puts stay defined
        buf_ = 0;
        count_ = 0;
        return;
      }
      *p_++ = static_cast<std::uint8_t>(buf_);
    }
  }

  std::uint8_t* p_;
  std::uint8_t* end_;
  std::uint64_t buf_ = 0;
  std::uint32_t count_ = 0;
  bool overflow_ = false;
};

// ---- match finder --------------------------------------------------------------------------------

// What a kernel needs to find matches: slot[] maps a 4-byte hash to base + position. base grows
// by the input size on every call, so entries left by earlier calls are below base and read as
// positions >= 2^32 - base, never as an earlier position of this input: no clearing per call, and
// the output depends on the input only. slot == nullptr means "literals only".
struct MatchContext {
  std::uint32_t* slot;
  std::uint32_t base;
  unsigned shift;  // 32 - hash bits
};

inline std::uint32_t hash4(std::uint32_t v, unsigned shift) noexcept { return (v * 2654435761u) >> shift; }

// Length code then distance code: at most 13 + 18 bits, one flush.
inline void put_match(BitWriter& w, std::size_t len, std::uint32_t dist) noexcept {
  const Code lc = kLengths.code[len];
  const Code dc = distance_code(dist);
  w.put(lc.bits, lc.len);
  w.put(dc.bits, dc.len);
  w.flush();
}

// ---- kernels -------------------------------------------------------------------------------------

// Writes the symbols for in[0..n) into w (no block header, no end-of-block). Thread-safe given a
// per-thread MatchContext.
using EncodeFn = void (*)(const std::uint8_t* in, std::size_t n, const MatchContext& m, BitWriter& w) noexcept;

void encode_scalar(const std::uint8_t* in, std::size_t n, const MatchContext& m, BitWriter& w) noexcept;
void encode_avx2(const std::uint8_t* in, std::size_t n, const MatchContext& m, BitWriter& w) noexcept;

struct Kernel {
  const char* name;        // "avx2" (AVX2 + BMI2), "scalar"
  std::uint32_t required;  // cpu::Feature bits
  EncodeFn encode;
};

// Every kernel compiled in, best first; "scalar" is always last.
std::span<const Kernel> kernels() noexcept;
// The kernel compress_fast() uses: the best supported one unless force() chose another.
const Kernel& active() noexcept;
// Selects a kernel by name (tests, benchmarks); false and no change when unknown or unsupported.
bool force(std::string_view name) noexcept;

}  // namespace mintlane::deflate::fixed
