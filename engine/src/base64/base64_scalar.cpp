// base64_scalar.cpp - portable base64 encode/decode: the specification, tail handler and fallback
// (RFC 4648 §4 standard alphabet with '=' padding; the 12-bit pair table and the shifted 32-bit
// decode tables follow Nick Galbreath's modp_b64, as vendored in Chromium).
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "base64/base64.hpp"

namespace mintlane::base64 {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xff;

// Two output characters per 12 input bits: one table load and one 2-byte store replace two
// 6-bit lookups, which halves the loads and stores of the naive loop.
constexpr auto kPairs = [] {
  std::array<std::array<char, 2>, 4096> t{};
  for (std::size_t v = 0; v < t.size(); ++v) t[v] = {kAlphabet[v >> 6], kAlphabet[v & 63]};
  return t;
}();

// ASCII -> sextet, kInvalid for anything outside the alphabet (including '=').
constexpr auto kSextet = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(kInvalid);
  for (std::uint8_t v = 0; v < 64; ++v) t[static_cast<unsigned char>(kAlphabet[v])] = v;
  return t;
}();

// ASCII -> sextet already shifted into its place in the 24-bit group. An invalid character
// sets bit 24, which no valid group reaches, so a quad costs four loads, three ORs and one
// compare instead of four validity tests and three shifts.
constexpr std::uint32_t kBadBit = 1u << 24;
constexpr std::array<std::uint32_t, 256> shifted_table(unsigned shift) {
  std::array<std::uint32_t, 256> t{};
  for (std::size_t c = 0; c < t.size(); ++c)
    t[c] = kSextet[c] == kInvalid ? kBadBit : static_cast<std::uint32_t>(kSextet[c]) << shift;
  return t;
}
constexpr auto kD0 = shifted_table(18);
constexpr auto kD1 = shifted_table(12);
constexpr auto kD2 = shifted_table(6);
constexpr auto kD3 = shifted_table(0);

inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}

inline void put_pair(char* out, std::uint32_t twelve_bits) noexcept {
  std::memcpy(out, kPairs[twelve_bits].data(), 2);
}

// The first fault at or after `from`, in input order. '=' is legal only as the last character
// or as the last two; anywhere else it is a padding fault, every other non-alphabet byte a
// character fault. Returns kOk when [from, n) holds no such fault.
Result first_fault(const std::uint8_t* s, std::size_t n, std::size_t from) noexcept {
  for (std::size_t j = from; j < n; ++j) {
    if (kSextet[s[j]] != kInvalid) continue;
    if (s[j] != '=') return {Errc::kBadBase64Char, j};
    if (j == n - 1 || (j == n - 2 && s[n - 1] == '=')) continue;
    return {Errc::kBadBase64Padding, j};
  }
  return {};
}

}  // namespace

std::size_t encode_scalar(const std::uint8_t* in, std::size_t n, char* out) noexcept {
  std::size_t i = 0;
  char* o = out;
  // Reads 8 bytes, consumes 6: one unaligned load feeds four pair lookups.
  for (; n - i >= 8; i += 6, o += 8) {
    const std::uint64_t w = load_be64(in + i);
    put_pair(o + 0, static_cast<std::uint32_t>(w >> 52) & 0xfff);
    put_pair(o + 2, static_cast<std::uint32_t>(w >> 40) & 0xfff);
    put_pair(o + 4, static_cast<std::uint32_t>(w >> 28) & 0xfff);
    put_pair(o + 6, static_cast<std::uint32_t>(w >> 16) & 0xfff);
  }
  for (; n - i >= 3; i += 3, o += 4) {
    const std::uint32_t w = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    put_pair(o + 0, w >> 12);
    put_pair(o + 2, w & 0xfff);
  }
  if (n - i == 1) {
    const std::uint32_t w = std::uint32_t{in[i]} << 4;  // 8 bits + 4 zero bits = 2 characters
    put_pair(o, w);
    o[2] = '=';
    o[3] = '=';
    o += 4;
  } else if (n - i == 2) {
    const std::uint32_t w = (std::uint32_t{in[i]} << 8) | in[i + 1];  // 16 bits + 2 zero bits
    put_pair(o, w >> 4);
    o[2] = kAlphabet[(w << 2) & 63];
    o[3] = '=';
    o += 4;
  }
  return static_cast<std::size_t>(o - out);
}

Result decode_scalar(const char* in, std::size_t n, std::uint8_t* out) noexcept {
  if (n % 4 != 0) return {Errc::kBadBase64Length, n};
  if (n == 0) return {};
  const auto* s = reinterpret_cast<const std::uint8_t*>(in);
  std::size_t i = 0, o = 0;
  // Every quad but the last is padding-free, and at least one output byte follows it, so the
  // 4-byte store (3 data bytes + 1 byte the next quad overwrites) stays inside the output.
  for (const std::size_t body = n - 4; i < body; i += 4, o += 3) {
    const std::uint32_t v = kD0[s[i]] | kD1[s[i + 1]] | kD2[s[i + 2]] | kD3[s[i + 3]];
    if (v >= kBadBit) return first_fault(s, n, i);
    store_be32(out + o, v << 8);
  }
  // The last quad may end in "=" or "==": check its characters in order first, so the offset
  // reported is that of the first fault, then the bits the padding says are unused.
  if (const Result fault = first_fault(s, n, i); !fault.ok()) return fault;
  const std::size_t pad = s[n - 1] != '=' ? 0 : s[n - 2] != '=' ? 1 : 2;
  const std::uint32_t a = kSextet[s[i]], b = kSextet[s[i + 1]];
  const std::uint32_t c = pad == 2 ? 0 : kSextet[s[i + 2]];
  const std::uint32_t d = pad >= 1 ? 0 : kSextet[s[i + 3]];
  if (pad == 2 && (b & 0x0f) != 0) return {Errc::kBadBase64Padding, n - 3};
  if (pad == 1 && (c & 0x03) != 0) return {Errc::kBadBase64Padding, n - 2};
  const std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
  out[o++] = static_cast<std::uint8_t>(v >> 16);
  if (pad < 2) out[o++] = static_cast<std::uint8_t>(v >> 8);
  if (pad < 1) out[o++] = static_cast<std::uint8_t>(v);
  return {Errc::kOk, o};
}

}  // namespace mintlane::base64
