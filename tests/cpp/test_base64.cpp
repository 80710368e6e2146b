// test_base64.cpp - base64 kernels against RFC 4648 §10 vectors, an independent bit-by-bit
// reference and the scalar kernel, next to guard pages (simdutf per-implementation tests;
// libdeflate guard-page buffers).
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base64/base64.hpp"
#include "cpu/cpu.hpp"
#include "support/guarded_buffer.hpp"

namespace {

using mintlane::Errc;
using mintlane::Result;
using mintlane::base64::Kernel;
using mintlane::test::GuardedBuffer;
namespace base64 = mintlane::base64;
namespace cpu = mintlane::cpu;

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr GuardedBuffer::Edge kEdges[] = {GuardedBuffer::Edge::kEnd, GuardedBuffer::Edge::kStart};

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

// ---- independent reference: one bit at a time, no tables shared with the kernels ----------

std::string reference_encode(std::span<const std::uint8_t> in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : in) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

// The decoding rules of base64.hpp, written out directly.
Result reference_decode(std::string_view s, std::vector<std::uint8_t>* out) {
  const std::size_t n = s.size();
  if (n % 4 != 0) return {Errc::kBadBase64Length, n};
  for (std::size_t j = 0; j < n; ++j) {
    if (kAlphabet.find(s[j]) != std::string_view::npos) continue;
    if (s[j] != '=') return {Errc::kBadBase64Char, j};
    if (j == n - 1 || (j == n - 2 && s[n - 1] == '=')) continue;
    return {Errc::kBadBase64Padding, j};
  }
  const std::size_t pad = n == 0 ? 0 : s[n - 1] != '=' ? 0 : s[n - 2] != '=' ? 1 : 2;
  std::uint32_t acc = 0;
  int bits = 0;
  out->clear();
  for (std::size_t j = 0; j < n - pad; ++j) {
    acc = (acc << 6) | static_cast<std::uint32_t>(kAlphabet.find(s[j]));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return {Errc::kBadBase64Padding, n - pad - 1};
  return {Errc::kOk, out->size()};
}

std::size_t decoded_size(std::string_view s) {
  if (s.size() < 4 || s.size() % 4 != 0) return s.size() / 4 * 3;
  return s.size() / 4 * 3 - (s[s.size() - 1] == '=') - (s[s.size() - 2] == '=');
}

// Readable form for assertions: "ok 12", "bad char @5", "bad padding @7", "bad length @3".
std::string show(const Result& r) {
  switch (r.code) {
    case Errc::kOk: return "ok " + std::to_string(r.count);
    case Errc::kBadBase64Char: return "bad char @" + std::to_string(r.count);
    case Errc::kBadBase64Length: return "bad length @" + std::to_string(r.count);
    case Errc::kBadBase64Padding: return "bad padding @" + std::to_string(r.count);
    default: return "errc " + std::to_string(static_cast<int>(r.code)) + " @" + std::to_string(r.count);
  }
}

std::string hex(unsigned char c) {
  constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[c >> 4] + kDigits[c & 15];
}

std::vector<const Kernel*> kernel_pointers() {
  std::vector<const Kernel*> out;
  for (const Kernel& k : base64::kernels()) out.push_back(&k);
  return out;
}

class Base64Kernel : public testing::TestWithParam<const Kernel*> {
 protected:
  void SetUp() override {
    if (!cpu::supports(kernel().required)) GTEST_SKIP() << kernel().name << " not on this CPU";
  }
  const Kernel& kernel() const { return *GetParam(); }

  // Decodes `text` from a guarded copy into a guarded output of exactly `out_size` bytes.
  Result decode(std::string_view text, std::size_t out_size, std::vector<std::uint8_t>* got = nullptr,
                GuardedBuffer::Edge edge = GuardedBuffer::Edge::kEnd) const {
    const GuardedBuffer in(text, edge);
    GuardedBuffer out(out_size, edge);
    const Result r = kernel().decode(in.chars(), in.size(), out.data());
    if (got != nullptr && r.ok()) got->assign(out.data(), out.data() + r.count);
    return r;
  }
};

// ---- RFC 4648 §10 -------------------------------------------------------------------------

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kRfcVectors = {{
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
}};

TEST_P(Base64Kernel, EncodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : kRfcVectors) {
    const GuardedBuffer in(plain);
    GuardedBuffer out(base64::encoded_size(plain.size()));
    ASSERT_EQ(kernel().encode(in.data(), in.size(), out.chars()), encoded.size()) << plain;
    EXPECT_EQ(out.view(), encoded);
  }
}

TEST_P(Base64Kernel, DecodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : kRfcVectors) {
    std::vector<std::uint8_t> got;
    ASSERT_EQ(show(decode(encoded, plain.size(), &got)), show({Errc::kOk, plain.size()})) << encoded;
    EXPECT_EQ(std::string(got.begin(), got.end()), plain);
  }
}

// ---- encode -------------------------------------------------------------------------------

TEST_P(Base64Kernel, EncodeMatchesScalarAtEveryLength) {
  for (std::size_t len = 0; len <= 4 * 64 + 3; ++len) {
    const std::vector<std::uint8_t> data = random_bytes(len, len);
    const std::string want = reference_encode(data);
    for (const GuardedBuffer::Edge edge : kEdges) {
      const GuardedBuffer in(data, edge);
      GuardedBuffer got(base64::encoded_size(len), edge), scalar(base64::encoded_size(len), edge);
      ASSERT_EQ(kernel().encode(in.data(), len, got.chars()), want.size()) << "len=" << len;
      ASSERT_EQ(base64::encode_scalar(in.data(), len, scalar.chars()), want.size()) << "len=" << len;
      ASSERT_EQ(scalar.view(), want) << "scalar len=" << len;
      ASSERT_EQ(got.view(), want) << kernel().name << " len=" << len;
    }
  }
}

TEST_P(Base64Kernel, EncodeMatchesScalarForLargerSizes) {
  for (const std::size_t len : {std::size_t{1000}, std::size_t{4095}, std::size_t{4096}, std::size_t{4097},
                                std::size_t{65535}, std::size_t{65536}, std::size_t{100003}}) {
    const GuardedBuffer in(random_bytes(len, len));
    GuardedBuffer got(base64::encoded_size(len)), want(base64::encoded_size(len));
    ASSERT_EQ(kernel().encode(in.data(), len, got.chars()), got.size()) << "len=" << len;
    base64::encode_scalar(in.data(), len, want.chars());
    ASSERT_EQ(got.view(), want.view()) << kernel().name << " len=" << len;
  }
}

TEST_P(Base64Kernel, EncodeMatchesScalarAtEveryInputAlignment) {
  const std::vector<std::uint8_t> data = random_bytes(4096, 7);
  std::vector<char> got(base64::encoded_size(1024)), want(got.size());
  for (std::size_t offset = 0; offset < 64; ++offset) {
    for (const std::size_t len : {std::size_t{153}, std::size_t{1024}}) {
      kernel().encode(data.data() + offset, len, got.data());
      base64::encode_scalar(data.data() + offset, len, want.data());
      const std::size_t chars = base64::encoded_size(len);
      ASSERT_EQ(std::string_view(got.data(), chars), std::string_view(want.data(), chars))
          << "offset=" << offset << " len=" << len;
    }
  }
}

// ---- decode: valid input ------------------------------------------------------------------

TEST_P(Base64Kernel, DecodeRoundTripsAtEveryLength) {
  for (std::size_t len = 0; len <= 4 * 64 + 3; ++len) {
    const std::vector<std::uint8_t> data = random_bytes(len, 1000 + len);
    const std::string text = reference_encode(data);
    for (const GuardedBuffer::Edge edge : kEdges) {
      std::vector<std::uint8_t> got;
      ASSERT_EQ(show(decode(text, len, &got, edge)), show({Errc::kOk, len})) << kernel().name << " len=" << len;
      ASSERT_EQ(got, data) << kernel().name << " len=" << len;
    }
  }
}

TEST_P(Base64Kernel, DecodeRoundTripsLargerSizes) {
  for (const std::size_t len : {std::size_t{1000}, std::size_t{4096}, std::size_t{65536}, std::size_t{100003}}) {
    const std::vector<std::uint8_t> data = random_bytes(len, len + 5);
    std::vector<std::uint8_t> got;
    ASSERT_EQ(show(decode(reference_encode(data), len, &got)), show({Errc::kOk, len})) << "len=" << len;
    ASSERT_EQ(got, data) << kernel().name << " len=" << len;
  }
}

TEST_P(Base64Kernel, DecodeAcceptsEveryAlphabetCharacterAtEveryPosition) {
  // 256 characters cycling through the alphabet from each of 64 starting points puts every
  // symbol in every lane of every vector width.
  for (std::size_t start = 0; start < 64; ++start) {
    std::string text(256, 'A');
    for (std::size_t j = 0; j < text.size(); ++j) text[j] = kAlphabet[(start + j) % 64];
    std::vector<std::uint8_t> want, got;
    ASSERT_TRUE(reference_decode(text, &want).ok());
    ASSERT_EQ(show(decode(text, want.size(), &got)), show({Errc::kOk, want.size()})) << "start=" << start;
    ASSERT_EQ(got, want) << "start=" << start;
  }
}

// ---- decode: invalid input ----------------------------------------------------------------

// Bytes around every boundary of the alphabet and of the nibble classes the vector kernels use,
// plus '=' (legal only at the end) and bytes with the top bit set.
constexpr unsigned char kBadChars[] = {0x00, '\t', '\n', ' ', '!', '*', ',', '-', '.', ':', '=', '@', '[', '\\',
                                       '_', '`', '{', 0x7f, 0x80, 0xab, 0xc3, 0xef, 0xff};

TEST_P(Base64Kernel, DecodeReportsSameFaultAsScalarForBadCharAtEveryPosition) {
  for (std::size_t len = 1; len <= 3 * 70; ++len) {
    const std::string valid = reference_encode(random_bytes(len, 2000 + len));
    const std::size_t n = valid.size();
    GuardedBuffer in(valid), out(len), scalar_out(len);
    for (std::size_t pos = 0; pos < n; ++pos) {
      for (const unsigned char bad : kBadChars) {
        if (valid[pos] == static_cast<char>(bad)) continue;
        in.chars()[pos] = static_cast<char>(bad);
        std::vector<std::uint8_t> ref_out;
        const Result want = reference_decode(in.view(), &ref_out);
        const Result scalar = base64::decode_scalar(in.chars(), n, scalar_out.data());
        const Result got = kernel().decode(in.chars(), n, out.data());
        ASSERT_EQ(show(scalar), show(want)) << "scalar n=" << n << " pos=" << pos << " char=" << hex(bad);
        ASSERT_EQ(show(got), show(want)) << kernel().name << " n=" << n << " pos=" << pos << " char=" << hex(bad);
      }
      in.chars()[pos] = valid[pos];
    }
  }
}

TEST_P(Base64Kernel, DecodeRejectsEveryNonAlphabetByte) {
  const std::string valid = reference_encode(random_bytes(3 * 80, 99));  // 320 characters
  GuardedBuffer in(valid), out(3 * 80);
  for (int c = 0; c < 256; ++c) {
    const bool in_alphabet = kAlphabet.find(static_cast<char>(c)) != std::string_view::npos;
    for (const std::size_t pos : {0, 1, 2, 3, 15, 16, 31, 32, 33, 47, 63, 64, 100, 127, 128, 191, 200, 255, 256, 300,
                                  316, 317, 318, 319}) {
      in.chars()[pos] = static_cast<char>(c);
      std::vector<std::uint8_t> ref_out;
      const Result want = reference_decode(in.view(), &ref_out);
      if (c != '=') {  // '=' may legally end the text
        ASSERT_EQ(want.ok(), in_alphabet) << hex(static_cast<unsigned char>(c));
      }
      const Result got = kernel().decode(in.chars(), in.size(), out.data());
      ASSERT_EQ(show(got), show(want)) << kernel().name << " pos=" << pos << " char=" << hex(static_cast<unsigned char>(c));
      in.chars()[pos] = valid[pos];
    }
  }
}

struct PaddingCase {
  std::string_view text;
  Errc code;
  std::size_t offset;  // of the fault, or the decoded size when code is kOk
};

constexpr PaddingCase kPaddingCases[] = {
    {"Zg==", Errc::kOk, 1},
    {"Zm8=", Errc::kOk, 2},
    {"Zh==", Errc::kBadBase64Padding, 1},   // 'h' = 33 leaves bits 0001 after "=="
    {"Zm9=", Errc::kBadBase64Padding, 2},   // '9' = 61 leaves bits 01 after "="
    {"Z///", Errc::kOk, 3},
    {"Z===", Errc::kBadBase64Padding, 1},   // a lone sextet cannot make a byte
    {"====", Errc::kBadBase64Padding, 0},
    {"=Zg=", Errc::kBadBase64Padding, 0},
    {"Zg=A", Errc::kBadBase64Padding, 2},   // '=' followed by data
    {"Z=g=", Errc::kBadBase64Padding, 1},
    {"Zg=*", Errc::kBadBase64Padding, 2},   // first fault in input order wins
    {"Z*==", Errc::kBadBase64Char, 1},
    {"Zg==Zg==", Errc::kBadBase64Padding, 2},  // padding mid-stream
    {"Zm9v=A==", Errc::kBadBase64Padding, 4},
    {"Zm9vYg=", Errc::kBadBase64Length, 7},
    {"Zg===", Errc::kBadBase64Length, 5},
    {"Zm9vY", Errc::kBadBase64Length, 5},
};

TEST_P(Base64Kernel, DecodeReportsBadPaddingAtItsOffset) {
  // The same endings after valid prefixes that fill 0..3 vector blocks of each width.
  for (const std::size_t prefix_len : {0, 4, 12, 16, 28, 32, 44, 48, 60, 64, 124, 128, 188, 192, 256}) {
    const std::string prefix = reference_encode(random_bytes(prefix_len / 4 * 3, prefix_len));
    for (const PaddingCase& c : kPaddingCases) {
      const std::string text = prefix + std::string(c.text);
      const std::size_t offset = c.code == Errc::kOk ? prefix.size() / 4 * 3 + c.offset : prefix.size() + c.offset;
      std::vector<std::uint8_t> ref_out;
      ASSERT_EQ(show(reference_decode(text, &ref_out)), show({c.code, offset})) << "reference " << text;
      GuardedBuffer in(text), out(decoded_size(text)), scalar_out(decoded_size(text));
      ASSERT_EQ(show(base64::decode_scalar(in.chars(), in.size(), scalar_out.data())), show({c.code, offset}))
          << "scalar " << c.text << " after " << prefix.size();
      ASSERT_EQ(show(kernel().decode(in.chars(), in.size(), out.data())), show({c.code, offset}))
          << kernel().name << " " << c.text << " after " << prefix.size();
    }
  }
}

TEST_P(Base64Kernel, DecodeRejectsLengthsNotMultipleOfFour) {
  for (std::size_t n = 1; n <= 300; ++n) {
    if (n % 4 == 0) continue;
    for (const char first : {'A', '*', '='}) {  // the length check comes before any other
      std::string text(n, 'A');
      text[0] = first;
      ASSERT_EQ(show(decode(text, n)), show({Errc::kBadBase64Length, n})) << kernel().name << " n=" << n;
    }
  }
}

TEST_P(Base64Kernel, DecodeReportsFirstOfSeveralFaults) {
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 3000; ++iter) {
    const std::size_t len = rng() % 400 + 2;
    std::string text = reference_encode(random_bytes(len, rng()));
    const std::size_t n = text.size();
    const std::size_t faults = rng() % 4 + 2;
    for (std::size_t f = 0; f < faults; ++f) text[rng() % n] = static_cast<char>(kBadChars[rng() % std::size(kBadChars)]);
    std::vector<std::uint8_t> ref_out;
    const Result want = reference_decode(text, &ref_out);
    ASSERT_EQ(show(decode(text, len)), show(want)) << kernel().name << " " << text;
  }
}

TEST_P(Base64Kernel, RandomRoundTripsMatchReference) {
  std::mt19937_64 rng(20240611);
  for (int iter = 0; iter < 2000; ++iter) {
    const std::size_t len = iter < 1000 ? rng() % 300 : rng() % 5000;
    const std::vector<std::uint8_t> data = random_bytes(len, rng());
    const std::string want = reference_encode(data);
    const GuardedBuffer in(data);
    GuardedBuffer text(base64::encoded_size(len));
    ASSERT_EQ(kernel().encode(in.data(), len, text.chars()), want.size());
    ASSERT_EQ(text.view(), want) << kernel().name << " len=" << len;
    std::vector<std::uint8_t> got;
    ASSERT_EQ(show(decode(text.view(), len, &got)), show({Errc::kOk, len})) << kernel().name << " len=" << len;
    ASSERT_EQ(got, data) << kernel().name << " len=" << len;
  }
}

TEST_P(Base64Kernel, RandomTextDecodesLikeReference) {
  // Mostly-alphabet text with occasional '=' and other bytes: whatever the reference says, ok or
  // which fault where, each kernel must say the same.
  std::mt19937_64 rng(77);
  for (int iter = 0; iter < 5000; ++iter) {
    std::string text(rng() % 80 * 4, 'A');
    const std::uint64_t noise = rng() % 200 + 1;  // about one odd byte per `noise` characters
    for (char& ch : text) {
      if (rng() % noise != 0)
        ch = kAlphabet[rng() % 64];
      else
        ch = rng() % 2 ? '=' : static_cast<char>(rng());
    }
    if (!text.empty() && rng() % 2) text.back() = '=';
    if (text.size() > 1 && rng() % 3 == 0) text[text.size() - 2] = '=';
    std::vector<std::uint8_t> want_bytes, got;
    const Result want = reference_decode(text, &want_bytes);
    ASSERT_EQ(show(decode(text, decoded_size(text), &got)), show(want)) << kernel().name << " " << text;
    if (want.ok()) {
      ASSERT_EQ(got, want_bytes);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, Base64Kernel, testing::ValuesIn(kernel_pointers()),
                         [](const testing::TestParamInfo<const Kernel*>& p) { return std::string(p.param->name); });

// ---- dispatch -----------------------------------------------------------------------------

TEST(Base64Dispatch, ListsKernelsBestFirstWithScalarLast) {
  std::vector<std::string> names;
  for (const Kernel& k : base64::kernels()) names.emplace_back(k.name);
  EXPECT_EQ(names, (std::vector<std::string>{"avx512vbmi", "avx2", "scalar"}));
  EXPECT_EQ(base64::kernels().back().required, cpu::kNone);
  EXPECT_EQ(base64::kernels()[0].required, cpu::kAvx512Vbmi | cpu::kAvx512Bw);
  EXPECT_EQ(base64::kernels()[1].required, cpu::kAvx2);
}

TEST(Base64Dispatch, ActiveIsTheBestSupportedKernel) {
  const Kernel* best = nullptr;
  for (const Kernel& k : base64::kernels())
    if (best == nullptr && cpu::supports(k.required)) best = &k;
  ASSERT_NE(best, nullptr);
  const std::string previous = base64::active().name;
  ASSERT_TRUE(base64::force(best->name));  // undo any force() an earlier test left behind
  EXPECT_STREQ(base64::active().name, best->name);
  ASSERT_TRUE(base64::force(previous));
}

TEST(Base64Dispatch, ForceRejectsUnknownNamesAndKeepsTheChoice) {
  const Kernel* before = &base64::active();
  for (const std::string_view name : {"", "neon", "AVX2", "avx2 ", "scalar2", "sca"}) {
    EXPECT_FALSE(base64::force(name)) << name;
    EXPECT_EQ(&base64::active(), before);
  }
}

TEST(Base64Dispatch, ForceSelectsEachSupportedKernelOnly) {
  const std::string previous = base64::active().name;
  for (const Kernel& k : base64::kernels()) {
    const bool supported = cpu::supports(k.required);
    EXPECT_EQ(base64::force(k.name), supported) << k.name;
    if (!supported) continue;
    EXPECT_EQ(&base64::active(), &k);
    char out[8];
    const std::uint8_t in[] = {'f', 'o', 'o', 'b', 'a'};
    ASSERT_EQ(base64::encode(in, sizeof in, out), 8u);
    EXPECT_EQ(std::string_view(out, 8), "Zm9vYmE=");
    std::uint8_t back[5];
    EXPECT_EQ(show(base64::decode(out, 8, back)), "ok 5");
  }
  ASSERT_TRUE(base64::force(previous));
}

}  // namespace
